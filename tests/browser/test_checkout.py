"""Buying from a pop-up embedded on another site: basket in the iframe, first-party checkout tab,
the card through Stripe.js (localstripe's), webhooks from localstripe to the running store."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from oscar.core.loading import get_model
from playwright.sync_api import expect

from integrations.stripe.models import StripeEvent
from popup.models import Hold, PopUpProduct
from tests.browser.support import (
    card_fill,
    pay,
    shopper_details_fill,
    to_checkout,
    violations,
    wait_for,
)
from tests.popup.checkout.support import shipping_by_country  # noqa: F401

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


@pytest.mark.usefixtures("shipping_by_country")
def test_the_button_orders_and_pays_what_the_page_shows_for_the_country_chosen(shop, settings):
    """The EU's checkout: the button's name says the order obliges to pay (and how much), the terms
    and the withdrawal information open beside the form, and the delivery follows the country."""
    settings.POPUP_TERMS_URL = "/terms/"
    _popup, page, frame = shop
    checkout = to_checkout(page, frame)
    expect(checkout.get_by_role("button", name="Order and pay €80.00", exact=True)).to_be_visible()
    for name in ("terms of sale", "withdrawal information"):
        expect(checkout.get_by_role("link", name=name)).to_have_attribute("target", "_blank")
    expect(checkout.locator("[data-delivery]")).to_have_text("Free delivery")

    shopper_details_fill(checkout)
    checkout.get_by_label("Country").select_option("DE")

    pay = checkout.get_by_role("button", name="Order and pay €85.00", exact=True)
    expect(pay).to_be_enabled()
    expect(checkout.locator("[data-delivery]")).to_have_text("€5.00")
    expect(checkout.locator("[data-total]")).to_have_text("€85.00")
    assert violations(checkout) == []
    card_fill(checkout, "4242424242424242")
    pay.click()
    expect(checkout.get_by_role("heading", name="Thank you!")).to_be_visible()
    assert Order.objects.get().total_incl_tax == 85


def test_a_declined_card_says_so_and_keeps_the_hold(shop):
    _popup, page, frame = shop
    checkout = to_checkout(page, frame)
    pay(checkout, "4000000000000341")

    expect(checkout.locator("[data-checkout-error]")).to_contain_text("declined")
    expect(checkout.locator("[data-checkout-error]")).to_contain_text(
        "Nothing was charged: check the card's details, or try another card."
    )
    expect(checkout.get_by_role("button", name=re.compile("^Order and pay"))).to_be_enabled()
    assert violations(checkout) == []
    assert not Order.objects.exists()
    assert Hold.objects.get().quantity == 2

    # Another card on the same page works.
    checkout.locator("#card").get_by_placeholder("number", exact=True).fill("4242424242424242")
    checkout.get_by_role("button", name=re.compile("^Order and pay")).click()
    expect(checkout.get_by_role("heading", name="Thank you!")).to_be_visible()
    assert Order.objects.count() == 1


def test_three_d_secure_passed_places_the_order(shop):
    _popup, page, frame = shop
    checkout = to_checkout(page, frame)
    pay(checkout, "4000002760003184")

    authenticate = checkout.get_by_role("button", name="Complete authentication")
    expect(authenticate).to_be_visible()
    # The page under the bank's check (localstripe draws a bare stand-in for the bank's window
    # last in the body; Stripe's own is a frame of its own).
    assert violations(checkout, exclude=("body > div:last-child",)) == []
    authenticate.click()
    expect(checkout.get_by_role("heading", name="Thank you!")).to_be_visible()
    assert Order.objects.get().sources.get().amount_debited == 80
    assert violations(checkout) == []


def test_three_d_secure_failed_charges_nothing(shop):
    _popup, page, frame = shop
    checkout = to_checkout(page, frame)
    pay(checkout, "4000002760003184")

    checkout.get_by_role("button", name="Fail authentication").click()
    expect(checkout.locator("[data-checkout-error]")).to_contain_text("Nothing was charged")
    assert not Order.objects.exists()
    assert Hold.objects.get().quantity == 2


def test_a_hold_that_lapses_during_checkout_keeps_every_field_and_can_be_held_again(shop):
    _popup, page, frame = shop
    frame.get_by_role("button", name="Add Product 000").click()
    expect(frame.locator("[data-basket]")).to_contain_text("1 item in your basket")
    Hold.objects.update(reserved_until=timezone.now() + timedelta(seconds=4))  # about to lapse
    with page.context.expect_page() as opened:
        frame.get_by_role("link", name="Checkout").click()
    checkout = opened.value
    expect(checkout.locator("[data-hold-until] time")).to_have_text(re.compile(r"^0:0[1-4]$"))
    shopper_details_fill(checkout)
    card_fill(checkout, "4242424242424242")

    lapsed = checkout.locator("[data-hold-lapsed]")
    expect(lapsed).to_be_visible(timeout=10_000)
    expect(checkout.locator("[data-hold-alert]")).to_have_text(
        "Your hold has lapsed. Everything you typed is kept."
    )
    assert violations(checkout) == []
    # Nothing reloaded: what was typed is all there, the card's number included.
    expect(checkout.get_by_label("Email")).to_have_value("ada@example.com")
    expect(checkout.get_by_label("City")).to_have_value("Lyon")
    expect(checkout.locator("#card").get_by_placeholder("number", exact=True)).to_have_value(
        "4242424242424242"
    )

    lapsed.get_by_role("button", name="Hold them again").click()
    expect(checkout.locator("[data-hold-until] time")).to_have_text(
        re.compile(r"^(10:00|9:[45]\d)$")
    )
    expect(lapsed).to_be_hidden()
    assert Hold.objects.get().reserved_until > timezone.now() + timedelta(minutes=9)
    checkout.get_by_role("button", name=re.compile("^Order and pay")).click()
    expect(checkout.get_by_role("heading", name="Thank you!")).to_be_visible()
    assert Order.objects.count() == 1


INSTAGRAM = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/131.0.0.0 Mobile Safari/537.36 Instagram 361.0.0.35.82 Android"
)


def test_inside_instagram_s_browser_the_shopper_pays_and_goes_back_to_the_post(
    browser, store_url, host, localstripe
):
    """Instagram's browser blocks new windows and third-party cookies, and hides the referrer: the
    checkout takes the tab, and the done page leads back to the page that embedded the pop-up."""
    Country.objects.update_or_create(
        iso_3166_1_a2="FR",
        defaults={"name": "France", "printable_name": "France", "is_shipping_country": True},
    )
    popup = live_popup(1, units_offered=5, allowed_embed_origins=host.origin)
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, user_agent=INSTAGRAM
    )
    page = context.new_page()
    script = f'<script src="{store_url}/popup/embed.js" data-popup="{popup.slug}" async></script>'
    post = host.serve("/atelier.nord/winter", f"<h1>Atelier Nord</h1>{script}")
    page.goto(post + "?igsh=abc")
    frame = page.frame_locator(f'iframe[src*="/popup/{popup.slug}/embed/"]')

    frame.get_by_role("button", name="Add Product 000").click()
    frame.get_by_role("link", name="Checkout").click()  # the same tab: no new window here
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    shopper_details_fill(page)
    card_fill(page, "4242424242424242")
    page.get_by_role("button", name=re.compile("^Order and pay")).click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    assert violations(page) == []

    site = host.origin.split("://")[1].split(":")[0]
    page.get_by_role("link", name=f"Back to {site}").click()
    expect(page).to_have_url(post)  # the post, not its query (which may carry a token)
    context.close()


def test_a_field_left_wrong_is_said_beside_it_and_focused_with_everything_kept(shop):
    _popup, page, frame = shop
    checkout = to_checkout(page, frame)
    shopper_details_fill(checkout)
    checkout.get_by_label("Email").fill("ada@example")
    card_fill(checkout, "4242424242424242")
    checkout.get_by_role("button", name=re.compile("^Order and pay")).click()

    email = checkout.get_by_label("Email")
    expect(checkout.locator('[data-error-for="email"]')).to_have_text(
        "Enter a valid email address."
    )
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_be_focused()
    expect(checkout.get_by_label("City")).to_have_value("Lyon")
    assert violations(checkout) == []
    assert not Order.objects.exists()

    email.fill("ada@example.com")
    checkout.get_by_role("button", name=re.compile("^Order and pay")).click()
    expect(checkout.get_by_role("heading", name="Thank you!")).to_be_visible()
