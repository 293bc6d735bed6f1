"""The shopper's screen first: the page and the embed at phone, tablet and desktop widths.

Each width's screenshots are kept in var/screenshots/phone/ of the checkout: the CI run's artifacts.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from popup.core.holds import basket_create, hold_set
from popup.feedback.questions import question_answer, question_ask
from popup.models import Hold

from .showcase import showcase_popup
from .support import eventually, live_popup

pytestmark = pytest.mark.browser

WIDTHS = (320, 360, 390, 414, 768, 1280)
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "phone"
# How far the document reaches beyond the screen's right edge, and what does.
SIDEWAYS = """() => {
    const width = document.documentElement.clientWidth;
    const beyond = [...document.querySelectorAll('body *')]
        .filter(el => el.getBoundingClientRect().right > width + 0.5)
        .map(el => el.tagName.toLowerCase() + '.' + el.className);
    return [document.documentElement.scrollWidth - width, beyond.slice(0, 5)];
}"""


def screen(browser, width: int, *, locale: str = "en-GB") -> Page:
    """A browser at `width`; in French (`locale`), the page moves to French: longer words to fit."""
    context = browser.new_context(
        viewport={"width": width, "height": 844 if width < 768 else 900},
        is_mobile=width < 768,
        has_touch=width < 768,
        locale=locale,
    )
    context.set_default_timeout(10_000)
    return context.new_page()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png")


def first_add(page: Page) -> None:
    """The shopper's first Add, answered: the basket bar shows its Checkout."""
    page.locator("button[data-add]:visible").first.click()
    expect(page.locator("[data-basket] [data-checkout]")).to_be_visible()


def in_sight(page: Page, element) -> None:
    """The element is wholly on the screen (of the page, whichever frame it is in)."""
    box = element.bounding_box()
    assert box is not None and box["height"] > 0, box
    assert box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"] + 0.5, box


def popup_with_a_question(**kwargs):
    popup = showcase_popup(**kwargs)
    question = question_ask(
        popup=popup,
        name="Léa",
        email="lea@example.com",
        body="Does the mug go in the oven?",
        client_ip="198.51.100.4",
    )
    question_answer(question=question, answer="Up to 200 °C, yes.", by=None)
    return popup


@pytest.mark.parametrize("width", WIDTHS)
def test_the_page_fits_the_screen_and_the_basket_stays_in_sight_after_add(
    browser, store_url, width
):
    popup = popup_with_a_question()
    page = screen(browser, width, locale="fr-FR")
    page.goto(f"{store_url}{popup.get_absolute_url()}")
    for summary in page.locator("details.fold > summary").all():  # each feedback section
        summary.click()
    expect(page.locator("[data-ask]")).to_be_visible()  # the forms, shown by their script

    assert page.evaluate(SIDEWAYS) == [0, []]
    total = page.locator("[data-units-left] strong")
    before = int(total.inner_text())
    first_add(page)
    in_sight(page, page.locator("[data-basket]"))
    expect(total).to_have_text(str(before - 1))  # the drop's count follows the basket
    assert page.evaluate(SIDEWAYS) == [0, []]
    shot(page, f"page-{width}")
    page.context.close()


def test_live_figures_asked_before_the_first_add_do_not_undo_its_count(browser, store_url):
    popup = showcase_popup()
    page = screen(browser, 390)
    # The arrival's live call reaches the server before the Add and its answer comes back after.
    late, finished = [], []
    page.on("requestfinished", lambda request: "/live/" in request.url and finished.append(request))

    def hold_back(route):
        if late:
            return route.continue_()
        late.append((route, route.fetch()))

    page.route("**/live/**", hold_back)
    page.goto(f"{store_url}{popup.get_absolute_url()}")
    total = page.locator("[data-units-left] strong")
    before = int(total.inner_text())
    first_add(page)
    expect(total).to_have_text(str(before - 1))

    route, answer = late[0]
    route.fulfill(response=answer)

    def asked_again():  # the older answer, then the one asked again on seeing it
        assert len(finished) >= 2, finished

    eventually(page, asked_again)
    expect(total).to_have_text(str(before - 1))
    expect(page.locator("[data-basket] [data-checkout]")).to_be_visible()
    page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_embed_fits_its_frame_on_a_social_page_at_every_width(browser, store_url, host, width):
    popup = popup_with_a_question(allowed_embed_origins=host.origin)
    page = screen(browser, width, locale="fr-FR")
    loader = f'<script src="{store_url}/static/popup/embed.js" data-popup="{popup.slug}"></script>'
    html = (
        '<!doctype html><meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<body style="margin:0"><p style="padding:0 1rem">Our new drop:</p>{loader}</body>'
    )
    page.goto(host.serve(f"/phone-{width}", html))
    frame = page.frame_locator(f'iframe[src*="/popup/{popup.slug}/embed/"]')
    expect(frame.locator("details.fold > summary").first).to_be_visible()  # the frame's page
    for summary in frame.locator("details.fold > summary").all():  # each feedback section
        summary.click()
    expect(frame.locator("[data-ask]")).to_be_visible()

    inside = page.locator("iframe").element_handle().content_frame()
    assert inside.evaluate(SIDEWAYS) == [0, []]
    assert page.evaluate(SIDEWAYS) == [0, []]
    frame.locator("button[data-add]:visible").first.click()
    expect(frame.locator("[data-count]:visible")).to_have_text("1")
    assert inside.evaluate(SIDEWAYS) == [0, []]
    # The frame is as tall as its page: the loader keeps its basket bar on the visitor's screen.
    eventually(page, lambda: in_sight(page, frame.locator("[data-basket]")))
    shot(page, f"embed-{width}")
    page.mouse.wheel(0, 600)
    eventually(page, lambda: in_sight(page, frame.locator("[data-basket]")))
    page.context.close()


def test_a_product_all_in_baskets_says_when_units_may_come_back_not_sold_out(browser, store_url):
    popup = showcase_popup()
    mug = popup.product_terms.get(product__title="Speckled stoneware mug")  # 3 of 12 left
    hold_set(basket=basket_create(popup=popup), product_id=mug.product_id, quantity=3)
    tote = popup.product_terms.get(product__title="Indigo linen tote")  # all 15 sold
    page = screen(browser, 390)
    page.goto(f"{store_url}{popup.get_absolute_url()}")

    held = page.locator(f'[data-product="{mug.product_id}"]')
    expect(held.locator("[data-stock]")).to_have_text(
        "All in baskets for now: back in about 10 min if not bought."
    )
    expect(held.locator("button [data-add-label]")).to_have_text("In baskets")
    expect(held.locator("button[data-add]")).to_be_disabled()
    expect(held.locator("[data-notify]")).to_be_hidden()  # no waiting list for a few minutes
    sold = page.locator(f'[data-product="{tote.product_id}"]')
    expect(sold.locator("[data-stock]")).to_have_text("Sold out")
    expect(sold.locator("[data-notify]")).to_be_visible()
    held.scroll_into_view_if_needed()
    shot(page, "all-in-baskets-390")
    page.context.close()


def test_a_screen_reader_hears_the_hold_timer_at_two_minutes_not_every_second(browser, store_url):
    popup = showcase_popup()
    page = screen(browser, 390)
    page.goto(f"{store_url}{popup.get_absolute_url()}")
    first_add(page)
    assert page.locator("[data-basket-timer]").evaluate("t => !t.closest('[aria-live]')")
    alert = page.locator("[data-basket-alert]")
    assert alert.get_attribute("role") == "status" and alert.inner_text() == ""

    Hold.objects.update(reserved_until=timezone.now() + timedelta(seconds=100))
    page.reload()
    expect(alert).to_have_text(
        "2 minutes left before the items in your basket are released. "
        "Choose I need more time to keep them longer."
    )
    page.context.close()


# Whether the focused element shows (WCAG 2.4.11): the point at its centre is it, or inside it.
FOCUS_SHOWN = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return [true, ''];
    const box = el.getBoundingClientRect();
    const x = Math.min(Math.max(box.left + box.width / 2, 0), innerWidth - 1);
    const y = Math.min(Math.max(box.top + box.height / 2, 0), innerHeight - 1);
    const top = document.elementFromPoint(x, y);
    return [!!top && (el === top || el.contains(top)), el.outerHTML.slice(0, 80)];
}"""


def test_keyboard_focus_is_never_hidden_behind_the_basket_bar(browser, store_url):
    popup = popup_with_a_question()
    page = screen(browser, 390)
    page.goto(f"{store_url}{popup.get_absolute_url()}")
    first_add(page)
    page.evaluate("() => { document.activeElement.blur(); window.scrollTo(0, 0); }")
    hidden = []
    for _ in range(60):
        page.keyboard.press("Tab")
        shown, what = page.evaluate(FOCUS_SHOWN)
        if not shown:
            hidden.append(what)
    assert hidden == []
    page.context.close()


def test_the_drop_s_total_keeps_its_words_in_agreement_as_units_go(browser, store_url):
    popup = live_popup(1, units_offered=2)
    page = screen(browser, 390)
    page.goto(f"{store_url}{popup.get_absolute_url()}")
    total = page.locator("[data-units-left]")
    expect(total).to_have_text("2 units left in this drop")
    first_add(page)
    expect(total).to_have_text("1 unit left in this drop")
    page.get_by_role("button", name="One more Product 000").click()
    expect(total).to_have_text("0 units left in this drop")
    page.context.close()


@pytest.mark.parametrize("width", (320, 390))
@pytest.mark.usefixtures("stripe_settings", "localstripe")
def test_the_checkout_fits_the_phone(browser, store_url, width):
    popup = showcase_popup()
    page = screen(browser, width, locale="fr-FR")
    page.goto(f"{store_url}{popup.get_absolute_url()}")
    first_add(page)
    page.locator("[data-basket] [data-checkout]").click()
    expect(page.locator("#card input").first).to_be_visible()  # the card's fields, drawn
    assert page.evaluate(SIDEWAYS) == [0, []]
    shot(page, f"checkout-{width}")
    page.context.close()
