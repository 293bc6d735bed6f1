from celery import shared_task

from popup.notifications.tasks import review_invite_email_send


@shared_task(name="popup.tasks.popup_openings_announce_run", acks_late=True)
def popup_openings_announce_run() -> int:
    """Tell the waitlists of pop-ups that just opened (every minute, from the beat schedule)."""
    from popup.feedback.waitlist import popup_openings_announce

    return popup_openings_announce()


@shared_task(name="popup.tasks.review_invites_send", acks_late=True)
def review_invites_send() -> int:
    """Invite the buyers of pop-up orders placed POPUP_REVIEW_REQUEST_DAYS ago (hourly)."""
    from popup.feedback.reviews import review_invites_due

    invite_ids = review_invites_due()
    for invite_id in invite_ids:
        review_invite_email_send.delay(invite_id)
    return len(invite_ids)
