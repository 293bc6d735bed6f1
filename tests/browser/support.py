"""Helpers of the browser tests: a host page server on another origin, pop-ups to embed, waiting."""

import json
import re
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from popup.models import PopUp
from tests.factories import popup_with_products


class HostServer:
    """A web server on its own origin that serves the HTML it is given, like a page on a social site."""

    def __init__(self, hostname: str) -> None:
        pages: dict[str, bytes] = {}
        self.pages = pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(urlsplit(self.path).path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.origin = f"http://{hostname}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def serve(self, path: str, html: str) -> str:
        """Serve `html` at `path` from now on; returns the page's URL."""
        self.pages[path] = html.encode()
        return self.origin + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def live_popup(count: int, **kwargs) -> PopUp:
    """A live pop-up of `count` products that closes within hours, so its countdown shows seconds."""
    kwargs.setdefault("closes_at", timezone.now() + timedelta(hours=5))
    return popup_with_products(count, **kwargs)


def host_page(store_url: str, first: PopUp, second: PopUp) -> str:
    """The demo link-in-bio page embedding `first` with the script form and `second` with the link."""
    return render_to_string(
        "demo/host.html",
        {
            "store_url": store_url,
            "first_slug": first.slug,
            "first_title": first.title,
            "second_slug": second.slug,
            "second_title": second.title,
        },
    )


def eventually(page: Page, check: Callable[[], object], *, timeout: float = 5.0):
    """Call `check` until it stops raising AssertionError, at most `timeout` seconds.

    It waits with the page's own timer: Playwright's sync API delivers events (console messages...)
    only while one of its calls runs, never during a time.sleep.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.wait_for_timeout(100)


def shopper_details_fill(page: Page) -> None:
    """Who pays and where it ships, as a shopper types it on the checkout or pledge page."""
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Address", exact=True).fill("12 rue des Lilas")
    page.get_by_label("Postcode").fill("69001")
    page.get_by_label("City").fill("Lyon")
    page.get_by_label("Country").select_option("FR")


def card_fill(page: Page, number: str) -> None:
    """Type a test card into localstripe's card Element (five plain inputs, no iframe)."""
    card = page.locator("#card")
    card.get_by_placeholder("number", exact=True).fill(number)
    card.get_by_placeholder("exp_month").fill("12")
    card.get_by_placeholder("exp_year").fill("34")
    card.get_by_placeholder("cvc").fill("123")
    card.get_by_placeholder("postal_code").fill("69001")


def to_checkout(page: Page, frame) -> Page:
    frame.get_by_role("button", name="Add Product 000").click()
    frame.get_by_role("button", name="One more Product 000").click()
    expect(frame.locator("[data-basket]")).to_contain_text("2 items in your basket · €80.00")
    with page.context.expect_page() as opened:
        frame.get_by_role("link", name="Checkout").click()
    checkout = opened.value
    checkout.wait_for_load_state()
    expect(checkout.get_by_role("heading", name="Checkout")).to_be_visible()
    return checkout


def pay(checkout: Page, number: str) -> None:
    shopper_details_fill(checkout)
    card_fill(checkout, number)
    checkout.get_by_role("button", name=re.compile(r"^Order and pay €80\.00$")).click()


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def signed_in_as_staff(context, store_url) -> None:
    staff = get_user_model().objects.create_superuser("merchant", "merchant@example.com", "x")
    client = Client()
    client.force_login(staff)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": store_url}]
    )


AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def violations(
    page: Page, *, within: str | None = None, exclude: tuple[str, ...] = ()
) -> list[str]:
    """The serious and critical WCAG violations axe finds on the page as it is now (injected
    through the browser's devtools protocol: the pages' CSP allows no script of ours): in what the
    `within` selector finds (the whole page by default), outside what the `exclude` selectors find
    (another party's, drawn over the page)."""
    if not page.evaluate("() => !!window.axe"):
        page.evaluate(AXE.read_text())
    # Seen from the top, as a visitor arrives: where the page happens to be scrolled decides which
    # targets are half under the basket bar (axe's target-size counts only the part one can tap).
    page.evaluate("() => window.scrollTo(0, 0)")
    context = {"include": [[within or "html"]], "exclude": [[selector] for selector in exclude]}
    found = page.evaluate(
        "([tags, context]) => axe.run(context, {runOnly: {type: 'tag', values: tags}})"
        ".then(result => result.violations)",
        [WCAG, context],
    )
    return [
        f"{each['impact']} {each['id']}: {json.dumps([node['target'] for node in each['nodes']])}"
        for each in found
        if each["impact"] in ("serious", "critical")
    ]
