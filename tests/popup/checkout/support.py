from decimal import Decimal

import pytest
import requests
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from oscar.apps.shipping.methods import FixedPrice, Free
from oscar.apps.shipping.repository import Repository
from oscar.core.loading import get_model

from popup.checkout.services import ShopperDetails, checkout_pay
from popup.core.holds import basket_create, hold_set
from popup.core.shells import shells_forget
from popup.models import PopUpProduct
from tests.factories import PopUpFactory, create_product
from tests.integrations.stripe.support import THREE_D_SECURE, card_token
from tests.localstripe_server import PUBLISHABLE_KEY

SHOPPER = ShopperDetails(
    email="ada@example.com",
    first_name="Ada",
    last_name="Lovelace",
    line1="12 rue des Lilas",
    line2="",
    city="Lyon",
    postcode="69001",
    country="FR",
)


def basket_holding(units=3, quantity=2, price=Decimal("25.00")):
    popup = PopUpFactory()
    scarf = create_product(title="Indigo scarf", price=Decimal("40.00"))
    popup.range.add_product(scarf)
    PopUpProduct.objects.create(popup=popup, product=scarf, units_offered=units, price=price)
    basket = basket_create(popup=popup)
    hold_set(basket=basket, product_id=scarf.pk, quantity=quantity)
    return basket


def terms_of(basket) -> PopUpProduct:
    return PopUpProduct.objects.get(popup=basket.popup)


def authenticate(localstripe, payment_intent_id: str, client_secret: str, *, success: bool) -> None:
    """What the shopper does in the bank's 3-D Secure challenge (localstripe's fake Stripe.js)."""
    requests.post(
        f"{localstripe.url}/v1/payment_intents/{payment_intent_id}/_authenticate",
        data={
            "client_secret": client_secret,
            "success": "true" if success else "false",
            "key": PUBLISHABLE_KEY,
        },
        timeout=5,
    ).raise_for_status()


def authorised_then_gone(localstripe):
    """A basket whose card passed 3-D Secure, and whose shopper closed the tab before we knew."""
    basket = basket_holding()
    step = checkout_pay(
        basket=basket, details=SHOPPER, card_token=card_token(localstripe, THREE_D_SECURE)
    )
    authenticate(localstripe, step.payment_intent_id, step.client_secret, success=True)
    return basket, step


def stripe_reports(basket, step, events, *, secret: str) -> None:
    """Stripe's signed deliveries about the basket's PaymentIntent: (event type, event id) pairs."""
    from tests.integrations.stripe.test_webhooks import deliver, event_payload, signed

    intent = {
        "id": step.payment_intent_id,
        "object": "payment_intent",
        "metadata": {"popup_basket": str(basket.pk)},
    }
    for event_type, event_id in events:
        payload = event_payload(event_type, intent, event_id=event_id)
        assert deliver(payload, signed(payload, secret)).status_code == 200


def live(client, popup, query: str = "", *, view: str = "page", token: str = "", **headers):
    """The live call as the page's script makes it on arrival: the page's query, and the view."""
    view_query = f"view={view}" if view else ""
    url = f"/popup/{popup.slug}/live/?" + "&".join(part for part in (query, view_query) if part)
    if token:
        headers["HTTP_X_POPUP_BASKET"] = token
    return client.get(url, **headers)


def held_over_http(client, popup, product_id: int, quantity: int) -> str:
    """A new basket holding `quantity` units, as the page's script makes it; its token."""
    token = client.post(f"/popup/{popup.slug}/basket/new/").json()["basket"]["token"]
    response = client.post(
        f"/popup/{popup.slug}/basket/lines/",
        {"product": product_id, "quantity": quantity},
        content_type="application/json",
        headers={"X-Popup-Basket": token},
    )
    assert response.status_code == 200, response.content
    return token


def page_queries(client, path: str) -> int:
    """The queries of rendering a pop-up page, not of serving its stored shell."""
    cache.clear()
    shells_forget()
    with CaptureQueriesContext(connection) as context:
        assert client.get(path).status_code == 200
    return len(context.captured_queries)


ABROAD = Decimal("5.00")


class ShippingByCountry(Repository):
    """A store whose delivery charge depends on the country, as its own fork of Oscar's shipping
    app would have it: free in France, €5.00 anywhere else."""

    def get_available_shipping_methods(self, basket, shipping_addr=None, **kwargs):
        if shipping_addr is not None and shipping_addr.country.iso_3166_1_a2 != "FR":
            return [FixedPrice(ABROAD, ABROAD)]
        return [Free()]


@pytest.fixture
def shipping_by_country(monkeypatch):
    """The store's shipping repository is ShippingByCountry (Oscar's get_class loads a fork's; the
    checkout looked it up once, at import), and Germany is a country it ships to."""
    monkeypatch.setattr("popup.checkout.services.Repository", ShippingByCountry)
    get_model("address", "Country").objects.update_or_create(
        iso_3166_1_a2="DE",
        defaults={
            "iso_3166_1_a3": "DEU",
            "iso_3166_1_numeric": "276",
            "name": "Federal Republic of Germany",
            "printable_name": "Germany",
            "is_shipping_country": True,
        },
    )
