"""Timing adjustable (WCAG 2.2.1): "I need more time" near the end of a hold, in the basket bar and
at checkout, while others could still buy the product; for its last units, the page says why not."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from popup.core.holds import basket_create, hold_set
from popup.models import Hold, PopUp, PopUpBasket

from .showcase import showcase_popup
from .support import violations
from .test_phone import screen, shot

pytestmark = pytest.mark.browser

TEN_MINUTES = re.compile(r"^(10:00|9:5\d)$")


def mugs_held(units: int, *, seconds_left: int = 100) -> tuple[PopUp, PopUpBasket]:
    """A showcase pop-up whose basket holds `units` of its mug (3 of 12 left), about to lapse."""
    popup = showcase_popup()
    mug = popup.product_terms.get(product__title="Speckled stoneware mug")
    basket = basket_create(popup=popup)
    hold_set(basket=basket, product_id=mug.product_id, quantity=units)
    Hold.objects.update(reserved_until=timezone.now() + timedelta(seconds=seconds_left))
    return popup, basket


def test_more_time_from_the_basket_bar_by_keyboard(browser, store_url):
    popup, basket = mugs_held(1)
    page = screen(browser, 390)
    page.goto(f"{store_url}{popup.get_absolute_url()}#basket={basket.token}")

    bar = page.locator("[data-basket]")
    more = bar.get_by_role("button", name="I need more time")
    expect(more).to_be_visible()
    expect(bar.locator("[data-basket-alert]")).to_have_text(
        "2 minutes left before the items in your basket are released. "
        "Choose I need more time to keep them longer."
    )
    shot(page, "more-time-offered-390")
    more.focus()
    page.keyboard.press("Enter")

    expect(bar.locator("[data-basket-timer]")).to_have_text(TEN_MINUTES)
    expect(bar.locator("[data-time-note]")).to_have_text("Held for 10 more minutes.")
    expect(more).to_be_hidden()
    expect(bar.get_by_role("link", name="Checkout")).to_be_focused()  # not lost to the page
    assert Hold.objects.get().reserved_until > timezone.now() + timedelta(minutes=9)
    assert violations(page) == []
    page.context.close()


def test_no_more_time_while_others_wait_and_the_bar_says_why(browser, store_url):
    popup, basket = mugs_held(3)  # the last three: anyone else sees them all in baskets
    page = screen(browser, 390)
    page.goto(f"{store_url}{popup.get_absolute_url()}#basket={basket.token}")

    bar = page.locator("[data-basket]")
    expect(bar.locator("[data-time-note]")).to_have_text(
        "These are the last units, so the hold cannot be extended."
    )
    expect(bar.get_by_role("button", name="I need more time")).to_be_hidden()
    assert violations(page) == []
    shot(page, "more-time-contested-390")
    page.context.close()


def test_more_time_at_checkout_keeps_the_page_as_it_is(browser, store_url):
    popup, basket = mugs_held(1)
    page = screen(browser, 390)
    page.goto(f"{store_url}/popup/checkout/{basket.token}/")
    page.get_by_label("Email").fill("ada@example.com")

    page.get_by_role("button", name="I need more time").click()
    expect(page.locator("[data-hold-until] time")).to_have_text(TEN_MINUTES)
    expect(page.locator("[data-hold-more-note]")).to_have_text("Held for 10 more minutes.")
    expect(page.get_by_label("Email")).to_have_value("ada@example.com")
    assert PopUpBasket.objects.get().hold_extensions == 1
    assert violations(page) == []
    page.context.close()


def test_checkout_says_plainly_when_the_hold_cannot_be_longer(browser, store_url):
    popup, basket = mugs_held(3)
    page = screen(browser, 390)
    page.goto(f"{store_url}/popup/checkout/{basket.token}/")
    expect(page.locator("[data-hold-more]")).to_have_text(
        re.compile("These are the last units, so the hold cannot be extended")
    )
    expect(page.get_by_role("button", name="I need more time")).to_have_count(0)
    page.context.close()
