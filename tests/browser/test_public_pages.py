"""The public pages as a phone shows them, and what they make the browser fetch."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, expect

from .showcase import PRODUCTS, showcase_popup

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot-phone.png"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}

IMAGES_IN_VIEW_LOADED = """() => [...document.images]
    .filter(image => image.getBoundingClientRect().top < innerHeight)
    .every(image => image.complete && image.naturalWidth > 0)"""


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.mark.parametrize("page_name", ["full", "embed"])
def test_nothing_loads_from_a_third_party(page: Page, store_url, page_name):
    popup = showcase_popup()
    url = popup.get_absolute_url() if page_name == "full" else popup.get_embed_url()
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))

    page.goto(store_url + url, wait_until="networkidle")
    # Lazy images load only when scrolled to.
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_function(
        "() => [...document.images].every(image => image.complete && image.naturalWidth > 0)"
    )
    page.wait_for_load_state("networkidle")

    urls = [request.url for request in requests if not request.url.startswith("data:")]
    assert {origin(url) for url in urls} == {store_url}, urls
    # And all of them are there: page, stylesheet, script, hero and product images.
    kinds = {request.resource_type for request in requests}
    assert {"document", "stylesheet", "script", "image"} <= kinds
    images = [request for request in requests if request.resource_type == "image"]
    assert len(images) == len(PRODUCTS) + 1
    for request in requests:
        if urlsplit(request.url).path != "/favicon.ico":  # Chromium asks; the pages name none
            response = request.response()
            assert response is not None and response.status == 200, request.url


def test_phone_screenshot_for_the_readme(browser, store_url):
    popup = showcase_popup()
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        page.goto(store_url + popup.get_absolute_url(), wait_until="networkidle")
        expect(page.locator(".product")).to_have_count(len(PRODUCTS))
        expect(page.locator(".countdown time")).to_have_text("2d 04h 13m")
        page.wait_for_function(IMAGES_IN_VIEW_LOADED)

        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOT)
    finally:
        context.close()
    assert SCREENSHOT.stat().st_size > 50_000  # pictures, not an empty page
