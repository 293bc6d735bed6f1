"""The store's URLs plus a test-only card page: integrations/stripe/static/popup_stripe/card.js at work."""

import json
from decimal import Decimal

from django.conf import settings
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.templatetags.static import static
from django.urls import path
from django.views.decorators.http import require_POST
from oscar.core.loading import get_class

from integrations.stripe import facade
from integrations.stripe.views import card_authorisation_response
from shop.urls import urlpatterns as shop_urlpatterns

PaymentError = get_class("payment.exceptions", "PaymentError")

AMOUNT = Decimal("12.34")

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Card</title>
<script src="{stripe_js}"></script>
<script src="{card_js}"></script></head>
<body>
<div id="card"></div>
<button id="pay" type="button">Pay</button>
<p id="result" role="status"></p>
<script>
  const card = PopupStripeCard.mount({{
    publishableKey: "{publishable_key}",
    container: document.querySelector("#card"),
    authoriseUrl: "/stripe-test/authorise/",
    csrfToken: "{csrf_token}",
  }});
  document.querySelector("#pay").addEventListener("click", async () => {{
    const result = await card.pay();
    const output = document.querySelector("#result");
    output.dataset.paymentIntent = result.paymentIntentId || "";
    output.textContent = result.ok ? "Authorised" : result.message;
  }});
</script>
</body></html>
"""


def card_page(request):
    return HttpResponse(
        PAGE.format(
            stripe_js=settings.STRIPE_JS_URL,
            card_js=static("popup_stripe/card.js"),
            publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
            csrf_token=get_token(request),
        )
    )


@require_POST
def authorise(request):
    """What the checkout's authorise view does: the token in, facade.payment_authorise, card.js's answer out."""
    card_token = json.loads(request.body)["card_token"]
    try:
        intent = facade.payment_authorise(
            amount=AMOUNT,
            currency="EUR",
            card_token=card_token,
            idempotency_key=f"stripe-test-{card_token}",
            email="shopper@example.com",
            metadata={"page": "stripe-test"},
        )
    except PaymentError as error:
        return card_authorisation_response(error=error)
    return card_authorisation_response(intent=intent)


urlpatterns = [
    path("stripe-test/card/", card_page),
    path("stripe-test/authorise/", authorise),
    *shop_urlpatterns,
]
