"""A shopper fills a basket inside a pop-up embedded on another site, with no cookies at all."""

import re

import pytest
from django.db.models import Sum
from playwright.sync_api import expect

from popup.models import Hold, PopUpProduct

from .support import live_popup

pytestmark = pytest.mark.browser


def embed(page, store_url, host, popup):
    script = f'<script src="{store_url}/popup/embed.js" data-popup="{popup.slug}" async></script>'
    page.goto(host.serve(f"/{popup.slug}", f"<h1>My links</h1>{script}"))
    return page.frame_locator(f'iframe[src*="/popup/{popup.slug}/embed/"]')


def test_adding_to_the_basket_holds_units_and_shows_the_timer(page, store_url, host):
    popup = live_popup(2, units_offered=3, per_customer_limit=2, allowed_embed_origins=host.origin)
    shop = embed(page, store_url, host, popup)
    first = shop.locator("[data-product]").first

    first.get_by_role("button", name="Add Product 000").click()
    expect(shop.locator("[data-basket]")).to_contain_text("1 item in your basket · €40.00")
    expect(shop.locator("[data-basket-timer]")).to_have_text(re.compile(r"^9:[0-5]\d$"))
    expect(first.locator("[data-stock]")).to_have_text("2 left")
    expect(first.locator("[data-error]")).to_have_text("")  # the first Add made the basket: a 201

    first.get_by_role("button", name="One more Product 000").click()
    expect(first.locator("[data-count]")).to_have_text("2")
    expect(shop.locator("[data-basket]")).to_contain_text("2 items in your basket · €80.00")

    # The per-customer limit speaks for itself, and nothing more is held.
    shop.locator("[data-product]").nth(1).get_by_role("button", name="Add Product 001").click()
    expect(shop.locator("[data-product]").nth(1).locator("[data-error]")).to_have_text(
        "You can buy 2 units of this pop-up in all."
    )
    assert Hold.objects.aggregate(units=Sum("quantity"))["units"] == 2
    assert page.context.cookies() == []

    # A reload of the host page finds the same basket: the token lives in the frame's storage.
    page.reload()
    shop = page.frame_locator(f'iframe[src*="/popup/{popup.slug}/embed/"]')
    expect(shop.locator("[data-basket]")).to_contain_text("2 items in your basket")

    shop.locator("[data-product]").first.get_by_role("button", name="One less Product 000").click()
    expect(shop.locator("[data-basket]")).to_contain_text("1 item in your basket")
    assert Hold.objects.get().quantity == 1


def test_the_last_unit_goes_to_one_shopper_only(page, context, store_url, host):
    popup = live_popup(2, units_offered=1, allowed_embed_origins=host.origin)
    shop = embed(page, store_url, host, popup)
    shop.get_by_role("button", name="Add Product 000").click()
    expect(shop.locator("[data-basket]")).to_contain_text("1 item in your basket")

    page.wait_for_timeout(1100)  # the live figures are a second old at most
    rival = context.browser.new_context().new_page()
    rival_shop = embed(rival, store_url, host, popup)
    # The rival's page came after the hold: its live figures already say so (in a basket).
    expect(rival_shop.locator("[data-stock]").first).to_have_text(
        "All in baskets for now: back in about 10 min if not bought."
    )
    expect(rival_shop.get_by_role("button", name="In baskets Product 000")).to_be_disabled()
    rival_shop.get_by_role("button", name="Add Product 001").click()
    expect(rival_shop.locator("[data-basket]")).to_contain_text("1 item in your basket")
    held = {terms.product.title: terms.holds.count() for terms in PopUpProduct.objects.all()}
    assert held == {"Product 000": 1, "Product 001": 1}
    rival.context.close()


def test_a_connection_past_its_basket_cap_is_told_why_nothing_was_held(
    page, store_url, host, settings
):
    settings.POPUP_BASKETS_PER_ADDRESS_PER_HOUR = 0
    popup = live_popup(1, units_offered=3, allowed_embed_origins=host.origin)
    shop = embed(page, store_url, host, popup)

    shop.get_by_role("button", name="Add Product 000").click()

    expect(shop.locator("[data-product]").first.locator("[data-error]")).to_have_text(
        "Too many baskets from your connection. Please try again in an hour."
    )
    assert not Hold.objects.exists()
