"""Who is told what, and when: each of the plugin's e-mails built from the rows it is about.

Every function loads its rows by id, returns quietly when there is nothing (or nothing more) to send,
and sends through popup.notifications.emails, which records each message before it is handed to
the mail server: a function run twice for the same occasion sends once.
"""

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from oscar.core.loading import get_class, get_model

from popup.checkout.withdrawal import products_made_to_order, withdrawal_info
from popup.conf import site_url
from popup.models import (
    AlertLanguage,
    Consent,
    Idea,
    IdeaVote,
    Placement,
    Pledge,
    PledgeEvent,
    PollVote,
    PopUp,
    PopUpBasket,
    Question,
    ReviewInvite,
)
from popup.notifications.emails import email_send_once

Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")
ProductAlert = get_model("customer", "ProductAlert")
AlertsDispatcher = get_class("customer.alerts.utils", "AlertsDispatcher")

LAUNCH_EMAIL_NOTE = "Launch e-mail sent"


def _link(path: str, language: str) -> str:
    """The store's absolute URL of a path, asking its page for the recipient's language."""
    query = f"?{urlencode({'lang': language})}" if language else ""
    return f"{site_url()}{path}{query}"


def product_alerts_send(*, product_id: int) -> None:
    """Email the customers waiting for this product; Oscar's dispatcher skips alerts already sent."""
    product = Product.objects.filter(pk=product_id).first()
    if product is not None:
        AlertsDispatcher().send_product_alert_email_for_user(product)


def order_placed_email(*, order_id: int) -> None:
    """Send Oscar's order confirmation (its ORDER_PLACED messages) for this order, once.

    Pop-up orders are guests' orders, for which Oscar records no CommunicationEvent: the message's
    own record (popup.notifications.emails) is what keeps a redelivered task from sending it again.
    """
    order = Order.objects.filter(pk=order_id).first()
    if order is None or not order.email:
        return
    basket = PopUpBasket.objects.select_related("popup").filter(order=order).first()
    pledge = None if basket else Pledge.objects.select_related("popup").filter(order=order).first()
    record = basket or pledge
    language = record.language if record is not None else ""
    context = {"order": order, "lines": order.lines.all()}
    if record is not None:
        # The confirmation on a durable medium the EU asks for (Directive 2011/83/EU, art. 8(7)):
        # the terms, the withdrawal information and its form, and for a pre-order its ship date.
        context |= {
            "popup": record.popup,
            "withdrawal": withdrawal_info(language=language, absolute=True),
            "made_to_order": [
                product.get_title()
                for product in products_made_to_order(
                    products=[line.product for line in order.lines.all() if line.product_id]
                )
            ],
        }
    email_send_once(
        key=f"order_placed:{order.pk}",
        code="ORDER_PLACED",
        to=order.email,
        context=context,
        language=language or None,
        appendix="popup/withdrawal/confirmation" if record is not None else "",
    )


def checkout_lost_email(*, basket_id: int, reason: str) -> None:
    """Tell a shopper whose paid-for units were lost that nothing was charged."""
    basket = PopUpBasket.objects.select_related("popup").filter(pk=basket_id).first()
    if basket is None or not basket.email:
        return
    email_send_once(
        key=f"checkout_lost:{basket.pk}:{basket.payment_intent_id}",
        code="POPUP_CHECKOUT_LOST",
        to=basket.email,
        context={"basket": basket, "popup": basket.popup, "reason": reason},
        language=basket.language,
    )


def pledge_email(*, pledge_id: int, kind: str) -> None:
    """Tell the backer what happened to their pledge, with the link to see and manage it."""
    if kind == "launched":
        _launch_email_once(pledge_id)
        return
    pledge = Pledge.objects.select_related("popup").filter(pk=pledge_id).first()
    if pledge is not None:
        _pledge_email(pledge, kind)


def _launch_email_once(pledge_id: int) -> None:
    # Sent once per pledge (popup.notifications.emails), then recorded as a PledgeEvent under the
    # pledge's row lock: "notify backers" skips the pledges that have it, and a repeated message
    # or a retry after a failed send sends nothing more.
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


def _pledge_email(pledge: Pledge, kind: str) -> bool:
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
    language = pledge.language
    context = {
        "pledge": pledge,
        "popup": pledge.popup,
        "lines": pledge.lines.select_related("terms__product"),
        "manage_url": _link(path, language),
        "popup_url": _link(pledge.popup.get_absolute_url(), language),
    }
    return email_send_once(
        key=key,
        code=f"POPUP_PLEDGE_{kind.upper()}",
        to=pledge.email,
        context=context,
        language=language,
    )


def _waitlist_email(alert, popup: PopUp | None, kind: str, *, key: str) -> bool:
    site = site_url()
    recorded = AlertLanguage.objects.filter(alert=alert).values_list("language", flat=True)
    language = recorded.first() or ""
    context = {
        "alert": alert,
        "product": alert.product,
        "popup": popup,
        "confirm_url": f"{site}{alert.get_confirm_url()}",
        "cancel_url": f"{site}{alert.get_cancel_url()}",
        "popup_url": _link(popup.get_absolute_url(), language) if popup else site,
    }
    return email_send_once(
        key=key,
        code=f"POPUP_WAITLIST_{kind.upper()}",
        to=alert.email,
        context=context,
        language=language,
    )


def waitlist_confirmation_email(*, alert_id: int) -> None:
    """Ask a new waitlist address to confirm itself (Oscar's confirm page), once."""
    alert = ProductAlert.objects.select_related("product").filter(pk=alert_id).first()
    if alert is None or alert.status != ProductAlert.UNCONFIRMED:
        return
    terms = alert.product.popup_terms.select_related("popup").order_by("-popup__opens_at").first()
    _waitlist_email(
        alert, terms.popup if terms else None, "confirm", key=f"waitlist_confirm:{alert.pk}"
    )


def waitlist_opening_email(*, alert_id: int, popup_id: int) -> None:
    """Tell one confirmed waitlist address that the drop is open, then close the alert: once."""
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


def question_answered_email(*, question_id: int) -> None:
    """Send the asker the merchant's answer, with the link to the pop-up where it is shown."""
    question = Question.objects.select_related("popup").filter(pk=question_id).first()
    if question is None or not question.answer:
        return
    context = {
        "question": question,
        "popup": question.popup,
        "popup_url": _link(question.popup.get_absolute_url(), question.language),
        "shop_name": settings.OSCAR_SHOP_NAME,
    }
    email_send_once(
        key=f"question_answered:{question.pk}",
        code="POPUP_QUESTION_ANSWERED",
        to=question.email,
        context=context,
        language=question.language,
    )


def idea_shipped_emails(*, idea_id: int) -> int:
    """Tell everyone who voted for an idea that it shipped; each voter once, even if run again."""
    idea = Idea.objects.select_related("popup").filter(pk=idea_id).first()
    if idea is None:
        return 0
    sent = 0
    # Only to those who confirmed they want to hear (double opt-in), and have not said stop.
    listening = {
        consent.email.lower(): consent
        for consent in Consent.objects.filter(
            purpose=Consent.Purpose.IDEA_UPDATES,
            popup=idea.popup,
            confirmed_at__isnull=False,
            withdrawn_at__isnull=True,
        )
    }
    for vote in idea.idea_votes.filter(notified_at__isnull=True).order_by("pk"):
        consent = listening.get(vote.email.lower())
        if consent is None:
            continue
        stop = reverse("popup:consent-stop", kwargs={"token": consent.token})
        context = {
            "idea": idea,
            "popup": idea.popup,
            "popup_url": _link(idea.popup.get_absolute_url(), vote.language),
            "stop_url": _link(stop, vote.language),
            "shop_name": settings.OSCAR_SHOP_NAME,
        }
        sent += email_send_once(
            key=f"idea_shipped:{vote.pk}",
            code="POPUP_IDEA_SHIPPED",
            to=vote.email,
            context=context,
            language=vote.language,
        )
        IdeaVote.objects.filter(pk=vote.pk, notified_at__isnull=True).update(
            notified_at=timezone.now()
        )
    return sent


def idea_updates_confirmation_email(*, consent_id: int) -> None:
    """Ask a voter, once, to confirm they want to hear when the pop-up's ideas are done."""
    consent = Consent.objects.select_related("popup").filter(pk=consent_id).first()
    if consent is None or consent.popup is None or consent.confirmed_at or consent.withdrawn_at:
        return
    path = reverse("popup:consent-confirm", kwargs={"token": consent.token})
    email_send_once(
        key=f"idea_updates_confirm:{consent.pk}",
        code="POPUP_IDEA_UPDATES_CONFIRM",
        to=consent.email,
        context={
            "popup": consent.popup,
            "confirm_url": _link(path, consent.language),
            "shop_name": settings.OSCAR_SHOP_NAME,
        },
        language=consent.language,
    )


def review_invite_email(*, invite_id: int) -> None:
    """E-mail one buyer the link to review what they bought, once."""
    invite = (
        ReviewInvite.objects.select_related("order", "popup")
        .filter(pk=invite_id, sent_at__isnull=True)
        .first()
    )
    if invite is None:
        return
    path = reverse("popup:review", kwargs={"token": invite.token})
    # The language the buyer shopped in, days ago, kept by their basket.
    basket = PopUpBasket.objects.filter(order=invite.order).only("language").first()
    language = basket.language if basket is not None else ""
    context = {
        "invite": invite,
        "order": invite.order,
        "popup": invite.popup,
        "lines": invite.order.lines.all(),
        "review_url": _link(path, language),
        "shop_name": settings.OSCAR_SHOP_NAME,
    }
    email_send_once(
        key=f"review_invite:{invite.pk}",
        code="POPUP_REVIEW_INVITE",
        to=invite.order.guest_email,
        context=context,
        language=language,
    )
    ReviewInvite.objects.filter(pk=invite.pk, sent_at__isnull=True).update(sent_at=timezone.now())


def poll_vote_confirmation_email(*, vote_id: int) -> None:
    """Ask a voter to confirm their address: the vote counts once they do."""
    vote = PollVote.objects.select_related("poll__popup", "option").filter(pk=vote_id).first()
    if vote is None or vote.confirmed_at is not None:
        return
    path = reverse("popup:poll-vote-confirm", kwargs={"token": vote.token})
    context = {
        "vote": vote,
        "poll": vote.poll,
        "popup": vote.poll.popup,
        "confirm_url": _link(path, vote.language),
    }
    email_send_once(
        key=f"poll_vote:{vote.pk}",
        code="POPUP_POLL_VOTE",
        to=vote.email,
        context=context,
        language=vote.language,
    )


def ambassador_invite_email(*, ambassador_id: int, placement_id: int) -> None:
    """Send an ambassador their link, code and private stats page for one pop-up."""
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
