"""A backer's pledge page, reached from the link in every pledge e-mail: see the pledge, change the
quantity or the card, cancel it before charging starts, and pay it when a charge failed.

The credential is the pledge's unguessable token in the URL (as for the checkout): no account and
no cookie are needed, so these views are CSRF-exempt and never framed, cached or referred.
"""

from urllib.parse import urlsplit

from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from popup.checkout.services import CheckoutRefused
from popup.conf import popup_settings
from popup.core.languages import language_of_record
from popup.http.busy import BUSY_PAYING, busy_page
from popup.http.headers import private_page
from popup.http.json import json_text_required, json_view
from popup.models import Pledge
from popup.presales.pledges import (
    pledge_cancel,
    pledge_card_change_start,
    pledge_card_changed,
    pledge_pay,
    pledge_pay_complete,
    pledge_quantity_set,
)
from popup.presales.selectors import presale_progress

# Notes a pledge's history keeps in English, as keys (popup.notifications.messages), read in the
# backer's language on its page like every other note of it.
HISTORY_NOTES = (gettext_noop("Launch e-mail sent"),)
DECLINED = gettext_noop("Your card was declined.")


def _pledge(token: str) -> Pledge:
    pledge = Pledge.objects.select_related("popup", "order").filter(token=token).first()
    if pledge is None:
        raise Http404("No such pledge.")
    return pledge


def _page_url(pledge: Pledge) -> str:
    return reverse("popup:pledge", kwargs={"token": pledge.token})


def _history(pledge: Pledge) -> list:
    """The pledge's events, each with `status_label`: the status it moved to, in words."""
    labels = dict(Pledge.Status.choices)
    events = list(pledge.events.all())
    for event in events:
        event.status_label = labels.get(event.status_to, event.status_to)
    return events


def _render(request, pledge: Pledge, *, error: str = "", status: int = 200):
    translation.activate(language_of_record(request, pledge, popup=pledge.popup))
    stripe_js = urlsplit(popup_settings.STRIPE_JS_URL)
    context = {
        "pledge": pledge,
        "popup": pledge.popup,
        "lines": pledge.lines.select_related("terms__product"),
        "events": _history(pledge),
        "progress": presale_progress(popup=pledge.popup),
        "error": error,
        "stripe_js_url": popup_settings.STRIPE_JS_URL,
        "stripe_publishable_key": popup_settings.STRIPE_PUBLISHABLE_KEY,
    }
    response = render(request, "popup/pledge.html", context, status=status)
    return private_page(response, scripts=f"{stripe_js.scheme}://{stripe_js.netloc}")


@require_GET
@busy_page
def pledge_page(request, token: str):
    return _render(request, _pledge(token))


def _whole_number(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


@csrf_exempt
@require_POST
@busy_page
def pledge_line_view(request, token: str, line_id: int):
    """A plain form: the new quantity of one line (0 removes it)."""
    pledge = _pledge(token)
    quantity = _whole_number(request.POST.get("quantity"))
    if quantity is None:
        return _render(request, pledge, error=_("Choose a whole number."), status=400)
    try:
        pledge_quantity_set(pledge=pledge, line_id=line_id, quantity=quantity)
    except CheckoutRefused as refusal:
        return _render(request, pledge, error=refusal.message, status=409)
    return redirect(_page_url(pledge))


@csrf_exempt
@require_POST
@busy_page
def pledge_cancel_view(request, token: str):
    pledge = _pledge(token)
    try:
        pledge_cancel(pledge=pledge)
    except CheckoutRefused as refusal:
        return _render(request, pledge, error=refusal.message, status=409)
    return redirect(_page_url(pledge))


@json_view("POST")
def pledge_card_view(request, token: str) -> JsonResponse:
    """Start saving another card: the client secret for Stripe.js confirmCardSetup."""
    pledge = _pledge(token)
    setup = pledge_card_change_start(pledge=pledge)
    return JsonResponse(
        {"setup_intent": setup.setup_intent_id, "client_secret": setup.client_secret}
    )


@json_view("POST")
def pledge_card_saved_view(request, token: str) -> JsonResponse:
    pledge = _pledge(token)
    setup_intent_id = json_text_required(request, "setup_intent", _("Missing the card."))
    pledge = pledge_card_changed(pledge=pledge, setup_intent_id=setup_intent_id)
    return JsonResponse({"status": pledge.status, "card": pledge.card_label})


def _pay_answer(pledge: Pledge, intent=None) -> JsonResponse:
    if pledge.status == Pledge.Status.PAID:
        return JsonResponse({"status": "paid", "redirect": _page_url(pledge)})
    if intent is not None and intent.needs_authentication:
        return JsonResponse(
            {
                "status": "requires_action",
                "payment_intent": intent.id,
                "client_secret": intent.client_secret,
            }
        )
    if pledge.status == Pledge.Status.CHARGING:
        return JsonResponse(
            {"error": _("This payment is already under way: reload the page in a minute.")},
            status=409,
        )
    return JsonResponse(
        # The failure is kept in English (its msgid): said in the backer's language.
        {"error": _(pledge.failure_message or DECLINED), "code": "declined"},
        status=402,
    )


@json_view("POST", unavailable=BUSY_PAYING)
def pledge_pay_view(request, token: str) -> JsonResponse:
    """The recovery link's "Pay now": charge the saved card with the backer present."""
    pledge = _pledge(token)
    pledge, intent = pledge_pay(pledge=pledge)
    return _pay_answer(pledge, intent)


@json_view("POST", unavailable=BUSY_PAYING)
def pledge_pay_complete_view(request, token: str) -> JsonResponse:
    """After 3-D Secure on the recovery page."""
    pledge = _pledge(token)
    payment_intent_id = json_text_required(request, "payment_intent", _("Missing the payment."))
    pledge = pledge_pay_complete(pledge=pledge, payment_intent_id=payment_intent_id)
    return _pay_answer(pledge)
