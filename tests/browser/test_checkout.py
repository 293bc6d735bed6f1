"""Buying from a pop-up embedded on another site: basket in the iframe, first-party checkout tab,
the card through Stripe.js (localstripe's), webhooks from localstripe to the running store."""

import re

import pytest
from oscar.core.loading import get_model
from playwright.sync_api import expect

from integrations.stripe.models import StripeEvent
from popup.models import Hold, PopUpProduct
from tests.browser.support import pay, to_checkout, wait_for

from .support import live_popup

Country = get_model("address", "Country")
Order = get_model("order", "Order")

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("stripe_settings")]


@pytest.fixture
def shop(page, context, store_url, host, localstripe):
    Country.objects.update_or_create(
        iso_3166_1_a2="FR",
        defaults={"name": "France", "printable_name": "France", "is_shipping_country": True},
    )
    localstripe.register_webhook(f"{store_url}/popup/stripe/webhook/")
    popup = live_popup(2, units_offered=5, allowed_embed_origins=host.origin)
    script = f'<script src="{store_url}/popup/embed.js" data-popup="{popup.slug}" async></script>'
    page.goto(host.serve(f"/{popup.slug}", f"<h1>Atelier Nord</h1>{script}"))
    return popup, page, page.frame_locator(f'iframe[src*="/popup/{popup.slug}/embed/"]')


def test_a_shopper_buys_from_the_embed_with_a_good_card(shop):
    popup, page, frame = shop
    checkout = to_checkout(page, frame)
    pay(checkout, "4242424242424242")

    expect(checkout.get_by_role("heading", name="Thank you!")).to_be_visible()
    number = checkout.locator("[data-order-number]").inner_text()
    order = Order.objects.get()
    assert order.number == number
    assert order.total_incl_tax == 80
    assert order.sources.get().amount_debited == 80
    assert PopUpProduct.objects.get(product__title="Product 000").units_sold == 2
    assert not Hold.objects.exists()
    # localstripe's signed webhook arrives about a second later; it changes nothing.
    wait_for(
        lambda: StripeEvent.objects.filter(
            type="payment_intent.succeeded", processed_at__isnull=False
        ).exists()
    )
    assert Order.objects.count() == 1

    checkout.get_by_role("link", name=f"Back to {popup.title}").click()
    expect(checkout.locator("[data-product]").first.locator("[data-stock]")).to_have_text("3 left")


def test_a_declined_card_says_so_and_keeps_the_hold(shop):
    _popup, page, frame = shop
    checkout = to_checkout(page, frame)
    pay(checkout, "4000000000000341")

    expect(checkout.locator("[data-checkout-error]")).to_contain_text("declined")
    expect(checkout.get_by_role("button", name=re.compile("^Pay"))).to_be_enabled()
    assert not Order.objects.exists()
    assert Hold.objects.get().quantity == 2

    # Another card on the same page works.
    checkout.locator("#card").get_by_placeholder("number", exact=True).fill("4242424242424242")
    checkout.get_by_role("button", name=re.compile("^Pay")).click()
    expect(checkout.get_by_role("heading", name="Thank you!")).to_be_visible()
    assert Order.objects.count() == 1


def test_three_d_secure_passed_places_the_order(shop):
    _popup, page, frame = shop
    checkout = to_checkout(page, frame)
    pay(checkout, "4000002760003184")

    checkout.get_by_role("button", name="Complete authentication").click()
    expect(checkout.get_by_role("heading", name="Thank you!")).to_be_visible()
    assert Order.objects.get().sources.get().amount_debited == 80


def test_three_d_secure_failed_charges_nothing(shop):
    _popup, page, frame = shop
    checkout = to_checkout(page, frame)
    pay(checkout, "4000002760003184")

    checkout.get_by_role("button", name="Fail authentication").click()
    expect(checkout.locator("[data-checkout-error]")).to_contain_text("Nothing was charged")
    assert not Order.objects.exists()
    assert Hold.objects.get().quantity == 2
