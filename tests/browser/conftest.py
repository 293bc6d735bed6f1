"""Browser fixtures: Debian's Chromium through Playwright, the store on live_server, host pages elsewhere.

The store runs on pytest-django's live_server (http://localhost:<port>); the pages that embed pop-ups
are served by small http.servers on other origins, as a social or link-in-bio page would be.
"""

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from .support import HostServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def store_url(live_server, settings) -> str:
    """The store's origin, with uploaded media served as a deployment's web server would."""
    settings.ROOT_URLCONF = "tests.browser.urls"
    return live_server.url.rstrip("/")


@pytest.fixture(scope="session")
def _host_servers() -> Iterator[dict[str, HostServer]]:
    servers: dict[str, HostServer] = {}
    yield servers
    for server in servers.values():
        server.close()


def _host_server(servers: dict[str, HostServer], name: str, live_server) -> HostServer:
    if name not in servers:
        # Another host name than the store's, so the page is cross-site and not only cross-origin.
        store_host = urlsplit(live_server.url).hostname
        servers[name] = HostServer("localhost" if store_host == "127.0.0.1" else "127.0.0.1")
    return servers[name]


@pytest.fixture
def host(_host_servers, live_server) -> HostServer:
    """The social page that the pop-ups under test allow to embed them."""
    return _host_server(_host_servers, "host", live_server)


@pytest.fixture
def stranger(_host_servers, live_server) -> HostServer:
    """Another site, which no pop-up allows to embed it."""
    return _host_server(_host_servers, "stranger", live_server)
