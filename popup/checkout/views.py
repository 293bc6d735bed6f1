"""The first-party checkout: a top-level page on the store's own domain, reached from the pop-up.

It runs outside the iframe because third-party frames lose cookies and cannot run Stripe's 3-D Secure
reliably; the basket token in the URL carries the hold across. Views parse, call one service, answer.
"""

from decimal import Decimal
from urllib.parse import urlsplit

from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext
from django.views.decorators.http import require_GET
from oscar.templatetags.currency_filters import currency as currency_text

from popup.channels.placements import basket_checkout_mark
from popup.checkout.forms import CheckoutForm
from popup.checkout.services import (
    CheckoutFigures,
    ShopperDetails,
    checkout_complete,
    checkout_figures,
    checkout_pay,
    country_code,
)
from popup.checkout.withdrawal import products_made_to_order, withdrawal_info
from popup.conf import payments_configured, popup_settings
from popup.core.holds import basket_contested
from popup.core.languages import language_now, language_of_record
from popup.core.selectors import basket_summary
from popup.errors import BadRequest
from popup.http.busy import BUSY_PAYING, busy_page
from popup.http.headers import private_page
from popup.http.json import json_body_or_empty, json_text_required, json_view
from popup.models import PopUpBasket
from popup.payments import payment_gateway
from popup.presales.pledges import pledge_confirm, pledge_start


def _payments_not_configured() -> JsonResponse | None:
    """The answer to a payment call in a store without Stripe keys (None when it has them)."""
    if payments_configured():
        return None
    message = gettext("Payments are not configured for this shop yet. Nothing was charged.")
    return JsonResponse({"error": message, "code": "payments_not_configured"}, status=503)


def _basket(token: str) -> PopUpBasket:
    basket = (
        PopUpBasket.objects.select_related("popup", "order", "pledge").filter(token=token).first()
    )
    if basket is None:
        raise Http404("No such basket.")
    return basket


def _wallets_offered() -> bool:
    # Apple Pay and Google Pay need real Stripe.js (and a verified domain); localstripe has none.
    return not popup_settings.STRIPE_API_BASE


def _done_url(basket: PopUpBasket) -> str:
    return reverse("popup:checkout-done", kwargs={"token": basket.token})


def _pledge_url(pledge) -> str:
    return reverse("popup:pledge", kwargs={"token": pledge.token})


def _pledge_of(basket: PopUpBasket):
    return getattr(basket, "pledge", None)


def _requires_shipping(lines) -> bool:
    return any(line.item.product.get_product_class().requires_shipping for line in lines)


@require_GET
@busy_page
def checkout_page(request, token: str):
    basket = _basket(token)
    translation.activate(language_of_record(request, basket, popup=basket.popup))
    if _pledge_of(basket):
        return redirect(_pledge_url(basket.pledge))
    if basket.order_id:
        return redirect(_done_url(basket))
    storefront, summary = basket_summary(basket=basket, strategy=request.strategy)
    basket_checkout_mark(basket=basket)  # counted once per basket, however often it reloads
    stripe_js = urlsplit(popup_settings.STRIPE_JS_URL)
    requires_shipping = _requires_shipping(summary.lines)
    form = CheckoutForm(
        requires_shipping=requires_shipping, countries=basket.popup.shipping_countries
    )
    figures = None  # an empty basket: the page says so
    if summary.lines:
        # Priced for the country the form preselects: the page shows what paying would charge.
        figures = checkout_figures(
            basket=basket, strategy=request.strategy, country=form.fields["country"].initial
        )
    total = currency_text(figures.total, figures.currency) if figures else ""
    pledging = basket.popup.takes_pledges
    context = {
        "payments_configured": payments_configured(),
        "pledging": pledging,
        "wallets": _wallets_offered() and not pledging,
        "figures": figures,
        # In a sentence of its own translation, yet rewritten when the country changes.
        "total_html": format_html("<span data-total-text>{}</span>", total),
        "amount_minor": _minor_units(figures) if figures else 0,
        "delivery_minor": _minor_units(figures, figures.delivery or Decimal(0)) if figures else 0,
        "currency": figures.currency if figures else "",
        "country": popup_settings.POPUP_WALLET_COUNTRY,
        "popup": basket.popup,
        "basket": basket,
        "summary": summary,
        "storefront": storefront,
        # "I need more time" (popup.core.holds.hold_extend_in), or why the hold cannot be longer.
        "contested": basket_contested(summary=summary),
        "extensions_left": popup_settings.POPUP_HOLD_EXTENSIONS - basket.hold_extensions,
        "form": form,
        "requires_shipping": requires_shipping,
        "stripe_js_url": popup_settings.STRIPE_JS_URL,
        "stripe_publishable_key": popup_settings.STRIPE_PUBLISHABLE_KEY,
        # The terms and the withdrawal information, linked before paying (Directive 2011/83/EU).
        "withdrawal": withdrawal_info(language=language_now()),
        "made_to_order": [
            product.get_title()
            for product in products_made_to_order(
                products=[line.item.product for line in summary.lines]
            )
        ],
    }
    response = render(request, "popup/checkout.html", context)
    return private_page(response, scripts=f"{stripe_js.scheme}://{stripe_js.netloc}")


@json_view("GET")  # the credential is the basket token in the URL
def checkout_figures_view(request, token: str) -> JsonResponse:
    """The checkout's figures for a delivery country (`?country=`), as the page shows them."""
    basket = _basket(token)
    if basket.order_id or _pledge_of(basket):
        raise Http404("This basket is paid for.")
    country = country_code(request.GET.get("country", ""))
    if country is None:
        raise BadRequest(gettext("Please choose a country from the list."), code="country")
    figures = checkout_figures(basket=basket, strategy=request.strategy, country=country)
    html = render_to_string("popup/partials/checkout_figures.html", {"figures": figures})
    response = JsonResponse(
        {
            "html": html,
            "total": currency_text(figures.total, figures.currency),
            "amount": _minor_units(figures),
            # What the wallets' sheet lists as the delivery (cents; 0 when nothing is delivered).
            "delivery_amount": _minor_units(figures, figures.delivery or Decimal(0)),
        }
    )
    response["Cache-Control"] = "no-store"  # one basket's, behind its token
    return response


def _minor_units(figures: CheckoutFigures, amount: Decimal | None = None) -> int:
    """The total (or `amount`) as wallets' payment sheets take it (cents)."""
    amount = figures.total if amount is None else amount
    return payment_gateway().minor_units(amount=amount, currency=figures.currency)


@require_GET
def withdrawal_page(request):
    """The 14-day withdrawal information and its model form (Directive 2011/83/EU, Annex I), in the
    shopper's language: the same for every pop-up of the store."""
    context = {"withdrawal": withdrawal_info(language=language_now()), "popup": None}
    return render(request, "popup/withdrawal.html", context)


def _answer(basket: PopUpBasket, step=None, *, order=None) -> JsonResponse:
    order = order or (step.order if step else None)
    if order is not None:
        return JsonResponse(
            {
                "payment_intent": basket.payment_intent_id
                or (step.payment_intent_id if step else ""),
                "status": "succeeded",
                "order": order.number,
                "redirect": _done_url(basket),
            }
        )
    return JsonResponse(
        {
            "payment_intent": step.payment_intent_id,
            "status": step.status,
            "client_secret": step.client_secret,
        }
    )


def _checkout_form(request, basket: PopUpBasket, *, card_needed: bool = True):
    """The bound CheckoutForm, and the 400 answer to send instead when it is invalid."""
    _storefront, summary = basket_summary(basket=basket, strategy=request.strategy)
    form = CheckoutForm(
        json_body_or_empty(request),
        requires_shipping=_requires_shipping(summary.lines),
        card_needed=card_needed,
    )
    if form.is_valid():
        return form, None
    problems = form.non_field_errors()
    message = problems[0] if problems else gettext("Please check the form.")
    return form, JsonResponse({"error": message, "errors": form.errors}, status=400)


def _shopper(data: dict) -> ShopperDetails:
    return ShopperDetails(**{name: data[name] for name in ShopperDetails.__dataclass_fields__})


@json_view("POST")  # the credential is the basket token in the URL, not a cookie
def checkout_pledge_view(request, token: str) -> JsonResponse:
    """All-or-nothing pre-sale: check the pledge can be made, and start saving the card."""
    if unconfigured := _payments_not_configured():
        return unconfigured
    basket = _basket(token)
    if _pledge_of(basket):
        return JsonResponse({"status": "pledged", "redirect": _pledge_url(basket.pledge)})
    form, invalid = _checkout_form(request, basket, card_needed=False)
    if invalid:
        return invalid
    setup = pledge_start(basket=basket, details=_shopper(form.cleaned_data))
    return JsonResponse(
        {"setup_intent": setup.setup_intent_id, "client_secret": setup.client_secret}
    )


@json_view("POST", unavailable=BUSY_PAYING)
def checkout_pledged_view(request, token: str) -> JsonResponse:
    """The card is saved (says the browser; Stripe is asked): make the pledge."""
    basket = _basket(token)
    setup_intent_id = json_text_required(request, "setup_intent", gettext("Missing the card."))
    pledge = pledge_confirm(
        basket_id=basket.pk, setup_intent_id=setup_intent_id, strategy=request.strategy
    )
    return JsonResponse({"status": "pledged", "redirect": _pledge_url(pledge)})


@json_view("POST", unavailable=BUSY_PAYING)  # credential: the basket token in the URL
def checkout_pay_view(request, token: str) -> JsonResponse:
    if unconfigured := _payments_not_configured():
        return unconfigured
    basket = _basket(token)
    if basket.order_id:
        return _answer(basket, order=basket.order)
    form, invalid = _checkout_form(request, basket)
    if invalid:
        return invalid
    data = form.cleaned_data
    details = _shopper(data)
    step = checkout_pay(
        basket=basket,
        details=details,
        card_token=data["card_token"],
        payment_method=data["payment_method"],
        strategy=request.strategy,
    )
    basket.refresh_from_db()
    return _answer(basket, step)


@json_view("POST", unavailable=BUSY_PAYING)
def checkout_complete_view(request, token: str) -> JsonResponse:
    """After 3-D Secure: the browser says which PaymentIntent; Stripe is asked whether it is true."""
    basket = _basket(token)
    payment_intent_id = json_text_required(
        request, "payment_intent", gettext("Missing the payment.")
    )
    order = checkout_complete(
        basket_id=basket.pk, payment_intent_id=payment_intent_id, strategy=request.strategy
    )
    basket.refresh_from_db()
    return _answer(basket, order=order)


@require_GET
@busy_page
def checkout_done(request, token: str):
    basket = _basket(token)
    translation.activate(language_of_record(request, basket, popup=basket.popup))
    if not basket.order_id:
        return redirect(reverse("popup:checkout", kwargs={"token": token}))
    context = {
        "popup": basket.popup,
        "basket": basket,
        "order": basket.order,
        "way_back": _way_back(basket),
    }
    return private_page(render(request, "popup/checkout_done.html", context))


def _way_back(basket: PopUpBasket) -> tuple[str, str] | None:
    """Where a shopper who paid goes back to, and its site's name: the page that embedded the
    pop-up, else the place the placement's link sits (a bio, a post). Inside an app's browser
    the checkout replaced that page and the app hid it from the referrer."""
    url = basket.return_url or (basket.placement.landing_url if basket.placement_id else "")
    if not url:
        return None
    return url, (urlsplit(url).hostname or "").removeprefix("www.")
