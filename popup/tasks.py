import smtplib

from celery import shared_task
from oscar.core.loading import get_class, get_model

from .conf import site_url

# E-mail tasks retry while the mail server is down or refuses for now; each message is still sent
# once, whatever the retries (popup.services.emails records it before sending).
EMAIL_RETRY = {
    "autoretry_for": (smtplib.SMTPException, OSError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 10,
}


@shared_task(name="popup.tasks.send_product_alerts", acks_late=True)
def send_product_alerts(product_id: int) -> None:
    """Email the customers waiting for this product; Oscar's dispatcher skips alerts already sent."""
    Product = get_model("catalogue", "Product")
    AlertsDispatcher = get_class("customer.alerts.utils", "AlertsDispatcher")
    product = Product.objects.filter(pk=product_id).first()
    if product is not None:
        AlertsDispatcher().send_product_alert_email_for_user(product)


@shared_task(name="popup.tasks.holds_tidy")
def holds_tidy() -> int:
    """Delete long-expired hold rows. Availability never waits for this: expiry is in the queries."""
    from .services.holds import holds_delete_expired

    return holds_delete_expired()


@shared_task(name="popup.tasks.order_placed_email_send", acks_late=True, **EMAIL_RETRY)
def order_placed_email_send(order_id: int) -> None:
    """Send Oscar's order confirmation for this order, once."""
    Order = get_model("order", "Order")
    OrderDispatcher = get_class("order.utils", "OrderDispatcher")
    order = Order.objects.filter(pk=order_id).first()
    if order is None or order.communication_events.filter(event_type__code="ORDER_PLACED").exists():
        return
    OrderDispatcher().send_order_placed_email_for_user(
        order, {"order": order, "lines": order.lines.all()}
    )


@shared_task(name="popup.tasks.checkout_lost_email_send", acks_late=True, **EMAIL_RETRY)
def checkout_lost_email_send(basket_id: int, reason: str) -> None:
    """Tell a shopper whose paid-for units were lost that nothing was charged."""
    from .models import PopUpBasket
    from .services.emails import email_send_once

    basket = PopUpBasket.objects.select_related("popup").filter(pk=basket_id).first()
    if basket is None or not basket.email:
        return
    email_send_once(
        key=f"checkout_lost:{basket.pk}:{basket.payment_intent_id}",
        code="POPUP_CHECKOUT_LOST",
        to=basket.email,
        context={"basket": basket, "popup": basket.popup, "reason": reason},
    )


@shared_task(name="popup.tasks.presales_sweep", acks_late=True)
def presales_sweep() -> int:
    """Settle every all-or-nothing pre-sale that has something to do now; runs every minute."""
    from django.db.models import Q
    from django.utils import timezone

    from .models import Pledge, PopUp

    now = timezone.now()
    undecided = Q(presale_outcome=PopUp.Outcome.OPEN) & (
        Q(closes_at__lte=now) | Q(presale_charge_when=PopUp.ChargeWhen.GOAL)
    )
    unfinished = Q(presale_outcome=PopUp.Outcome.FUNDED) & Q(pledges__status__in=Pledge.ACTIVE)
    popups = PopUp.objects.filter(
        Q(kind=PopUp.Kind.PRESALE, presale_funding=PopUp.Funding.ALL_OR_NOTHING)
        & (undecided | unfinished)
    ).distinct()
    ids = list(popups.values_list("pk", flat=True))
    for popup_id in ids:
        presale_settle_run.delay(popup_id)
    return len(ids)


@shared_task(name="popup.tasks.presale_settle_run", acks_late=True)
def presale_settle_run(popup_id: int, early: bool = False) -> int:
    """Decide the pre-sale's outcome if it can be, then queue one charge task per pledge due."""
    from .models import PopUp
    from .services.pledges import presale_settle

    popup = PopUp.objects.filter(pk=popup_id).first()
    if popup is None:
        return 0
    settlement = presale_settle(popup=popup, early=early)
    for pledge_id in settlement.pledges_due:
        pledge_charge_run.delay(pledge_id)
    return len(settlement.pledges_due)


@shared_task(name="popup.tasks.pledge_charge_run", acks_late=True)
def pledge_charge_run(pledge_id: int) -> str:
    """Charge one pledge (idempotent: a paid, charging or waiting pledge is left alone)."""
    from .services.pledges import pledge_charge

    return pledge_charge(pledge_id=pledge_id).status


@shared_task(name="popup.tasks.pledge_email_send", acks_late=True, **EMAIL_RETRY)
def pledge_email_send(pledge_id: int, kind: str) -> None:
    """Tell the backer what happened to their pledge, with the link to see and manage it."""
    from .models import Pledge

    if kind == "launched":
        _launch_email_send_once(pledge_id)
        return
    pledge = Pledge.objects.select_related("popup").filter(pk=pledge_id).first()
    if pledge is None:
        return
    _pledge_email(pledge, kind)


LAUNCH_EMAIL_NOTE = "Launch e-mail sent"


def _launch_email_send_once(pledge_id: int) -> None:
    # Sent once per pledge (popup.services.emails), then recorded as a PledgeEvent under the
    # pledge's row lock: "notify backers" skips the pledges that have it, and a repeated message
    # or a retry after a failed send sends nothing more.
    from django.db import transaction

    from .models import Pledge, PledgeEvent

    pledge = (
        Pledge.objects.select_related("popup")
        .filter(pk=pledge_id, status=Pledge.Status.PAID)
        .first()
    )
    if pledge is None or pledge.events.filter(note=LAUNCH_EMAIL_NOTE).exists():
        return
    _pledge_email(pledge, "launched")
    with transaction.atomic():
        pledge = Pledge.objects.select_for_update(of=("self",)).get(pk=pledge_id)
        if not pledge.events.filter(note=LAUNCH_EMAIL_NOTE).exists():
            PledgeEvent.objects.create(
                pledge=pledge,
                status_from=pledge.status,
                status_to=pledge.status,
                note=LAUNCH_EMAIL_NOTE,
            )


def _pledge_email(pledge, kind: str) -> bool:
    from django.urls import reverse

    from .models import Pledge
    from .services.emails import email_send_once

    key = f"pledge_{kind}:{pledge.pk}"
    if kind == "failed":
        # A charge can fail again on each retry: one e-mail per failure, keyed by its event.
        failures = pledge.events.filter(
            status_to__in=(Pledge.Status.FAILED, Pledge.Status.RETRYING)
        )
        failure = failures.order_by("-pk").first()
        occasion = failure.pk if failure else f"attempt-{pledge.attempts}"
        key = f"{key}:{occasion}"
    path = reverse("popup:pledge", kwargs={"token": pledge.token})
    context = {
        "pledge": pledge,
        "popup": pledge.popup,
        "lines": pledge.lines.select_related("terms__product"),
        "manage_url": f"{site_url()}{path}",
        "popup_url": f"{site_url()}{pledge.popup.get_absolute_url()}",
    }
    return email_send_once(
        key=key, code=f"POPUP_PLEDGE_{kind.upper()}", to=pledge.email, context=context
    )


@shared_task(name="popup.tasks.popup_openings_announce_run", acks_late=True)
def popup_openings_announce_run() -> int:
    """Tell the waitlists of pop-ups that just opened (every minute, from the beat schedule)."""
    from .services.waitlist import popup_openings_announce

    return popup_openings_announce()


def _waitlist_email(alert, popup, kind: str, *, key: str) -> bool:

    from .services.emails import email_send_once

    site = site_url()
    context = {
        "alert": alert,
        "product": alert.product,
        "popup": popup,
        "confirm_url": f"{site}{alert.get_confirm_url()}",
        "cancel_url": f"{site}{alert.get_cancel_url()}",
        "popup_url": f"{site}{popup.get_absolute_url()}" if popup else site,
    }
    return email_send_once(
        key=key, code=f"POPUP_WAITLIST_{kind.upper()}", to=alert.email, context=context
    )


@shared_task(name="popup.tasks.waitlist_confirmation_email_send", acks_late=True, **EMAIL_RETRY)
def waitlist_confirmation_email_send(alert_id: int) -> None:
    """Ask a new waitlist address to confirm itself (Oscar's confirm page), once."""
    ProductAlert = get_model("customer", "ProductAlert")
    alert = ProductAlert.objects.select_related("product").filter(pk=alert_id).first()
    if alert is None or alert.status != ProductAlert.UNCONFIRMED:
        return
    popup = alert.product.popup_terms.select_related("popup").order_by("-popup__opens_at").first()
    _waitlist_email(
        alert, popup.popup if popup else None, "confirm", key=f"waitlist_confirm:{alert.pk}"
    )


@shared_task(name="popup.tasks.waitlist_opening_email_send", acks_late=True, **EMAIL_RETRY)
def waitlist_opening_email_send(alert_id: int, popup_id: int) -> None:
    """Tell one confirmed waitlist address that the drop is open, then close the alert: once."""
    from django.utils import timezone

    from .models import PopUp

    ProductAlert = get_model("customer", "ProductAlert")
    alert = (
        ProductAlert.objects.select_related("product")
        .filter(pk=alert_id, status=ProductAlert.ACTIVE)
        .first()
    )
    popup = PopUp.objects.filter(pk=popup_id).first()
    if alert is None or popup is None:
        return
    _waitlist_email(alert, popup, "opened", key=f"waitlist_opened:{alert.pk}:{popup.pk}")
    ProductAlert.objects.filter(pk=alert.pk, status=ProductAlert.ACTIVE).update(
        status=ProductAlert.CLOSED, date_closed=timezone.now()
    )


@shared_task(name="popup.tasks.question_answered_email_send", acks_late=True, **EMAIL_RETRY)
def question_answered_email_send(question_id: int) -> None:
    """Send the asker the merchant's answer, with the link to the pop-up where it is shown."""
    from django.conf import settings

    from .models import Question
    from .services.emails import email_send_once

    question = Question.objects.select_related("popup").filter(pk=question_id).first()
    if question is None or not question.answer:
        return
    site = site_url()
    context = {
        "question": question,
        "popup": question.popup,
        "popup_url": f"{site}{question.popup.get_absolute_url()}",
        "shop_name": settings.OSCAR_SHOP_NAME,
    }
    email_send_once(
        key=f"question_answered:{question.pk}",
        code="POPUP_QUESTION_ANSWERED",
        to=question.email,
        context=context,
    )


@shared_task(name="popup.tasks.idea_shipped_email_send", acks_late=True, **EMAIL_RETRY)
def idea_shipped_email_send(idea_id: int) -> int:
    """Tell everyone who voted for an idea that it shipped; each voter once, even if run again."""
    from django.conf import settings
    from django.utils import timezone

    from .models import Idea, IdeaVote
    from .services.emails import email_send_once

    idea = Idea.objects.select_related("popup").filter(pk=idea_id).first()
    if idea is None:
        return 0
    context = {
        "idea": idea,
        "popup": idea.popup,
        "popup_url": f"{site_url()}{idea.popup.get_absolute_url()}",
        "shop_name": settings.OSCAR_SHOP_NAME,
    }
    sent = 0
    for vote in idea.idea_votes.filter(notified_at__isnull=True).order_by("pk"):
        sent += email_send_once(
            key=f"idea_shipped:{vote.pk}",
            code="POPUP_IDEA_SHIPPED",
            to=vote.email,
            context=context,
        )
        IdeaVote.objects.filter(pk=vote.pk, notified_at__isnull=True).update(
            notified_at=timezone.now()
        )
    return sent


@shared_task(name="popup.tasks.review_invites_send", acks_late=True)
def review_invites_send() -> int:
    """Invite the buyers of pop-up orders placed POPUP_REVIEW_REQUEST_DAYS ago (hourly)."""
    from .services.reviews import review_invites_due

    invite_ids = review_invites_due()
    for invite_id in invite_ids:
        review_invite_email_send.delay(invite_id)
    return len(invite_ids)


@shared_task(name="popup.tasks.review_invite_email_send", acks_late=True, **EMAIL_RETRY)
def review_invite_email_send(invite_id: int) -> None:
    """E-mail one buyer the link to review what they bought, once."""
    from django.conf import settings
    from django.urls import reverse
    from django.utils import timezone

    from .models import ReviewInvite
    from .services.emails import email_send_once

    invite = (
        ReviewInvite.objects.select_related("order", "popup")
        .filter(pk=invite_id, sent_at__isnull=True)
        .first()
    )
    if invite is None:
        return
    path = reverse("popup:review", kwargs={"token": invite.token})
    context = {
        "invite": invite,
        "order": invite.order,
        "popup": invite.popup,
        "lines": invite.order.lines.all(),
        "review_url": f"{site_url()}{path}",
        "shop_name": settings.OSCAR_SHOP_NAME,
    }
    email_send_once(
        key=f"review_invite:{invite.pk}",
        code="POPUP_REVIEW_INVITE",
        to=invite.order.guest_email,
        context=context,
    )
    ReviewInvite.objects.filter(pk=invite.pk, sent_at__isnull=True).update(sent_at=timezone.now())


@shared_task(name="popup.tasks.poll_vote_confirmation_send", acks_late=True, **EMAIL_RETRY)
def poll_vote_confirmation_send(vote_id: int) -> None:
    """Ask a voter to confirm their address: the vote counts once they do."""
    from django.urls import reverse

    from .models import PollVote
    from .services.emails import email_send_once

    vote = PollVote.objects.select_related("poll__popup", "option").filter(pk=vote_id).first()
    if vote is None or vote.confirmed_at is not None:
        return
    path = reverse("popup:poll-vote-confirm", kwargs={"token": vote.token})
    context = {
        "vote": vote,
        "poll": vote.poll,
        "popup": vote.poll.popup,
        "confirm_url": f"{site_url()}{path}",
    }
    email_send_once(
        key=f"poll_vote:{vote.pk}", code="POPUP_POLL_VOTE", to=vote.email, context=context
    )


@shared_task(name="popup.tasks.stats_flush_run")
def stats_flush_run() -> int:
    """Move the funnel counts from Redis into the database (every minute, from the beat schedule)."""
    from .services.stats import stats_flush

    return stats_flush()


@shared_task(name="popup.tasks.ambassador_invite_email_send", acks_late=True, **EMAIL_RETRY)
def ambassador_invite_email_send(ambassador_id: int, placement_id: int) -> None:
    """Send an ambassador their link, code and private stats page for one pop-up."""
    from django.conf import settings

    from .models import Placement
    from .services.emails import email_send_once

    placement = (
        Placement.objects.select_related("popup", "ambassador")
        .filter(pk=placement_id, ambassador_id=ambassador_id)
        .first()
    )
    if placement is None or not placement.ambassador.is_active:
        return
    ambassador = placement.ambassador
    site = site_url()
    context = {
        "ambassador": ambassador,
        "popup": placement.popup,
        "link": f"{site}{placement.get_absolute_url()}",
        "page_url": f"{site}{ambassador.get_absolute_url()}",
        "shop_name": settings.OSCAR_SHOP_NAME,
    }
    # Each invitation is a message of its own: inviting them again (invited_at moves) sends again.
    invited = ambassador.invited_at.isoformat() if ambassador.invited_at else ""
    email_send_once(
        key=f"ambassador_invite:{placement.pk}:{invited}",
        code="POPUP_AMBASSADOR_INVITE",
        to=ambassador.email,
        context=context,
    )
