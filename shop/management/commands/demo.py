import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.template.loader import render_to_string

from popup.core.selectors import popup_storefront
from shop.demo import STAFF_EMAIL, STAFF_PASSWORD, demo_seed


class HostPage(BaseHTTPRequestHandler):
    """Serves one HTML page: the stand-in for a social or link-in-bio page on another origin."""

    def __init__(self, html: bytes, *args, **kwargs):
        self.html = html
        super().__init__(*args, **kwargs)

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.html)))
        self.end_headers()
        self.wfile.write(self.html)

    def log_message(self, format, *args):
        pass


@contextmanager
def localstripe_running(
    *, port: int, webhook_url: str, webhook_secret: str, log_path: Path
) -> Iterator[str]:
    """Run shop/localstripe_run.py on 127.0.0.1:`port` until the block ends; yields its URL.

    localstripe signs and sends its events to `webhook_url`. Its output goes to `log_path`.
    """
    url = f"http://127.0.0.1:{port}"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-u",
                "-m",
                "shop.localstripe_run",
                "--port",
                str(port),
                "--webhook-url",
                webhook_url,
                "--webhook-secret",
                webhook_secret,
            ],
            cwd=Path(__file__).resolve().parents[3],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise CommandError(f"localstripe stopped at once; see {log_path}")
            try:
                with urllib.request.urlopen(f"{url}/js.stripe.com/v3/", timeout=1):
                    break
            except (urllib.error.URLError, OSError) as error:
                if time.monotonic() > deadline:
                    raise CommandError(
                        f"localstripe did not answer on {url}; see {log_path}"
                    ) from error
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _refuse_unless_free(port: int) -> None:
    # runserver leaves with os._exit() when its port is taken, which would orphan localstripe.
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            raise CommandError(f"Port {port} on 127.0.0.1 is in use ({error}).") from error


def _default_localstripe_port() -> int:
    return urlsplit(getattr(settings, "LOCALSTRIPE_URL", "http://127.0.0.1:8420")).port or 8420


def meta_checkout_link(store: str, popup, product_id: int) -> str:
    """The checkout URL as a Facebook or Instagram shop calls it for one unit of the product."""
    query = {
        "products": f"popup{popup.pk}-{product_id}:1",
        "cart_origin": "instagram",
        "utm_source": "IGShopping",
        "utm_medium": "Social",
        "fbclid": "demo",
    }
    return f"{store}/popup/checkout-link/?{urlencode(query)}"


class Command(BaseCommand):
    help = "Set up the demo store and run it, with a social-style host page on another port."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host-port", type=int, default=8001)
        parser.add_argument(
            "--stripe-port",
            type=int,
            default=_default_localstripe_port(),
            help="localstripe's port (not started when STRIPE_SECRET_KEY is set in the environment)",
        )
        parser.add_argument("--seed-only", action="store_true", help="Seed and exit.")

    def handle(self, *args, port, host_port, stripe_port, seed_only, **options):
        store = f"http://127.0.0.1:{port}"
        call_command("migrate", interactive=False, verbosity=0)
        popups = demo_seed(
            site_domain=f"127.0.0.1:{port}",
            host_origins=[f"http://127.0.0.1:{host_port}", f"http://localhost:{host_port}"],
        )
        if seed_only:
            self.stdout.write(f"Demo data ready: {len(popups)} pop-ups.")
            return

        live, presale = popups[0], popups[2]
        tagged = live.product_terms.select_related("product").order_by("display_order", "pk")[0]
        html = render_to_string(
            "demo/host.html",
            {
                "store_url": store,
                "first_slug": live.slug,
                "first_title": live.title,
                "second_slug": presale.slug,
                "second_title": presale.title,
                "shop_product": tagged.product.get_title(),
                "shop_checkout": meta_checkout_link(store, live, tagged.product_id),
            },
        ).encode()
        _refuse_unless_free(port)
        server = ThreadingHTTPServer(("127.0.0.1", host_port), partial(HostPage, html))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        # A `kill` ends the demo like Ctrl-C does, so localstripe is stopped on the way out.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

        if os.environ.get("STRIPE_SECRET_KEY"):
            self._serve(store, port, host_port, popups, stripe=None)
            return
        _refuse_unless_free(stripe_port)
        if stripe_port != _default_localstripe_port():
            # runserver runs in this process (no reloader): point the settings at this port.
            settings.LOCALSTRIPE_URL = settings.STRIPE_API_BASE = f"http://127.0.0.1:{stripe_port}"
            settings.STRIPE_JS_URL = f"{settings.STRIPE_API_BASE}/js.stripe.com/v3/"
        with localstripe_running(
            port=stripe_port,
            webhook_url=f"{store}/popup/stripe/webhook/",
            webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
            log_path=Path(settings.VAR_DIR) / "localstripe.log",
        ) as stripe_url:
            self._serve(store, port, host_port, popups, stripe=stripe_url)

    def _serve(self, store: str, port: int, host_port: int, popups, *, stripe: str | None) -> None:
        lines = ["", "django-oscar-popup demo", ""]
        for popup in popups:
            state = popup_storefront(popup=popup).state.label
            lines.append(f"  {state + ':':<36}{store}{popup.get_absolute_url()}")
        placements = popups[0].placements.select_related("ambassador").order_by("pk")
        for placement in placements:
            lines.append(f"  {placement.name + ':':<36}{store}{placement.get_absolute_url()}")
            if placement.ambassador:
                ambassador = placement.ambassador
                lines.append(f"  {'Their private page:':<36}{store}{ambassador.get_absolute_url()}")
        tagged = popups[0].product_terms.order_by("display_order", "pk")[0]
        lines += [
            f"  {'Meta shop checkout link:':<36}"
            f"{meta_checkout_link(store, popups[0], tagged.product_id)}",
            "",
            f"  Social page embedding two pop-ups:  http://127.0.0.1:{host_port}/",
            f"  Dashboard (Pop-ups section):        {store}/dashboard/popups/",
            f"  Staff login:                        {STAFF_EMAIL} / {STAFF_PASSWORD}",
            (
                f"  Payments (localstripe, test cards): {stripe}  card 4242 4242 4242 4242"
                if stripe
                else "  Payments:                           Stripe (STRIPE_SECRET_KEY is set)"
            ),
            "",
        ]
        self.stdout.write("\n".join(lines))
        call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
