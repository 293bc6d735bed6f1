"""localstripe for the tests: a private instance on 127.0.0.1, started once per test session.

The fixtures `localstripe` (the server) and `stripe_settings` (settings pointed at it) are imported by
tests/conftest.py. localstripe is GPL test tooling: only tests/ and shop/localstripe_run.py touch it.
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "sk_test_localstripe"
PUBLISHABLE_KEY = "pk_test_localstripe"
WEBHOOK_SECRET = "whsec_tests_localstripe"


class LocalStripe:
    """A localstripe subprocess with its own temporary folder, port and log."""

    def __init__(self) -> None:
        self.tmpdir = tempfile.mkdtemp(prefix="localstripe-tests-")
        self.log_path = Path(self.tmpdir) / "access.log"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - open for the server's lifetime
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", "shop.localstripe_run", "--port", str(self.port)],
            cwd=ROOT,
            env={**os.environ, "TMPDIR": self.tmpdir},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_up()

    def _wait_until_up(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"localstripe exited: {self.log_path.read_text()}")
            try:
                if requests.get(f"{self.url}/js.stripe.com/v3/", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"localstripe did not answer on {self.url}")

    @property
    def js_url(self) -> str:
        return f"{self.url}/js.stripe.com/v3/"

    def register_webhook(
        self, url: str, *, secret: str = WEBHOOK_SECRET, name: str = "tests"
    ) -> None:
        """Have localstripe sign and send its events to `url` (replaces the registration `name`)."""
        response = requests.post(
            f"{self.url}/_config/webhooks/{name}", data={"url": url, "secret": secret}, timeout=5
        )
        response.raise_for_status()

    def reset(self) -> None:
        """Forget every object (DELETE /_config/data)."""
        requests.delete(f"{self.url}/_config/data", timeout=5).raise_for_status()

    def requests_logged(self) -> list[tuple[str, str]]:
        """(request line, Idempotency-Key sent or "-") of every request answered so far."""
        self._log.flush()
        text = self.log_path.read_text()
        return re.findall(r'"(\w+ \S+) HTTP/[\d.]+" \d+ idempotency-key="([^"]*)"', text)

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


@pytest.fixture(scope="session")
def localstripe() -> Iterator[LocalStripe]:
    server = LocalStripe()
    yield server
    server.close()


@pytest.fixture(name="localstripe")
def localstripe_alone() -> Iterator[LocalStripe]:
    """A localstripe for one test alone. popup_audit reads every PaymentIntent its Stripe holds:
    a module that audits imports this fixture (it then stands for `localstripe` there), so that
    no other test's payments (their orders flushed with their database) are counted."""
    server = LocalStripe()
    yield server
    server.close()


@pytest.fixture
def stripe_settings(settings, localstripe: LocalStripe):
    """Settings pointed at the session's localstripe, with the test keys and webhook secret."""
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = localstripe.url
    settings.STRIPE_JS_URL = localstripe.js_url
    return settings
