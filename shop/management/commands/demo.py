import threading
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.template.loader import render_to_string

from popup.selectors import popup_storefront
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


class Command(BaseCommand):
    help = "Set up the demo store and run it, with a social-style host page on another port."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host-port", type=int, default=8001)
        parser.add_argument("--seed-only", action="store_true", help="Seed and exit.")

    def handle(self, *args, port, host_port, seed_only, **options):
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
        html = render_to_string(
            "demo/host.html",
            {
                "store_url": store,
                "first_slug": live.slug,
                "first_title": live.title,
                "second_slug": presale.slug,
                "second_title": presale.title,
            },
        ).encode()
        server = ThreadingHTTPServer(("127.0.0.1", host_port), partial(HostPage, html))
        threading.Thread(target=server.serve_forever, daemon=True).start()

        lines = ["", "django-oscar-popup demo", ""]
        for popup in popups:
            state = popup_storefront(popup=popup).state.label
            lines.append(f"  {state + ':':<36}{store}{popup.get_absolute_url()}")
        lines += [
            "",
            f"  Social page embedding two pop-ups:  http://127.0.0.1:{host_port}/",
            f"  Dashboard (Pop-ups section):        {store}/dashboard/popups/",
            f"  Staff login:                        {STAFF_EMAIL} / {STAFF_PASSWORD}",
            "",
        ]
        self.stdout.write("\n".join(lines))
        call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
