"""A flash sale over HTTP: N concurrent buyers race for M units, through our pop-up and through stock Oscar.

    .venv/bin/python bench/flash_sale.py [BUYERS [UNITS]]     # or BENCH_BUYERS / BENCH_UNITS; 200 / 50

Everything runs for real on 127.0.0.1: gunicorn (4 workers x 8 threads, DEBUG=0) serving the reference
store on a throwaway PostgreSQL database, and localstripe (shop/localstripe_run.py) standing in for
Stripe, with the store's webhook registered. Each buyer is a thread with its own HTTP session.

a) Our path: new pop-up basket, hold one unit (409 when none is left), then a card token at
   localstripe and the checkout's pay step. Orders and units sold are read from the database;
   charged_without_order counts PaymentIntents that hold or took money (requires_capture/succeeded)
   for a basket that has no order.
b) Stock Oscar: a product with M units in stock; each guest adds it to Oscar's basket and goes
   through Oscar's checkout (gateway as guest, shipping address, shipping method, place order).
   Oscar's default checkout takes no payment, so every order it places is counted.

Prints one JSON line. The database and both servers are removed at the end, also on errors.
"""

import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.plain_store.store import free_port  # noqa: E402 - after the path
from tests.stack import Process, card_token, stripe_listed  # noqa: E402

BUYERS = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BENCH_BUYERS", "200"))
UNITS = int(sys.argv[2] if len(sys.argv) > 2 else os.environ.get("BENCH_UNITS", "50"))
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DATABASE = f"popup_flash_{os.getpid()}"
TIMEOUT = (5, 30)  # connect, read: every request is bounded
WEBHOOK_SECRET = "whsec_localstripe_demo"  # shop/settings.py's, without STRIPE_SECRET_KEY
TOKEN_HEADER = "X-Popup-Basket"

SERVER_ENV = {
    "DATABASE_URL": f"{POSTGRES}/{DATABASE}",
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "bench-only",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "OSCAR_ALLOW_ANON_CHECKOUT": "1",
    "STRIPE_SECRET_KEY": "",  # localstripe, never real Stripe
    "LOCALSTRIPE_URL": "http://127.0.0.1:8420",  # the servers get the port actually chosen
    "REDIS_URL": "",
    "CELERY_BROKER_URL": "",  # tasks run in the request, as in the demo
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    # Each buyer from an address of their own (X-Forwarded-For), as a crowd's would be.
    "POPUP_TRUSTED_PROXIES": "127.0.0.1",
}
os.environ.update(SERVER_ENV)
os.environ["DJANGO_SETTINGS_MODULE"] = "shop.settings"


def admin_sql(statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute(statement)


def seed() -> dict:
    """A live pop-up offering UNITS of one product, and a plain Oscar product with UNITS in stock."""
    from django.core.management import call_command

    from popup.channels.placements import placement_create
    from popup.models import Ambassador, PopUpProduct
    from tests.factories import PopUpFactory, create_product, france

    call_command("migrate", interactive=False, verbosity=0)
    france()
    popup = PopUpFactory(slug="flash-sale", per_customer_limit=None)
    drop = create_product(title="Flash scarf", price=Decimal("40.00"), stock=UNITS)
    popup.range.add_product(drop)
    PopUpProduct.objects.create(popup=popup, product=drop, units_offered=UNITS)
    stock_oscar = create_product(title="Oscar scarf", price=Decimal("40.00"), stock=UNITS)
    # Buyers arrive through two placements, one of them an ambassador's (10% commission).
    bio = placement_create(popup=popup, name="Instagram bio")
    ambassador = Ambassador.objects.create(
        name="Sophie", email="sophie@example.com", code="SOPHIE", commission_percent=10
    )
    sophie = placement_create(popup=popup, name="Sophie", ambassador=ambassador)
    return {
        "placements": [bio.code, sophie.code],
        "slug": popup.slug,
        "popup_product": drop.pk,
        "oscar_product": stock_oscar.pk,
        "oscar_product_url": stock_oscar.get_absolute_url(),
    }


def run_buyers(buyer, count: int) -> list[dict]:
    start = threading.Barrier(count)
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda number: buyer(number, start), range(count)))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


# a) Our path ---------------------------------------------------------------------------------------

checkout_missing = threading.Event()


def popup_buyer(store: str, stripe_url: str, sale: dict):
    def buy(number: int, start: threading.Barrier) -> dict:
        session, slug = requests.Session(), sale["slug"]
        session.headers["X-Forwarded-For"] = f"10.0.{number // 250}.{number % 250 + 1}"
        result: dict = {"hold": None, "pay": None}
        placement = result["placement"] = sale["placements"][number % 2]
        start.wait()
        try:
            # The placement's short link (its click counted; the page it leads to is popup_page.py's
            # business), then the basket made on that page.
            landing = session.get(
                f"{store}/popup/p/{placement}/", allow_redirects=False, timeout=TIMEOUT
            )
            if landing.status_code != 302:
                raise requests.HTTPError(f"short link answered {landing.status_code}")
            response = session.post(
                f"{store}/popup/{slug}/basket/new/",
                json={"placement": placement, "utm": {"source": "bench"}},
                timeout=TIMEOUT,
            )
            token = result["token"] = response.json()["basket"]["token"]
            began = result["hold_sent"] = time.perf_counter()
            response = session.post(
                f"{store}/popup/{slug}/basket/lines/",
                json={"product": sale["popup_product"], "quantity": 1},
                headers={TOKEN_HEADER: token},
                timeout=TIMEOUT,
            )
            result.update(hold=response.status_code, hold_ms=(time.perf_counter() - began) * 1000)
            result["hold_done"] = time.perf_counter()
            if response.status_code != 200 or checkout_missing.is_set():
                return result
            for _reload in range(2):  # a checkout page opened twice is one checkout
                session.get(f"{store}/popup/checkout/{token}/", timeout=TIMEOUT)
            response = session.post(
                f"{store}/popup/checkout/{token}/pay/",
                json={
                    "email": f"buyer{number}@example.com",
                    "first_name": "Flash",
                    "last_name": f"Buyer {number}",
                    "line1": "1 rue de la Paix",
                    "city": "Paris",
                    "postcode": "75002",
                    "country": "FR",
                    "card_token": card_token(stripe_url),
                },
                timeout=TIMEOUT,
            )
            if response.status_code == 404 and "json" not in response.headers.get(
                "Content-Type", ""
            ):
                checkout_missing.set()  # no such URL (yet): an HTML 404, not the view's answer
                return result
            body = response.json()
            result.update(pay=response.status_code, pay_status=body.get("status"))
            result["order"] = body.get("order")
        except (requests.RequestException, ValueError, KeyError) as error:
            result["error"] = type(error).__name__
        return result

    return buy


def charged_without_order(stripe_url: str, results: list[dict]) -> int:
    """PaymentIntents holding or having taken money whose pop-up basket has no Oscar order.

    The checkout puts the basket's id in the PaymentIntent's metadata ("popup_basket"); the basket
    links to its order. An intent with no basket counts too: nobody could ship against it.
    """
    from oscar.core.loading import get_model

    from popup.models import PopUpBasket

    Order = get_model("order", "Order")
    baskets = {
        str(pk): (token, order)
        for pk, token, order in PopUpBasket.objects.values_list("pk", "token", "order")
    }
    answered = {r["token"]: r.get("order") for r in results if r.get("token")}
    orphans = 0
    for intent in stripe_listed(stripe_url):
        if intent["status"] not in ("succeeded", "requires_capture"):
            continue
        token, order = baskets.get(
            str((intent.get("metadata") or {}).get("popup_basket")), ("", None)
        )
        number = answered.get(token)
        has_order = order is not None or (
            bool(number) and Order.objects.filter(number=number).exists()
        )
        orphans += not has_order
    return orphans


def attribution_errors(sale: dict, results: list[dict]) -> dict:
    """What the placements' first-party figures say, against what the buyers really did.

    Each buyer knows their placement, whether they held a unit and opened the checkout, and their
    order; the figures come from the database as the dashboard reads them. Returns the counts
    that differ (empty: exact), and the ambassador's commission against 10% of their revenue.
    """
    from oscar.core.loading import get_model

    from popup.channels.selectors import channel_figures
    from popup.models import Commission, Placement

    Order = get_model("order", "Order")
    placements = {p.code: p for p in Placement.objects.filter(code__in=sale["placements"])}
    figures = channel_figures(by="placement", ids=[p.pk for p in placements.values()])
    errors = {}
    for code, placement in placements.items():
        mine = [r for r in results if r["placement"] == code]
        ordered = [r["order"] for r in mine if r.get("order")]
        truth = {
            "clicks": len(mine),
            "baskets": sum(bool(r.get("token")) for r in mine),
            "checkouts": sum(r.get("hold") == 200 for r in mine),
            "orders": len(ordered),
        }
        counted = figures[placement.pk]
        for name, value in truth.items():
            if getattr(counted, name) != value:
                errors[f"{placement.name} {name}"] = [getattr(counted, name), value]
        if placement.ambassador_id:
            revenue = sum(o.basket_total_incl_tax for o in Order.objects.filter(number__in=ordered))
            due = sum(c.amount for c in Commission.objects.filter(placement=placement))
            if Commission.objects.filter(placement=placement).count() != len(ordered):
                errors["commissions"] = [len(ordered), "orders"]
            if due != (revenue / 10).quantize(Decimal("0.01")):
                errors["commission"] = [str(due), str(revenue / 10)]
    return errors


def phase_popup(store: str, stripe_url: str, sale: dict) -> dict:
    from django.db.models import Sum
    from oscar.core.loading import get_model

    from popup.models import PopUpProduct

    Line = get_model("order", "Line")
    began = time.perf_counter()
    results = run_buyers(popup_buyer(store, stripe_url, sale), BUYERS)
    seconds = time.perf_counter() - began
    # localstripe's webhooks arrive about 1 s after a payment; without Redis, the funnel counts a
    # server process held during the rush reach the database within 2 s (popup.analytics.stats).
    time.sleep(3)
    hold_ms = [r["hold_ms"] for r in results if r.get("hold_ms") is not None]
    # From the first hold request sent to the last one answered.
    holds_span = max(r["hold_done"] for r in results if r.get("hold_done")) - min(
        r["hold_sent"] for r in results if r.get("hold_sent")
    )
    lines = Line.objects.filter(product_id=sale["popup_product"])
    units_ordered = lines.aggregate(units=Sum("quantity"))["units"] or 0
    units_sold = PopUpProduct.objects.get(product_id=sale["popup_product"]).units_sold
    return {
        "orders": lines.values("order").distinct().count(),
        "units_sold": units_sold,
        "units_ordered": units_ordered,
        "oversold": max(0, max(units_sold, units_ordered) - UNITS),
        "charged_without_order": charged_without_order(stripe_url, results),
        "attribution_errors": attribution_errors(sale, results),
        "holds": sum(r["hold"] == 200 for r in results),
        "holds_per_s": round(len(hold_ms) / holds_span, 1),
        "hold_p50_ms": round(statistics.median(hold_ms), 1),
        "hold_p99_ms": round(percentile(hold_ms, 0.99), 1),
        "hold_status": dict(Counter(str(r["hold"]) for r in results)),
        "pay_status": dict(
            Counter(f"{r['pay']} {r.get('pay_status')}" for r in results if r["pay"])
        ),
        "errors": dict(Counter(r["error"] for r in results if r.get("error"))),
        "checkout": "not available" if checkout_missing.is_set() else "available",
        "seconds": round(seconds, 1),
    }


# b) Stock Oscar ------------------------------------------------------------------------------------


def oscar_shopper(store: str, sale: dict):
    def shop(number: int, start: threading.Barrier) -> dict:
        session = requests.Session()
        product_url = f"{store}{sale['oscar_product_url']}"
        start.wait()
        try:
            session.get(product_url, timeout=TIMEOUT).raise_for_status()
            headers = {"X-CSRFToken": session.cookies["csrftoken"], "Referer": product_url}

            def post(path: str, data: dict) -> requests.Response:
                return session.post(
                    f"{store}{path}",
                    data=data,
                    headers=headers,
                    allow_redirects=False,
                    timeout=TIMEOUT,
                )

            post(f"/basket/add/{sale['oscar_product']}/", {"quantity": 1})
            post("/checkout/", {"username": f"guest{number}@example.com", "options": "anonymous"})
            post(
                "/checkout/shipping-address/",
                {
                    "first_name": "Guest",
                    "last_name": f"Shopper {number}",
                    "line1": "1 rue de la Paix",
                    "line4": "Paris",
                    "postcode": "75002",
                    "country": "FR",
                },
            )
            # One shipping method: Oscar chooses it and redirects on to payment.
            session.get(
                f"{store}/checkout/shipping-method/", allow_redirects=False, timeout=TIMEOUT
            )
            placed = post("/checkout/preview/", {"action": "place_order"})
            return {"placed": "thank-you" in placed.headers.get("Location", "")}
        except (requests.RequestException, KeyError) as error:
            return {"placed": False, "error": type(error).__name__}

    return shop


def phase_oscar(store: str, sale: dict) -> dict:
    from django.db.models import Sum
    from oscar.core.loading import get_model

    Line = get_model("order", "Line")
    StockRecord = get_model("partner", "StockRecord")
    began = time.perf_counter()
    results = run_buyers(oscar_shopper(store, sale), BUYERS)
    lines = Line.objects.filter(product_id=sale["oscar_product"])
    units_ordered = lines.aggregate(units=Sum("quantity"))["units"] or 0
    stock = StockRecord.objects.get(product_id=sale["oscar_product"])
    return {
        "orders": lines.values("order").distinct().count(),
        "oversold": max(0, units_ordered - UNITS),
        "num_allocated": stock.num_allocated,
        "errors": dict(Counter(r["error"] for r in results if r.get("error"))),
        "seconds": round(time.perf_counter() - began, 1),
    }


def main() -> None:
    began = time.perf_counter()
    logs = Path(tempfile.mkdtemp(prefix="flash-sale-"))
    servers: list[Process] = []
    admin_sql(f'CREATE DATABASE "{DATABASE}"')
    try:
        import django

        django.setup()
        from django.db import connections

        sale = seed()
        connections.close_all()
        store_port, stripe_port = free_port(), free_port()
        store, stripe_url = f"http://127.0.0.1:{store_port}", f"http://127.0.0.1:{stripe_port}"
        servers.append(
            Process(
                "localstripe",
                [sys.executable, "-u", "-m", "shop.localstripe_run", "--port", str(stripe_port)]
                + ["--webhook-url", f"{store}/popup/stripe/webhook/"]
                + ["--webhook-secret", WEBHOOK_SECRET],
                {**os.environ, "TMPDIR": str(logs)},
                logs,
                probe=f"{stripe_url}/js.stripe.com/v3/",
            )
        )
        servers.append(
            Process(
                "gunicorn",
                [sys.executable, "-m", "gunicorn", "shop.wsgi", "-b", f"127.0.0.1:{store_port}"]
                + ["-w", "4", "-k", "gthread", "--threads", "8", "--timeout", "60"],
                {**os.environ, "LOCALSTRIPE_URL": stripe_url},
                logs,
                probe=f"{store}/popup/{sale['slug']}/",
            )
        )
        # Warm every worker (imports, templates) so the race measures the sale, not start-up.
        for _ in range(16):
            requests.get(f"{store}/popup/{sale['slug']}/", timeout=TIMEOUT)
            requests.get(f"{store}{sale['oscar_product_url']}", timeout=TIMEOUT)

        ours = phase_popup(store, stripe_url, sale)
        oscar = phase_oscar(store, sale)
        print(
            json.dumps(
                {
                    "buyers": BUYERS,
                    "units": UNITS,
                    **ours,
                    "oscar": oscar,
                    "total_seconds": round(time.perf_counter() - began, 1),
                }
            )
        )
    finally:
        for server in reversed(servers):
            server.close()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001 - Django may not be set up yet
            pass
        admin_sql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


if __name__ == "__main__":
    main()
