"""The e-mail tasks: each loads nothing itself, calls one function of popup.notifications.messages
and retries while the mail server is down (each message is still sent once, whatever the retries)."""

import smtplib

from celery import shared_task

EMAIL_RETRY = {
    "autoretry_for": (smtplib.SMTPException, OSError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 10,
}


@shared_task(name="popup.tasks.send_product_alerts", acks_late=True)
def send_product_alerts(product_id: int) -> None:
    from popup.notifications.messages import product_alerts_send

    product_alerts_send(product_id=product_id)


@shared_task(name="popup.tasks.order_placed_email_send", acks_late=True, **EMAIL_RETRY)
def order_placed_email_send(order_id: int) -> None:
    from popup.notifications.messages import order_placed_email

    order_placed_email(order_id=order_id)


@shared_task(name="popup.tasks.checkout_lost_email_send", acks_late=True, **EMAIL_RETRY)
def checkout_lost_email_send(basket_id: int, reason: str) -> None:
    from popup.notifications.messages import checkout_lost_email

    checkout_lost_email(basket_id=basket_id, reason=reason)


@shared_task(name="popup.tasks.pledge_email_send", acks_late=True, **EMAIL_RETRY)
def pledge_email_send(pledge_id: int, kind: str) -> None:
    from popup.notifications.messages import pledge_email

    pledge_email(pledge_id=pledge_id, kind=kind)


@shared_task(name="popup.tasks.waitlist_confirmation_email_send", acks_late=True, **EMAIL_RETRY)
def waitlist_confirmation_email_send(alert_id: int) -> None:
    from popup.notifications.messages import waitlist_confirmation_email

    waitlist_confirmation_email(alert_id=alert_id)


@shared_task(name="popup.tasks.waitlist_opening_email_send", acks_late=True, **EMAIL_RETRY)
def waitlist_opening_email_send(alert_id: int, popup_id: int) -> None:
    from popup.notifications.messages import waitlist_opening_email

    waitlist_opening_email(alert_id=alert_id, popup_id=popup_id)


@shared_task(name="popup.tasks.question_answered_email_send", acks_late=True, **EMAIL_RETRY)
def question_answered_email_send(question_id: int) -> None:
    from popup.notifications.messages import question_answered_email

    question_answered_email(question_id=question_id)


@shared_task(name="popup.tasks.idea_shipped_email_send", acks_late=True, **EMAIL_RETRY)
def idea_shipped_email_send(idea_id: int) -> int:
    from popup.notifications.messages import idea_shipped_emails

    return idea_shipped_emails(idea_id=idea_id)


@shared_task(name="popup.tasks.idea_updates_confirmation_send", acks_late=True, **EMAIL_RETRY)
def idea_updates_confirmation_send(consent_id: int) -> None:
    from popup.notifications.messages import idea_updates_confirmation_email

    idea_updates_confirmation_email(consent_id=consent_id)


@shared_task(name="popup.tasks.review_invite_email_send", acks_late=True, **EMAIL_RETRY)
def review_invite_email_send(invite_id: int) -> None:
    from popup.notifications.messages import review_invite_email

    review_invite_email(invite_id=invite_id)


@shared_task(name="popup.tasks.poll_vote_confirmation_send", acks_late=True, **EMAIL_RETRY)
def poll_vote_confirmation_send(vote_id: int) -> None:
    from popup.notifications.messages import poll_vote_confirmation_email

    poll_vote_confirmation_email(vote_id=vote_id)


@shared_task(name="popup.tasks.ambassador_invite_email_send", acks_late=True, **EMAIL_RETRY)
def ambassador_invite_email_send(ambassador_id: int, placement_id: int) -> None:
    from popup.notifications.messages import ambassador_invite_email

    ambassador_invite_email(ambassador_id=ambassador_id, placement_id=placement_id)
