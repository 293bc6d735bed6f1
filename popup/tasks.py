from celery import shared_task
from oscar.core.loading import get_class, get_model


def _email_send(*, template: str, context: dict, to: str) -> None:
    """Send popup/emails/<template>_subject.txt and _body.txt, rendered with `context`, to `to`."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.template.loader import render_to_string

    send_mail(
        subject=render_to_string(f"popup/emails/{template}_subject.txt", context).strip(),
        message=render_to_string(f"popup/emails/{template}_body.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[to],
    )


@shared_task(acks_late=True)
def send_product_alerts(product_id: int) -> None:
    """Email the customers waiting for this product; Oscar's dispatcher skips alerts already sent."""
    Product = get_model("catalogue", "Product")
    AlertsDispatcher = get_class("customer.alerts.utils", "AlertsDispatcher")
    product = Product.objects.filter(pk=product_id).first()
    if product is not None:
        AlertsDispatcher().send_product_alert_email_for_user(product)


@shared_task
def holds_tidy() -> int:
    """Delete long-expired hold rows. Availability never waits for this: expiry is in the queries."""
    from .services.holds import holds_delete_expired

    return holds_delete_expired()


@shared_task(acks_late=True)
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


@shared_task(acks_late=True)
def checkout_lost_email_send(basket_id: int, reason: str) -> None:
    """Tell a shopper whose paid-for units were lost that nothing was charged."""

    from .models import PopUpBasket

    basket = PopUpBasket.objects.select_related("popup").filter(pk=basket_id).first()
    if basket is None or not basket.email:
        return
    context = {"basket": basket, "popup": basket.popup, "reason": reason}
    _email_send(template="checkout_lost", context=context, to=basket.email)


@shared_task(acks_late=True)
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


@shared_task(acks_late=True)
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


@shared_task(acks_late=True)
def pledge_charge_run(pledge_id: int) -> str:
    """Charge one pledge (idempotent: a paid, charging or waiting pledge is left alone)."""
    from .services.pledges import pledge_charge

    return pledge_charge(pledge_id=pledge_id).status


@shared_task(acks_late=True)
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
    # Under the pledge's row lock, recorded once sent: a repeated message or a second click on
    # "notify backers" sends nothing more, and a failed send is retried rather than forgotten.
    from django.db import transaction

    from .models import Pledge, PledgeEvent

    with transaction.atomic():
        pledge = Pledge.objects.select_for_update(of=("self",)).select_related("popup")
        pledge = pledge.filter(pk=pledge_id, status=Pledge.Status.PAID).first()
        if pledge is None or pledge.events.filter(note=LAUNCH_EMAIL_NOTE).exists():
            return
        _pledge_email(pledge, "launched")
        PledgeEvent.objects.create(
            pledge=pledge,
            status_from=pledge.status,
            status_to=pledge.status,
            note=LAUNCH_EMAIL_NOTE,
        )


def _pledge_email(pledge, kind: str) -> None:
    from django.conf import settings
    from django.urls import reverse

    path = reverse("popup:pledge", kwargs={"token": pledge.token})
    context = {
        "pledge": pledge,
        "popup": pledge.popup,
        "lines": pledge.lines.select_related("terms__product"),
        "manage_url": f"{settings.POPUP_SITE_URL}{path}",
        "popup_url": f"{settings.POPUP_SITE_URL}{pledge.popup.get_absolute_url()}",
    }
    _email_send(template=f"pledge_{kind}", context=context, to=pledge.email)


@shared_task(acks_late=True)
def popup_openings_announce_run() -> int:
    """Tell the waitlists of pop-ups that just opened (every minute, from the beat schedule)."""
    from .services.waitlist import popup_openings_announce

    return popup_openings_announce()


def _waitlist_email(alert, popup, kind: str) -> None:
    from django.conf import settings

    site = settings.POPUP_SITE_URL
    context = {
        "alert": alert,
        "product": alert.product,
        "popup": popup,
        "confirm_url": f"{site}{alert.get_confirm_url()}",
        "cancel_url": f"{site}{alert.get_cancel_url()}",
        "popup_url": f"{site}{popup.get_absolute_url()}" if popup else site,
    }
    _email_send(template=f"waitlist_{kind}", context=context, to=alert.email)


@shared_task(acks_late=True)
def waitlist_confirmation_email_send(alert_id: int) -> None:
    """Ask a new waitlist address to confirm itself (Oscar's confirm page), once."""
    ProductAlert = get_model("customer", "ProductAlert")
    alert = ProductAlert.objects.select_related("product").filter(pk=alert_id).first()
    if alert is None or alert.status != ProductAlert.UNCONFIRMED:
        return
    popup = alert.product.popup_terms.select_related("popup").order_by("-popup__opens_at").first()
    _waitlist_email(alert, popup.popup if popup else None, "confirm")


@shared_task(acks_late=True)
def waitlist_opening_email_send(alert_id: int, popup_id: int) -> None:
    """Tell one confirmed waitlist address that the drop is open, then close the alert: once."""
    from django.db import transaction
    from django.utils import timezone

    from .models import PopUp

    ProductAlert = get_model("customer", "ProductAlert")
    with transaction.atomic():
        alert = (
            ProductAlert.objects.select_for_update(of=("self",))
            .select_related("product")
            .filter(pk=alert_id, status=ProductAlert.ACTIVE)
            .first()
        )
        popup = PopUp.objects.filter(pk=popup_id).first()
        if alert is None or popup is None:
            return
        _waitlist_email(alert, popup, "opened")
        alert.status, alert.date_closed = ProductAlert.CLOSED, timezone.now()
        alert.save(update_fields=["status", "date_closed"])


@shared_task(acks_late=True)
def question_answered_email_send(question_id: int) -> None:
    """Send the asker the merchant's answer, with the link to the pop-up where it is shown."""
    from django.conf import settings

    from .models import Question

    question = Question.objects.select_related("popup").filter(pk=question_id).first()
    if question is None or not question.answer:
        return
    site = settings.POPUP_SITE_URL
    context = {
        "question": question,
        "popup": question.popup,
        "popup_url": f"{site}{question.popup.get_absolute_url()}",
        "shop_name": settings.OSCAR_SHOP_NAME,
    }
    _email_send(template="question_answered", context=context, to=question.email)


@shared_task(acks_late=True)
def idea_shipped_email_send(idea_id: int) -> int:
    """Tell everyone who voted for an idea that it shipped; each voter once, even if run again."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.db import transaction
    from django.template.loader import render_to_string
    from django.utils import timezone

    from .models import Idea, IdeaVote

    idea = Idea.objects.select_related("popup").filter(pk=idea_id).first()
    if idea is None:
        return 0
    context = {
        "idea": idea,
        "popup": idea.popup,
        "popup_url": f"{settings.POPUP_SITE_URL}{idea.popup.get_absolute_url()}",
        "shop_name": settings.OSCAR_SHOP_NAME,
    }
    subject = render_to_string("popup/emails/idea_shipped_subject.txt", context).strip()
    message = render_to_string("popup/emails/idea_shipped_body.txt", context)
    sent = 0
    for vote_id in idea.idea_votes.filter(notified_at__isnull=True).values_list("pk", flat=True):
        with transaction.atomic():
            vote = (
                IdeaVote.objects.select_for_update(skip_locked=True)
                .filter(pk=vote_id, notified_at__isnull=True)
                .first()
            )
            if vote is None:
                continue
            send_mail(subject, message, settings.DEFAULT_FROM_EMAIL, [vote.email])
            vote.notified_at = timezone.now()
            vote.save(update_fields=["notified_at"])
            sent += 1
    return sent


@shared_task(acks_late=True)
def review_invites_send() -> int:
    """Invite the buyers of pop-up orders placed POPUP_REVIEW_REQUEST_DAYS ago (hourly)."""
    from .services.reviews import review_invites_due

    invite_ids = review_invites_due()
    for invite_id in invite_ids:
        review_invite_email_send.delay(invite_id)
    return len(invite_ids)


@shared_task(acks_late=True)
def review_invite_email_send(invite_id: int) -> None:
    """E-mail one buyer the link to review what they bought, once."""
    from django.conf import settings
    from django.db import transaction
    from django.urls import reverse
    from django.utils import timezone

    from .models import ReviewInvite

    with transaction.atomic():
        invite = (
            ReviewInvite.objects.select_for_update(of=("self",))
            .select_related("order", "popup")
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
            "review_url": f"{settings.POPUP_SITE_URL}{path}",
            "shop_name": settings.OSCAR_SHOP_NAME,
        }
        _email_send(template="review_invite", context=context, to=invite.order.guest_email)
        invite.sent_at = timezone.now()
        invite.save(update_fields=["sent_at"])


@shared_task(acks_late=True)
def poll_vote_confirmation_send(vote_id: int) -> None:
    """Ask a voter to confirm their address: the vote counts once they do."""
    from django.conf import settings
    from django.urls import reverse

    from .models import PollVote

    vote = PollVote.objects.select_related("poll__popup", "option").filter(pk=vote_id).first()
    if vote is None or vote.confirmed_at is not None:
        return
    path = reverse("popup:poll-vote-confirm", kwargs={"token": vote.token})
    context = {
        "vote": vote,
        "poll": vote.poll,
        "popup": vote.poll.popup,
        "confirm_url": f"{settings.POPUP_SITE_URL}{path}",
    }
    _email_send(template="poll_vote", context=context, to=vote.email)


@shared_task
def stats_flush_run() -> int:
    """Move the funnel counts from Redis into the database (every minute, from the beat schedule)."""
    from .services.stats import stats_flush

    return stats_flush()


@shared_task(acks_late=True)
def ambassador_invite_email_send(ambassador_id: int, placement_id: int) -> None:
    """Send an ambassador their link, code and private stats page for one pop-up."""
    from django.conf import settings

    from .models import Placement

    placement = (
        Placement.objects.select_related("popup", "ambassador")
        .filter(pk=placement_id, ambassador_id=ambassador_id)
        .first()
    )
    if placement is None or not placement.ambassador.is_active:
        return
    site = settings.POPUP_SITE_URL
    context = {
        "ambassador": placement.ambassador,
        "popup": placement.popup,
        "link": f"{site}{placement.get_absolute_url()}",
        "page_url": f"{site}{placement.ambassador.get_absolute_url()}",
        "shop_name": settings.OSCAR_SHOP_NAME,
    }
    _email_send(template="ambassador_invite", context=context, to=placement.ambassador.email)
