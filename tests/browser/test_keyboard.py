"""By keyboard alone and by screen reader: a whole purchase with Tab, Enter and typing; the focus
never hidden (WCAG 2.4.11) in the embed and at checkout; what a screen reader is given for the
basket bar and the checkout (names, roles, live regions), as accessibility-tree snapshots."""

import re
from textwrap import dedent

import pytest
from oscar.core.loading import get_model
from playwright.sync_api import Locator, Page, expect

from popup.core.holds import basket_create, hold_set
from popup.models import PopUpProduct

from .support import live_popup, violations
from .test_phone import FOCUS_SHOWN, screen

Country = get_model("address", "Country")
Order = get_model("order", "Order")

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("stripe_settings")]


@pytest.fixture
def france(db):
    Country.objects.update_or_create(
        iso_3166_1_a2="FR",
        defaults={"name": "France", "printable_name": "France", "is_shipping_country": True},
    )


def tab_to(page: Page, target: Locator, *, most: int = 80) -> None:
    """Press Tab until `target` has the focus, as a keyboard user would."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{target} never got the focus in {most} tabs")


def type_in(page: Page, label: str, text: str) -> None:
    tab_to(page, page.get_by_label(label, exact=True))
    page.keyboard.type(text)


def test_a_keyboard_alone_buys_from_the_pop_up_page(browser, store_url, localstripe, france):
    popup = live_popup(1, units_offered=5)
    page = screen(browser, 1280)
    page.goto(f"{store_url}{popup.get_absolute_url()}")

    tab_to(page, page.get_by_role("button", name="Add Product 000"))
    page.keyboard.press("Enter")
    more = page.get_by_role("button", name="One more Product 000")
    expect(more).to_be_focused()  # Add became − 1 +: the focus went with it
    page.keyboard.press("Enter")
    expect(page.locator("[data-basket]")).to_contain_text("2 items in your basket")
    tab_to(page, page.locator("[data-basket]").get_by_role("link", name="Checkout"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    for label, text in [
        ("Email", "ada@example.com"),
        ("First name", "Ada"),
        ("Last name", "Lovelace"),
        ("Address", "12 rue des Lilas"),
        ("Postcode", "69001"),
        ("City", "Lyon"),
    ]:
        type_in(page, label, text)
    tab_to(page, page.get_by_label("Country"))
    page.keyboard.type("France")
    card = page.locator("#card")
    for placeholder, text in [
        ("number", "4242424242424242"),
        ("exp_month", "12"),
        ("exp_year", "34"),
        ("cvc", "123"),
        ("postal_code", "69001"),
    ]:
        tab_to(page, card.get_by_placeholder(placeholder, exact=True))
        page.keyboard.type(text)
    tab_to(page, page.get_by_role("button", name=re.compile("^Order and pay")))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    assert Order.objects.get().total_incl_tax == 80
    assert PopUpProduct.objects.get().units_sold == 2
    page.context.close()


def walk(page: Page, frame=None, tabs: int = 40) -> list[str]:
    """Tab `tabs` times; what got the focus without showing (inside `frame` when given)."""
    where = frame or page
    hidden = []
    for _ in range(tabs):
        page.keyboard.press("Tab")
        page.wait_for_timeout(50)  # the loader's scroll message reaches the frame
        shown, what = where.evaluate(FOCUS_SHOWN)
        if not shown:
            hidden.append(what)
    return hidden


def test_focus_is_never_hidden_in_the_embed_with_its_basket_bar(browser, store_url, host):
    popup = live_popup(6, units_offered=5, allowed_embed_origins=host.origin)
    page = screen(browser, 390)
    loader = f'<script src="{store_url}/static/popup/embed.js" data-popup="{popup.slug}"></script>'
    html = (
        '<!doctype html><meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<body><p>Our new drop:</p>{loader}<p>More posts below.</p></body>"
    )
    page.goto(host.serve("/keyboard-walk", html))
    frame = page.frame_locator(f'iframe[src*="/popup/{popup.slug}/embed/"]')
    frame.get_by_role("button", name="Add Product 000").click()
    expect(frame.locator("[data-basket] [data-checkout]")).to_be_visible()

    inside = page.locator("iframe").element_handle().content_frame()
    page.evaluate("() => window.scrollTo(0, 0)")
    hidden = []
    for _ in range(40):
        page.keyboard.press("Tab")
        page.wait_for_timeout(300)  # the loader scrolls what is under the bar clear of it
        shown, what = inside.evaluate(FOCUS_SHOWN)
        if not shown:
            hidden.append(what)
        # Inside the frame and on the visitor's screen: not under the bar, not off the page.
        box = inside.evaluate(
            "() => { const el = document.activeElement, r = el.getBoundingClientRect();"
            " return [r.top, r.bottom, el === document.body || !!el.closest('[data-basket]')]; }"
        )
        frame_top = page.locator("iframe").bounding_box()["y"]
        if not box[2]:  # in the page, not in the bar itself
            top, bottom = frame_top + box[0], frame_top + box[1]
            bar = frame.locator("[data-basket]").bounding_box()
            if bottom > bar["y"] + 1 and top < bar["y"] + bar["height"]:
                hidden.append(f"under the bar: {what}")
    assert hidden == []
    page.context.close()


def test_focus_is_never_hidden_at_checkout(browser, store_url):
    popup = live_popup(2, units_offered=5)
    basket = basket_create(popup=popup)
    for terms in popup.product_terms.all():
        hold_set(basket=basket, product_id=terms.product_id, quantity=1)
    page = screen(browser, 390)
    page.goto(f"{store_url}/popup/checkout/{basket.token}/")
    page.evaluate("() => window.scrollTo(0, 0)")
    assert walk(page) == []
    page.context.close()


def test_what_a_screen_reader_is_given_in_the_basket_bar_and_the_checkout(browser, store_url):
    popup = live_popup(1, units_offered=5)
    page = screen(browser, 390)
    page.goto(f"{store_url}{popup.get_absolute_url()}")
    page.get_by_role("button", name="Add Product 000").click()
    bar = page.locator("[data-basket]")
    expect(bar.get_by_role("link", name="Checkout")).to_be_visible()
    # The sum is a polite live region, the timer is not one; the 2-minute and lapse alerts are a
    # status region, empty until then.
    expect(bar).to_match_aria_snapshot(
        dedent(
            r"""
            - paragraph:
              - strong: 1 item
              - text: in your basket ·
              - strong: /€\d+\.\d\d/
            - paragraph:
              - text: Held for you for
              - time: /\d+:\d\d/
            - status
            - link "Checkout":
              - /url: /\/popup\/checkout\/[\w-]+\//
            """
        )
    )
    assert bar.locator(".basketbar__sum").get_attribute("aria-live") == "polite"

    page.get_by_role("link", name="Checkout").click()
    summary = page.get_by_role("region", name="Your basket")
    expect(summary).to_be_visible()
    snapshot = summary.aria_snapshot()
    assert "- status" in snapshot  # the hold's announcements
    assert 'button "I need more time"' in snapshot
    form = page.locator("[data-checkout-form]")
    for name in ("Email", "First name", "Last name", "Address", "Postcode", "City", "Country"):
        expect(form.get_by_label(name, exact=True)).to_be_visible()
    assert form.get_by_label("Email").get_attribute("autocomplete") == "email"
    assert form.locator("[role=alert]").count() == 1  # the payment's errors, said when they come
    assert violations(page) == []
    page.context.close()
