"""A private stack, as an operator pulling plugs would have it: its own PostgreSQL (initdb as the
`postgres` user in a temporary folder, on its own port), localstripe behind a StripeProxy
(tests/faults.py), the reference store under gunicorn (DJANGO_DEBUG=0), and optionally a Redis, a
Celery worker and localstripe's webhooks. Used by the fault tests that stop or kill processes and by
bench/money_faults.py; the shared 127.0.0.1:5432 and :6379 are never touched.

Shoppers buy over HTTP (`Stack.buy`); operators run `Stack.manage` (popup_reconcile, popup_audit),
which reads the same database and the same localstripe.

    python -m tests.stack seed     # (what Stack runs) a live pop-up on DATABASE_URL, as JSON
"""

import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import redis
import requests

from tests.faults import StripeProxy
from tests.integrations.stripe.support import event_payload, signed
from tests.localstripe_server import PUBLISHABLE_KEY
from tests.object_store import ObjectStore
from tests.plain_store.store import free_port, process_stop
from tests.streams import StreamServer

ROOT = Path(__file__).resolve().parents[1]
STRIPE_KEY = "sk_test_localstripe"
WEBHOOK_SECRET = "whsec_localstripe_demo"  # shop/settings.py's, without STRIPE_SECRET_KEY
TIMEOUT = (5, 40)  # connect, read: longer than gunicorn's own timeout, so it answers first
UNITS = 400
SHOPPER = {
    "first_name": "Camille",
    "last_name": "Martin",
    "line1": "1 rue de la Paix",
    "city": "Paris",
    "postcode": "75002",
    "country": "FR",
}


def _postgres_bin() -> Path:
    versions = sorted(os.listdir("/usr/lib/postgresql"), key=int)
    return Path("/usr/lib/postgresql") / versions[-1] / "bin"


def wait_until(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


class PrivatePostgres:
    """A PostgreSQL cluster of its own; as root, made and run by the `postgres` user."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="popup-pg-"))
        self.data, self.log = self.folder / "data", self.folder / "postgres.log"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()

    def _run(self, program: str, *args) -> None:
        command = [str(_postgres_bin() / program), *map(str, args)]
        if os.geteuid() == 0:  # initdb refuses root
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{program} failed: {done.stderr}\n{log}")

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def sql(self, statement: str) -> None:
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(statement)

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):  # already down
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


class PrivateRedis:
    """A redis-server of its own, on its own port and folder; `stop` and `start` keep the port."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="popup-redis-")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.folder]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        wait_until(self._answers, timeout=10, what="the private redis-server")

    def _answers(self) -> bool:
        try:
            return redis.Redis.from_url(self.url).ping()
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class Process:
    """A subprocess of the stack, its output in the stack's log folder; `probe` (a URL) or nothing
    tells when it is up."""

    def __init__(self, name: str, args: list[str], env: dict, logs: Path, probe: str = "") -> None:
        self.name, self.args, self.env, self.probe = name, args, env, probe
        self.log_path = logs / f"{name}.log"
        self.start()

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a group of its own, its children with it
            )
        if self.probe:
            wait_until(self._answers, timeout=60, what=self.name)

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited: {self.log_path.read_text()[-3000:]}")
        try:
            requests.get(self.probe, timeout=2)
            return True
        except requests.RequestException:
            return False

    def children(self) -> list[int]:
        """The process's children (gunicorn's workers)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def kill(self) -> None:
        """SIGKILL to the process and its children: nothing is finished or cleaned up, as when
        the machine loses them."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        process_stop(self.process)


def card_token(stripe_url: str) -> str:
    """A card token made at localstripe, as Stripe.js makes one in the shopper's browser."""
    response = requests.post(
        f"{stripe_url}/v1/tokens",
        data={
            "card[number]": "4242424242424242",
            "card[exp_month]": "12",
            "card[exp_year]": "2030",
            "card[cvc]": "123",
        },
        headers={"Authorization": f"Bearer {STRIPE_KEY}"},
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    return response.json()["id"]


def stripe_listed(stripe_url: str, kind: str = "payment_intents") -> list[dict]:
    """Every object of `kind` (payment_intents, setup_intents...) localstripe holds, page by page."""
    listed, after = [], None
    while True:
        params = {"limit": 100, **({"starting_after": after} if after else {})}
        response = requests.get(
            f"{stripe_url}/v1/{kind}",
            params=params,
            headers={"Authorization": f"Bearer {STRIPE_KEY}"},
            timeout=TIMEOUT,
        )
        response.raise_for_status()
        page = response.json()
        listed += page["data"]
        if not page.get("has_more") or not page["data"]:
            return listed
        after = page["data"][-1]["id"]


def _answered(bought: "Bought", response: requests.Response) -> "Bought":
    """What the store answered the shopper: its status, its JSON (or the start of what it was)."""
    bought.pay = response.status_code
    try:
        bought.body = response.json()
    except ValueError:
        bought.body = {"not_json": response.text[:200]}
    bought.order = bought.body.get("order") or ""
    return bought


@dataclass
class Bought:
    """What a shopper saw: the hold's and the payment's HTTP status (0: no answer), the order."""

    token: str
    hold: int
    pay: int = 0
    order: str = ""
    body: dict | None = None


class Stack:
    """The reference store on a private PostgreSQL, with localstripe behind a proxy.

    `webhooks`: localstripe calls the store's webhook (off by default: the faults here are worse
    when Stripe's own reconciler is lost too). `worker`: a Redis broker of its own and a Celery
    worker (else tasks run in the request, as in the demo). `nodes`: web nodes, each with its own
    folder, sharing the database, a Redis of their own and, with more than one, an object store
    for media (tests.object_store). `streams`: each node with its stream process (popup.stream).
    """

    def __init__(
        self, *, webhooks: bool = False, worker: bool = False, nodes: int = 1, streams: bool = False
    ) -> None:
        self.logs = Path(tempfile.mkdtemp(prefix="popup-stack-"))
        self.parts: list = []
        try:
            self._build(webhooks=webhooks, worker=worker, nodes=nodes, streams=streams)
        except BaseException:
            self.close()
            raise

    def _build(self, *, webhooks: bool, worker: bool, nodes: int, streams: bool) -> None:
        self.postgres = self._part(PrivatePostgres())
        self.postgres.sql('CREATE DATABASE "popup"')
        shared = nodes > 1 or streams  # the nodes' cache, and the stream's publishing, in Redis
        self.redis = self._part(PrivateRedis()) if worker or shared else None
        self.object_store = self._part(ObjectStore()) if nodes > 1 else None
        store_port = free_port()
        self.store = f"http://127.0.0.1:{store_port}"
        stripe_port = free_port()
        self.localstripe = f"http://127.0.0.1:{stripe_port}"
        self.proxy = self._part(StripeProxy(self.localstripe))
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "shop.settings",
            "DATABASE_URL": self.postgres.url("popup"),
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "stack-only",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "STRIPE_SECRET_KEY": "",  # localstripe, never real Stripe
            "LOCALSTRIPE_URL": self.proxy.url,
            "REDIS_URL": f"redis://127.0.0.1:{self.redis.port}/1" if shared else "",
            "CELERY_BROKER_URL": self.redis.url if worker else "",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "POPUP_VAR_DIR": str(self.logs / "var"),
            # Each shopper from an address of their own (X-Forwarded-For), as a crowd's would be.
            "POPUP_TRUSTED_PROXIES": "127.0.0.1",
            **(self.object_store.environment() if self.object_store else {}),
        }
        self._shoppers = itertools.count(1)
        self.manage("migrate", "--verbosity", "0")
        self.sale = json.loads(self._python("-m", "tests.stack", "seed").stdout)
        self.stripe = self._part(
            Process(
                "localstripe",
                [sys.executable, "-u", "-m", "shop.localstripe_run", "--port", str(stripe_port)]
                + (["--webhook-url", f"{self.store}/popup/stripe/webhook/"] if webhooks else [])
                + ["--webhook-secret", WEBHOOK_SECRET],
                {**self.env, "TMPDIR": str(self.logs)},
                self.logs,
                probe=f"{self.localstripe}/js.stripe.com/v3/",
            )
        )
        # Each node's stream process first: its pages say where it is (POPUP_STREAM_URL).
        self.streams, node_envs = [], []
        for number in range(1, nodes + 1):
            env = {**self.env, "POPUP_VAR_DIR": str(self.logs / f"var-{number}")}
            if streams:
                log = self.logs / f"stream-{number}.log"
                self.streams.append(self._part(StreamServer(env, log_path=log)))
                env["POPUP_STREAM_URL"] = f"{self.streams[-1].url}/popup/stream/"
            if shared:  # as a deployment does: the pages' scripts and styles, served by WhiteNoise
                subprocess.run(
                    [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
                    cwd=ROOT,
                    env=env,
                    check=True,
                )
            node_envs.append(env)
        # One worker, so that "the worker" is one process a test can kill; gunicorn starts another.
        self.web = self._web_node("gunicorn", store_port, node_envs[0])
        self.nodes = [self.store]
        for env in node_envs[1:]:
            port = free_port()
            self._web_node(f"gunicorn-{len(self.nodes) + 1}", port, env)
            self.nodes.append(f"http://127.0.0.1:{port}")
        self.worker = self.celery_worker() if worker else None

    def _web_node(self, name: str, port: int, env: dict) -> "Process":
        return self._part(
            Process(
                name,
                [sys.executable, "-m", "gunicorn", "shop.wsgi", "-b", f"127.0.0.1:{port}"]
                + ["-w", "1", "-k", "gthread", "--threads", "8", "--timeout", "30"],
                env,
                self.logs,
                probe=f"http://127.0.0.1:{port}/popup/{self.sale['slug']}/",
            )
        )

    def _part(self, part):
        self.parts.append(part)
        return part

    def celery_worker(self) -> Process:
        """A Celery worker as README runs one (prefork; two processes, this machine's default),
        once it is ready."""
        worker = self._part(
            Process(
                f"celery-{len(self.parts)}",
                [sys.executable, "-m", "celery", "-A", "shop", "worker", "-c", "2", "-l", "INFO"],
                self.env,
                self.logs,
            )
        )
        wait_until(
            lambda: " ready." in worker.log_path.read_text(), timeout=60, what="the Celery worker"
        )
        return worker

    def stripe_reports(self, event_type: str, payment_intent: dict) -> int:
        """Stripe's signed delivery of an event about `payment_intent` to the store; the status."""
        payload = event_payload(event_type, payment_intent)
        response = requests.post(
            f"{self.store}/popup/stripe/webhook/",
            data=payload,
            headers={
                "Content-Type": "application/json",
                "Stripe-Signature": signed(payload, WEBHOOK_SECRET),
            },
            timeout=TIMEOUT,
        )
        return response.status_code

    def _python(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """`manage.py <args>` on the stack's database and localstripe, as an operator runs it."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=check,
        )

    def audit(self) -> subprocess.CompletedProcess:
        return self.manage("popup_audit", "--grace-minutes", "0", check=False)

    def web_worker_kill(self) -> None:
        """SIGKILL gunicorn's worker, as the kernel's OOM killer or a crash would."""
        for pid in self.web.children():
            os.kill(pid, signal.SIGKILL)

    def card_token(self) -> str:
        return card_token(self.localstripe)

    def hold(self, *, quantity: int = 1, presale: bool = False, node: int = 0) -> Bought:
        """A new basket holding `quantity` units (of the pre-sale's candle with `presale`), made
        on web node `node`."""
        slug = self.sale["presale_slug" if presale else "slug"]
        product = self.sale["presale_product" if presale else "product"]
        session = requests.Session()
        number = next(self._shoppers)
        session.headers["X-Forwarded-For"] = f"10.{number // 250 % 250}.{number % 250}.1"
        store = self.nodes[node]
        basket = session.post(f"{store}/popup/{slug}/basket/new/", json={}, timeout=TIMEOUT)
        token = basket.json()["basket"]["token"]
        held = session.post(
            f"{store}/popup/{slug}/basket/lines/",
            json={"product": product, "quantity": quantity},
            headers={"X-Popup-Basket": token},
            timeout=TIMEOUT,
        )
        return Bought(token=token, hold=held.status_code)

    def pay(self, bought: Bought, *, number: int = 0) -> Bought:
        """The checkout's pay step for a held basket; a connection cut on the way is status 0."""
        try:
            response = requests.post(
                f"{self.store}/popup/checkout/{bought.token}/pay/",
                json={
                    **SHOPPER,
                    "email": f"buyer{number}@example.com",
                    "card_token": self.card_token(),
                },
                timeout=TIMEOUT,
            )
        except requests.RequestException:
            return bought
        return _answered(bought, response)

    def card_saved(self, bought: Bought, *, number: int = 0) -> str:
        """A backer of the pre-sale starts their pledge and saves a card at Stripe, as the
        checkout page and Stripe.js do; the SetupIntent's id. The page has yet to say so."""
        response = requests.post(
            f"{self.store}/popup/checkout/{bought.token}/pledge/",
            json={**SHOPPER, "email": f"backer{number}@example.com"},
            timeout=TIMEOUT,
        )
        assert response.status_code == 200, response.text
        setup = response.json()
        requests.post(
            f"{self.localstripe}/v1/setup_intents/{setup['setup_intent']}/confirm",
            json={
                "key": PUBLISHABLE_KEY,
                "client_secret": setup["client_secret"],
                "payment_method_data": {
                    "type": "card",
                    "card": {"number": "4242424242424242", "exp_month": "12"}
                    | {"exp_year": "2034", "cvc": "123"},
                },
            },
            timeout=TIMEOUT,
        ).raise_for_status()
        return setup["setup_intent"]

    def pledged(self, bought: Bought, setup_intent: str) -> Bought:
        """The checkout page telling the store the card is saved: the pledge is made."""
        try:
            response = requests.post(
                f"{self.store}/popup/checkout/{bought.token}/pledged/",
                json={"setup_intent": setup_intent},
                timeout=TIMEOUT,
            )
        except requests.RequestException:
            return bought
        return _answered(bought, response)

    def buy(self, *, number: int = 0, quantity: int = 1) -> Bought:
        bought = self.hold(quantity=quantity)
        return self.pay(bought, number=number) if bought.hold == 200 else bought

    def payment_intents(self, kind: str = "payment_intents") -> list[dict]:
        """Every PaymentIntent (or `kind`: setup_intents) localstripe holds."""
        return stripe_listed(self.localstripe, kind)

    def query(self, sql: str) -> list[tuple]:
        with psycopg.connect(self.postgres.url("popup")) as connection:
            return connection.execute(sql).fetchall()

    def money(self) -> dict:
        """The money's state, from Stripe and the database: what the audit judges, in numbers."""
        intents = [i for i in self.payment_intents() if "popup_basket" in (i.get("metadata") or {})]
        ordered, debited = {}, {}
        for basket, reference, amount in self.query(
            "SELECT b.id, s.reference, s.amount_debited FROM popup_popupbasket b"
            " JOIN payment_source s ON s.order_id = b.order_id"
        ):
            ordered[basket], debited[reference] = reference, amount
        captured: dict[str, int] = {}
        for intent in intents:
            if intent["status"] == "succeeded":
                basket = intent["metadata"]["popup_basket"]
                captured[basket] = captured.get(basket, 0) + 1
        paid_ids = {i["id"] for i in intents if i["status"] == "succeeded"}
        pledged = {str(basket) for (basket,) in self.query("SELECT basket_id FROM popup_pledge")}
        saved = [
            setup["metadata"]["popup_basket"]
            for setup in self.payment_intents("setup_intents")
            if setup["status"] == "succeeded"
            and "popup_basket" in (setup.get("metadata") or {})
            and "popup_pledge" not in setup["metadata"]
        ]
        return {
            "authorisations": sum(
                i["status"] in ("requires_capture", "succeeded", "canceled") for i in intents
            ),
            "dangling": sum(i["status"] == "requires_capture" for i in intents),
            "orders": len(ordered),
            "orders_not_captured": sum(ref not in paid_ids for ref in ordered.values()),
            # Captured at Stripe, but the order records no money taken (the record was lost).
            "captures_unrecorded": sum(
                ref in paid_ids and debited[ref] <= 0 for ref in ordered.values()
            ),
            "double_charged": sum(count > 1 for count in captured.values()),
            "captured_without_order": sum(int(basket) not in ordered for basket in captured),
            "pledges": len(pledged),
            # A card saved for a pledge that was never made: the backer thinks they pledged.
            "lost_pledges": sum(basket not in pledged for basket in saved),
        }

    def close(self) -> None:
        for part in reversed(self.parts):
            with contextlib.suppress(Exception):  # close the rest whatever one does
                part.close()
        shutil.rmtree(self.logs, ignore_errors=True)


def seed() -> dict:
    """A live pop-up selling UNITS of one scarf, no per-customer limit; France to ship to."""
    import django

    django.setup()

    from popup.models import PopUp, PopUpProduct
    from tests.factories import PopUpFactory, create_product, france

    france()
    popup = PopUpFactory(slug="faults", per_customer_limit=None)
    scarf = create_product(title="Indigo scarf", price=Decimal("40.00"), stock=UNITS, image=True)
    popup.range.add_product(scarf)
    PopUpProduct.objects.create(popup=popup, product=scarf, units_offered=UNITS)
    presale = PopUpFactory(
        slug="faults-presale",
        kind=PopUp.Kind.PRESALE,
        presale_funding=PopUp.Funding.ALL_OR_NOTHING,
        presale_charge_when=PopUp.ChargeWhen.DEADLINE,
        presale_goal_units=UNITS,
        presale_ships_on=date.today() + timedelta(days=120),
        per_customer_limit=None,
    )
    candle = create_product(title="Ember candle", price=Decimal("45.00"))
    presale.range.add_product(candle)
    PopUpProduct.objects.create(popup=presale, product=candle, units_offered=UNITS)
    return {
        "id": popup.pk,
        "slug": popup.slug,
        "product": scarf.pk,
        "presale_slug": presale.slug,
        "presale_product": candle.pk,
    }


if __name__ == "__main__" and sys.argv[1:] == ["seed"]:
    print(json.dumps(seed()))
