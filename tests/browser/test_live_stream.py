"""Figures pushed into open pages (popup.stream): what another shopper holds shows at once, on the
page and in an embed, with no poll; a stream that cannot open leaves the page polling."""

import pytest
from playwright.sync_api import expect

from tests.popup.checkout.support import held_over_http

from .support import live_popup

pytestmark = pytest.mark.browser


def opened(page, url: str) -> list[str]:
    """Open `url` once its first live call has answered; the live calls made, as they come."""
    calls = []
    page.on("request", lambda request: "/live/" in request.url and calls.append(request.url))
    with page.expect_response(lambda response: "/live/" in response.url):
        page.goto(url)
    return calls


def test_a_hold_by_another_shopper_shows_on_open_pages_without_a_poll(
    page, context, store_url, stream_server, settings, client, host
):
    settings.POPUP_STREAM_URL = f"{stream_server.url}/popup/stream/"  # another origin, as a CDN's
    popup = live_popup(1, units_offered=10, allowed_embed_origins=host.origin)
    product = popup.range.all_products().get()
    page.set_viewport_size({"width": 390, "height": 844})
    with page.expect_request(lambda request: "/popup/stream/" in request.url):
        calls = opened(page, f"{store_url}/popup/{popup.slug}/")
    stock = page.locator("[data-product] [data-stock]")
    expect(stock).to_have_text("10 left")

    embedded = context.new_page()
    script = f'<script src="{store_url}/popup/embed.js" data-popup="{popup.slug}" async></script>'
    with embedded.expect_request(lambda request: "/popup/stream/" in request.url):
        embedded.goto(host.serve(f"/{popup.slug}", f"<h1>Links</h1>{script}"))
    frame = embedded.frame_locator(f'iframe[src*="/popup/{popup.slug}/embed/"]')
    expect(frame.locator("[data-product] [data-stock]")).to_have_text("10 left")
    page.wait_for_timeout(500)  # the streams' first figures are in
    polled = len(calls)

    held_over_http(client, popup, product.pk, 3)
    expect(stock).to_have_text("7 left", timeout=5000)  # a poll would take 15 s
    expect(page.locator("[data-units-left]")).to_contain_text("7 units left in this drop")
    expect(frame.locator("[data-product] [data-stock]")).to_have_text("7 left", timeout=5000)
    assert len(calls) == polled  # pushed, not asked for
    assert context.cookies() == []

    held_over_http(client, popup, product.pk, 7)  # the rest: the last units are in baskets
    expect(page.locator("[data-product] [data-add]")).to_be_disabled(timeout=5000)
    expect(stock).to_contain_text("All in baskets for now")


def test_without_a_stream_process_the_page_polls_as_before(page, store_url, settings, client):
    settings.POPUP_STREAM_URL = f"{store_url}/no-stream-here/"  # answers 404, not a stream
    popup = live_popup(1, units_offered=10)
    product = popup.range.all_products().get()
    calls = opened(page, f"{store_url}/popup/{popup.slug}/")
    held_over_http(client, popup, product.pk, 3)
    expect(page.locator("[data-product] [data-stock]")).to_have_text("7 left", timeout=30_000)
    assert len(calls) >= 2  # the poll brought it
