"""Settle an all-or-nothing pre-sale of N pledges with 2 Celery workers, one of them killed mid-run.

    .venv/bin/python bench/presale_settlement.py [--pledges 2000] [--declining-share 0.05]
                                                 [--kill-after 0.3] [--sweep-every 60]

Everything runs for real on 127.0.0.1: a throwaway PostgreSQL database (migrated, dropped at the end),
Redis database 11 as the broker (flushed before and after), localstripe (shop/localstripe_run.py) on a
free port, and two `celery -A shop worker --pool solo` processes.

Setup (timed apart): N backers pledge one unit each through the real services (basket_create, hold_set,
pledge_start, the SetupIntent confirmed at localstripe as Stripe.js does, pledge_confirm), from a
few threads; a share of them save 4000000000000341, a card that saves but is declined when charged.
The goal is met and the deadline has passed.

Run (timed): presale_settle_run is queued, as the beat schedule's sweep does after the deadline. Once
--kill-after of the pledges have left `pledged`/`charging`, one worker gets SIGKILL while it works. The
bench then plays the beat schedule: presales_sweep every --sweep-every seconds (the schedule's 60 by
default), which is how a charge left `charging` by the dead worker is finished from Stripe's record
once its lease (CHARGE_LEASE) has run out. No web server runs, so Stripe's webhooks (which can record
a dead worker's charge sooner) are not delivered: the lease and the sweep are the only way back. It
stops when no pledge is `pledged` or `charging`, or after --timeout seconds.

Prints one JSON line on stdout (progress goes to stderr). double_charged counts pledges with more than
one succeeded PaymentIntent at localstripe; missed counts pledges left unsettled, paid pledges without
an order and orders without a paid pledge; charged_not_paid counts pledges whose card was charged
while the pledge is not paid; idle_s is the time the broker's queue was empty while pledges were still
unsettled (waiting for a lease or the next sweep); the CPU seconds are those used during the run.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.plain_store.store import process_stop  # noqa: E402 - after the path

POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DATABASE = f"popup_bench_settlement_{os.getpid()}"
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/11")
SECRET_KEY = "sk_test_localstripe"
PUBLISHABLE_KEY = "pk_test_localstripe"
VISA = "4242424242424242"
DECLINED_ON_CHARGE = "4000000000000341"  # saves fine, declined when charged
SETUP_THREADS = 4
TIMEOUT = (5, 60)  # connect, read: every request to localstripe is bounded


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


STRIPE_URL = f"http://127.0.0.1:{free_port()}"
ENV = {
    "DJANGO_SETTINGS_MODULE": "shop.settings",
    "DATABASE_URL": f"{POSTGRES}/{DATABASE}",
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "bench-only",
    "STRIPE_SECRET_KEY": "",  # localstripe, never real Stripe
    "LOCALSTRIPE_URL": STRIPE_URL,
    "REDIS_URL": "",
    "CELERY_BROKER_URL": BROKER,  # the workers' broker, and this process's: tasks leave it
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "POPUP_VAR_DIR": tempfile.mkdtemp(prefix="presale-settlement-var-"),
}
os.environ.update(ENV)

began = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - began:7.1f}s] {message}", file=sys.stderr, flush=True)


def admin_sql(statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute(statement)


def flush_broker() -> None:
    import redis

    redis.Redis.from_url(BROKER).flushdb()


class Process:
    """A subprocess of this bench, its output in a log file; stopped by close()."""

    def __init__(self, name: str, args: list[str], logs: Path, env: dict | None = None) -> None:
        self.name, self.log_path = name, logs / f"{name}.log"
        with open(self.log_path, "wb") as output:
            self.process = subprocess.Popen(
                args,
                cwd=ROOT,
                env={**os.environ, **(env or {})},
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def check_running(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited: {self.log_path.read_text()[-2000:]}")

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far (Linux)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        process_stop(self.process)


def localstripe_start(logs: Path) -> Process:
    port = STRIPE_URL.rsplit(":", 1)[1]
    server = Process(
        "localstripe",
        [sys.executable, "-u", "-m", "shop.localstripe_run", "--port", port],
        logs,
        {"TMPDIR": str(logs)},
    )
    deadline = time.monotonic() + 30
    while True:
        server.check_running()
        try:
            if requests.get(f"{STRIPE_URL}/js.stripe.com/v3/", timeout=1).ok:
                return server
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"localstripe did not answer on {STRIPE_URL}")
        time.sleep(0.2)


def workers_start(count: int, logs: Path) -> list[Process]:
    from shop.celery import app

    workers = [
        Process(
            f"worker{number}",
            [sys.executable, "-m", "celery", "-A", "shop", "worker", "--pool", "solo"]
            + ["--hostname", f"bench{number}-{os.getpid()}@%h", "--loglevel", "WARNING"]
            + ["--without-heartbeat", "--without-gossip", "--without-mingle"],
            logs,
        )
        for number in range(1, count + 1)
    ]
    deadline = time.monotonic() + 60
    while len(app.control.ping(timeout=1.0)) < count:
        for worker in workers:
            worker.check_running()
        if time.monotonic() > deadline:
            raise RuntimeError("the Celery workers did not answer a ping")
    return workers


# Setup ---------------------------------------------------------------------------------------------


def presale_create(pledges: int):
    """An all-or-nothing pre-sale of one product, with a goal the pledges will meet."""
    from django.core.management import call_command
    from oscar.core.loading import get_model

    from popup.models import PopUp, PopUpProduct
    from tests.factories import PopUpFactory, create_product

    call_command("migrate", interactive=False, verbosity=0)
    get_model("address", "Country").objects.create(
        iso_3166_1_a2="FR",
        iso_3166_1_a3="FRA",
        iso_3166_1_numeric="250",
        printable_name="France",
        name="French Republic",
        is_shipping_country=True,
    )
    popup = PopUpFactory(
        slug="settlement",
        kind=PopUp.Kind.PRESALE,
        presale_goal_units=max(1, pledges // 2),
        presale_ships_on=date.today() + timedelta(days=90),
        presale_funding=PopUp.Funding.ALL_OR_NOTHING,
        presale_charge_when=PopUp.ChargeWhen.DEADLINE,
        per_customer_limit=None,
    )
    candle = create_product(title="Ember smart candle", price=Decimal("45.00"), stock=pledges)
    popup.range.add_product(candle)
    PopUpProduct.objects.create(
        popup=popup, product=candle, units_offered=pledges, price=Decimal("39.00")
    )
    return popup, candle


def setup_intent_confirm(client_secret: str, number: str) -> None:
    """Save a card on a SetupIntent, as Stripe.js confirmCardSetup does."""
    setup_intent_id = client_secret.split("_secret_")[0]
    response = requests.post(
        f"{STRIPE_URL}/v1/setup_intents/{setup_intent_id}/confirm",
        json={
            "key": PUBLISHABLE_KEY,
            "client_secret": client_secret,
            "payment_method_data": {
                "type": "card",
                "card": {"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"},
            },
        },
        timeout=TIMEOUT,
    )
    response.raise_for_status()


def backer_pledges(popup, product, number: int, card: str) -> None:
    """Backer `number` pledges one unit and saves `card`, as the pledge page does."""
    from popup.checkout.services import ShopperDetails
    from popup.core.holds import basket_create, hold_set
    from popup.presales.pledges import pledge_confirm, pledge_start

    basket = basket_create(popup=popup)
    hold_set(basket=basket, product_id=product.pk, quantity=1)
    details = ShopperDetails(
        email=f"backer{number}@example.com",
        first_name="Backer",
        last_name=str(number),
        line1="12 rue des Lilas",
        line2="",
        city="Lyon",
        postcode="69001",
        country="FR",
    )
    setup = pledge_start(basket=basket, details=details)
    setup_intent_confirm(setup.client_secret, card)
    pledge_confirm(basket_id=basket.pk, setup_intent_id=setup.setup_intent_id)


def pledges_create(popup, product, count: int, declining_share: float) -> int:
    """`count` real pledges, the declining share spread evenly; returns how many will be declined."""
    declining = round(count * declining_share)
    declined = {number * count // declining for number in range(declining)}
    done = 0
    lock = threading.Lock()

    def one(number: int) -> None:
        nonlocal done
        backer_pledges(popup, product, number, DECLINED_ON_CHARGE if number in declined else VISA)
        with lock:
            done += 1
            if done % 250 == 0:
                log(f"{done} pledges made")

    with ThreadPoolExecutor(max_workers=SETUP_THREADS) as pool:
        list(pool.map(one, range(count)))
    return len(declined)


# Run -----------------------------------------------------------------------------------------------


def statuses(popup) -> Counter:
    from django.db.models import Count

    from popup.models import Pledge

    rows = Pledge.objects.filter(popup=popup).values_list("status").annotate(n=Count("pk"))
    return Counter(dict(rows))


def settle(popup, workers: list[Process], stripe: Process, args) -> dict:
    """Queue the settlement, kill a worker at --kill-after, sweep like the beat until all is final."""
    import redis
    from django.utils import timezone

    from popup.models import Pledge, PledgeEvent, PopUp
    from popup.tasks import presale_settle_run, presales_sweep

    PopUp.objects.filter(pk=popup.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    unsettled = (Pledge.Status.PLEDGED, Pledge.Status.CHARGING)
    total = args.pledges
    killed: dict = {}
    queue = redis.Redis.from_url(BROKER)
    idle = 0.0  # seconds with nothing queued while pledges were unsettled: waiting for the beat
    cpu = {"localstripe": stripe.cpu_seconds(), "worker": workers[1].cpu_seconds()}
    started, triggered_at = time.perf_counter(), timezone.now()
    presale_settle_run.delay(popup.pk)
    last_sweep = started
    last_report = previous = started
    while True:
        now = time.perf_counter()
        queued = queue.llen("celery")
        if not queued:
            idle += now - previous
        previous = now
        counts = statuses(popup)
        left = sum(counts[status] for status in unsettled)
        settled = total - left
        if left == 0:
            break
        if not killed and settled >= args.kill_after * total:
            victim = workers[0]
            victim.process.send_signal(signal.SIGKILL)
            victim.process.wait()
            killed = {
                "worker_killed_at_s": round(now - started, 1),
                "settled_at_kill": settled,
                "charging_at_kill": counts[Pledge.Status.CHARGING],
            }
            log(f"SIGKILL {victim.name} (pid {victim.process.pid}): {settled} settled, {counts}")
        if now - last_sweep >= args.sweep_every:
            presales_sweep.delay()
            last_sweep = now
            log("presales_sweep queued, as the beat schedule does")
        if now - last_report >= 10:
            log(f"{settled}/{total} settled, {queued} tasks queued: {dict(counts)}")
            last_report = now
        if now - started > args.timeout:
            log(f"timed out with {left} pledges unsettled")
            break
        for worker in workers[1:]:
            worker.check_running()
        time.sleep(0.25)
    seconds = time.perf_counter() - started
    cpu = {
        "localstripe_cpu_s": round(stripe.cpu_seconds() - cpu["localstripe"], 1),
        "surviving_worker_cpu_s": round(workers[1].cpu_seconds() - cpu["worker"], 1),
    }
    resumed = PledgeEvent.objects.filter(pledge__popup=popup, note="Charge resumed")
    last_resume = resumed.order_by("-created_at").values_list("created_at", flat=True).first()
    return {
        "seconds": seconds,
        "idle_s": round(idle, 1),
        **killed,
        "charges_resumed": resumed.values("pledge").distinct().count(),
        "last_resumed_at_s": (
            round((last_resume - triggered_at).total_seconds(), 1) if last_resume else None
        ),
        **cpu,
    }


# Measure -------------------------------------------------------------------------------------------


def payment_intents() -> list[dict]:
    """Every PaymentIntent localstripe has, page by page."""
    intents: list[dict] = []
    params: dict = {"limit": 100}
    while True:
        response = requests.get(
            f"{STRIPE_URL}/v1/payment_intents",
            params=params,
            auth=(SECRET_KEY, ""),
            timeout=TIMEOUT,
        )
        response.raise_for_status()
        page = response.json()
        intents.extend(page["data"])
        if not page["has_more"] or not page["data"]:
            return intents
        params["starting_after"] = page["data"][-1]["id"]


def outcome(popup) -> dict:
    from oscar.core.loading import get_model

    from popup.models import Pledge

    Order = get_model("order", "Order")
    counts = statuses(popup)
    charged = Counter(
        (intent.get("metadata") or {}).get("popup_pledge")
        for intent in payment_intents()
        if intent["status"] == "succeeded"
    )
    paid_ids = {
        str(pk)
        for pk in Pledge.objects.filter(popup=popup, status=Pledge.Status.PAID).values_list(
            "pk", flat=True
        )
    }
    unsettled = counts[Pledge.Status.PLEDGED] + counts[Pledge.Status.CHARGING]
    paid_without_order = Pledge.objects.filter(
        popup=popup, status=Pledge.Status.PAID, order__isnull=True
    ).count()
    orders_without_paid_pledge = Order.objects.exclude(pledge__status=Pledge.Status.PAID).count()
    return {
        "paid": counts[Pledge.Status.PAID],
        "failed": counts[Pledge.Status.FAILED] + counts[Pledge.Status.RETRYING],
        "dropped": counts[Pledge.Status.DROPPED],
        "double_charged": sum(1 for times in charged.values() if times > 1),
        "missed": unsettled + paid_without_order + orders_without_paid_pledge,
        "charged_not_paid": sum(1 for pledge in charged if pledge not in paid_ids),
        "orders": Order.objects.count(),
        "statuses": dict(counts),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pledges", type=int, default=2000)
    parser.add_argument("--declining-share", type=float, default=0.05)
    parser.add_argument("--kill-after", type=float, default=0.3, help="share settled, then SIGKILL")
    parser.add_argument("--sweep-every", type=float, default=None, help="seconds (the beat's 60)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds, from the trigger")
    args = parser.parse_args()

    logs = Path(tempfile.mkdtemp(prefix="presale-settlement-"))
    processes: list[Process] = []
    admin_sql(f'CREATE DATABASE "{DATABASE}"')
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.db import connections

        if args.sweep_every is None:
            args.sweep_every = settings.CELERY_BEAT_SCHEDULE["popup-presales-sweep"]["schedule"]
        flush_broker()
        processes.append(localstripe_start(logs))
        popup, product = presale_create(args.pledges)
        log(f"pledging {args.pledges} (logs in {logs})")
        setup_began = time.perf_counter()
        declining = pledges_create(popup, product, args.pledges, args.declining_share)
        setup_seconds = time.perf_counter() - setup_began
        log(f"{args.pledges} pledges in {setup_seconds:.1f} s")
        connections.close_all()
        flush_broker()  # the "pledged" e-mails queued while pledging: not part of settlement
        workers = workers_start(2, logs)
        processes.extend(workers)
        log("2 workers up; settling")
        run = settle(popup, workers, processes[0], args)
        seconds = run.pop("seconds")
        print(
            json.dumps(
                {
                    "pledges": args.pledges,
                    "declining": declining,
                    **outcome(popup),
                    "seconds": round(seconds, 1),
                    "pledges_per_s": round(args.pledges / seconds, 1),
                    # The same, leaving out the time spent waiting for the beat's next sweep.
                    "pledges_per_s_busy": round(args.pledges / (seconds - run["idle_s"]), 1),
                    **run,
                    "workers": 2,
                    "sweep_every_s": args.sweep_every,
                    "setup_seconds": round(setup_seconds, 1),
                }
            )
        )
    finally:
        for process in reversed(processes):
            process.close()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001 - Django may not be set up yet
            pass
        flush_broker()
        admin_sql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


if __name__ == "__main__":
    main()
