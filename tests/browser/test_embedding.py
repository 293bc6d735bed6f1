"""Pop-ups embedded in a social page on another origin, as shoppers and the pages' owners see them."""

import re

import pytest
from playwright.sync_api import Frame, Page, expect

from .support import eventually, host_page, live_popup

pytestmark = pytest.mark.browser

LOADER_DEFAULT_HEIGHT = "0px"  # hidden until the pop-up reports its height
COUNTDOWN = re.compile(r"^\d\dh \d\dm \d\ds$")
ALL_RESIZED = """initial => [...document.querySelectorAll('iframe')]
    .every(f => f.style.height && f.style.height !== initial)"""


def pop_up_frame(page: Page, slug: str) -> Frame:
    iframe = page.locator(f'iframe[src*="/popup/{slug}/embed/"]')
    expect(iframe).to_have_count(1)
    frame = iframe.element_handle().content_frame()
    assert frame is not None
    return frame


def document_height(frame: Frame) -> int:
    return frame.evaluate("Math.ceil(document.documentElement.getBoundingClientRect().height)")


def iframe_height(page: Page, slug: str) -> float:
    return page.locator(f'iframe[src*="/popup/{slug}/embed/"]').evaluate(
        "f => f.getBoundingClientRect().height"
    )


def test_a_social_page_embeds_two_pop_ups_that_tick_and_fit_their_content(page, store_url, host):
    drop = live_popup(2, title="Solstice drop", allowed_embed_origins=host.origin)
    presale = live_popup(7, title="Spring pre-sale", allowed_embed_origins=host.origin)

    page.goto(host.serve("/atelier-nord", host_page(store_url, drop, presale)))

    # The script form put its iframe right after itself; the link was replaced by an iframe.
    expect(page.locator("#drop script + iframe")).to_have_attribute("title", "Solstice drop")
    expect(page.locator("#presale iframe")).to_have_count(1)
    expect(page.locator("a[data-popup-link]")).to_have_count(0)
    expect(page.locator("iframe")).to_have_count(2)

    for popup, count in ((drop, 2), (presale, 7)):
        shop = page.frame_locator(f'iframe[src*="/popup/{popup.slug}/embed/"]')
        expect(shop.locator("h1")).to_have_text(popup.title)
        expect(shop.locator(".product h2")).to_have_text(
            [f"Product {number:03d}" for number in range(count)]
        )
        expect(shop.locator(".countdown time")).to_have_text(COUNTDOWN)

    # Both countdowns tick, each in its own frame.
    frames = {popup.slug: pop_up_frame(page, popup.slug) for popup in (drop, presale)}
    before = {slug: frame.inner_text(".countdown time") for slug, frame in frames.items()}
    page.wait_for_timeout(1100)
    for slug, frame in frames.items():
        after = frame.inner_text(".countdown time")
        assert COUNTDOWN.match(after)
        assert after != before[slug]

    # Each iframe grew or shrank from the loader's default to its document's height.
    page.wait_for_function(ALL_RESIZED, arg=LOADER_DEFAULT_HEIGHT)

    def fits() -> None:
        for slug, frame in frames.items():
            assert abs(iframe_height(page, slug) - document_height(frame)) <= 1

    eventually(page, fits)
    assert iframe_height(page, presale.slug) > iframe_height(page, drop.slug) + 100


def test_one_loader_serves_both_forms(page, store_url, host):
    drop = live_popup(1, allowed_embed_origins=host.origin)
    presale = live_popup(4, allowed_embed_origins=host.origin)
    html = host_page(store_url, drop, presale)
    second_loader = f'<script src="{store_url}/popup/embed.js" async></script>'
    assert html.count(second_loader) == 1
    # Only the script form's loader is left; it also upgrades the link further down.
    page.goto(host.serve("/one-loader", html.replace(second_loader, "")))

    expect(page.locator("iframe")).to_have_count(2)
    presale_shop = page.frame_locator(f'iframe[src*="/popup/{presale.slug}/embed/"]')
    expect(presale_shop.locator(".product")).to_have_count(4)
    page.wait_for_function(ALL_RESIZED, arg=LOADER_DEFAULT_HEIGHT)

    # A resize message from the host page itself, not from a pop-up's frame, changes nothing.
    heights = page.evaluate("[...document.querySelectorAll('iframe')].map(f => f.style.height)")
    page.evaluate("window.postMessage({type: 'popup:resize', height: 9999}, '*')")
    page.wait_for_timeout(200)
    assert (
        page.evaluate("[...document.querySelectorAll('iframe')].map(f => f.style.height)")
        == heights
    )


def framing_refusals(page: Page) -> list[str]:
    refusals: list[str] = []
    page.on(
        "console",
        lambda message: "frame-ancestors" in message.text and refusals.append(message.text),
    )
    return refusals


def wait_for_refusals(page: Page, refusals: list[str], count: int) -> None:
    def refused() -> None:
        assert len(refusals) >= count, refusals

    eventually(page, refused)


def assert_shows_no_shop(page: Page, iframe_selector: str, store_url: str) -> None:
    frame = page.locator(iframe_selector).element_handle().content_frame()
    assert frame is not None
    frame.wait_for_load_state()
    assert not frame.url.startswith(store_url)  # Chromium's error page stands in its place
    assert frame.locator(".products, .product").count() == 0


def test_a_site_the_pop_up_does_not_allow_cannot_frame_it(page, store_url, host, stranger):
    drop = live_popup(2, allowed_embed_origins=host.origin)
    presale = live_popup(3, allowed_embed_origins=host.origin)
    refusals = framing_refusals(page)

    page.goto(stranger.serve("/copycat", host_page(store_url, drop, presale)))

    # The loader still inserts both iframes, but Chromium refuses to render the shop in them.
    expect(page.locator("iframe")).to_have_count(2)

    wait_for_refusals(page, refusals, 2)
    # The visitor sees no error box: the frames stay hidden and the link form stays a link.
    page.wait_for_timeout(300)
    assert page.evaluate(
        "[...document.querySelectorAll('iframe')].map(f => getComputedStyle(f).visibility)"
    ) == ["hidden", "hidden"]
    expect(page.locator("a[data-popup-link]")).to_be_visible()
    assert all(host.origin in refusal for refusal in refusals)  # it names the allowed origins
    for popup in (drop, presale):
        assert_shows_no_shop(page, f'iframe[src*="/popup/{popup.slug}/embed/"]', store_url)


def test_nobody_can_frame_the_full_page(page, store_url, host):
    popup = live_popup(2, allowed_embed_origins=host.origin)
    full_page = f"{store_url}/popup/{popup.slug}/"
    response = page.request.get(full_page)
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    refusals = framing_refusals(page)

    # Not even a page the pop-up lets embed its iframe version ...
    page.goto(host.serve("/full-page", f'<iframe id="full" src="{full_page}"></iframe>'))
    wait_for_refusals(page, refusals, 1)
    assert_shows_no_shop(page, "#full", store_url)

    # ... nor the store itself.
    page.goto(f"{store_url}/popup/{popup.slug}/embed/")
    page.evaluate(
        "url => { const f = document.createElement('iframe'); f.id = 'full'; f.src = url;"
        " document.body.append(f); }",
        full_page,
    )
    wait_for_refusals(page, refusals, 2)
    assert_shows_no_shop(page, "#full", store_url)


def test_without_javascript_the_link_still_leads_to_the_shop(browser, store_url, host):
    drop = live_popup(2, allowed_embed_origins=host.origin)
    presale = live_popup(3, title="Spring pre-sale", allowed_embed_origins=host.origin)
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(host.serve("/atelier-nord-nojs", host_page(store_url, drop, presale)))
        expect(page.locator("iframe")).to_have_count(0)

        page.get_by_role("link", name="Spring pre-sale").click()

        expect(page).to_have_url(f"{store_url}/popup/{presale.slug}/")
        expect(page.locator("h1")).to_have_text("Spring pre-sale")
        expect(page.locator(".product")).to_have_count(3)
    finally:
        context.close()
