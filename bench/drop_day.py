"""Drop day, side by side: the pop-up page, its embed and a hold against Oscar's own pages, in one run.

    .venv/bin/python bench/drop_day.py            # about 3 minutes; BENCH_SECONDS per wrk run (8)
    .venv/bin/python bench/drop_day.py --nodes 2 --streams 2000    # and on two nodes, with streams

The reference store as production runs it: a throwaway PostgreSQL database (migrated, dropped at
the end), Redis as the cache (database 12, flushed before and after), `DJANGO_DEBUG=0`, gunicorn
2 workers × 4 threads (gthread) on 127.0.0.1. The load generator is wrk (Debian's package; 2
threads, 16 connections), on the same machine: its CPU time is reported. Every client address is
distinct (X-Forwarded-For, believed because POPUP_TRUSTED_PROXIES names 127.0.0.1), as a crowd's
would be.

Seeded: a live pop-up of PRODUCTS products, each with an image, its answered questions, ideas, two
polls with votes and verified reviews (every section of the page filled); the same products are in
Oscar's catalogue. Measured in ROUNDS alternating rounds, each running every target for
BENCH_SECONDS (medians reported):

- `page`: GET /popup/<slug>/ against `oscar_catalogue`: GET /catalogue/ (both gzip, no cookies);
- `embed`: GET /popup/<slug>/embed/;
- `hold`: POST /popup/<slug>/basket/lines/, one unit into a fresh basket each (baskets made
  beforehand, one per request) against `oscar_basket_add`: POST /basket/add/<pk>/, one unit for a
  fresh visitor each (no session cookie: Oscar makes a new basket; one CSRF cookie and token, which
  Django does not tie to a session).

Prints one JSON line: `page_rps`, `embed_rps`, `oscar_catalogue_rps`, `page_ratio`, `embed_ratio`,
`hold_rps`, `oscar_basket_add_rps`, `hold_ratio`, `rounds_page_p99_ms` and the others' p99s,
`server_errors` (5xx answers), `rate_limited` (429), `other_refusals` (other 4xx, and connection
errors), `products`, `rounds`, `seconds_each`, `load_generator`, `load_generator_cpu_s`.
Then the opening: a second pop-up of 24 products × 25 units opens (coming soon until then) and
BENCH_FANS fans (3,000) arrive evenly within 10 s, each from its own address on its own connection:
the page, the live call, and for one in three a hold of one unit of a random product (its first
Add, which makes the basket). Adds `fans`, `page_p99_ms`, `live_p99_ms`, `hold_p99_ms` (the
crowd's; the rounds' are `rounds_*_p99_ms`), `crowd_holds_made` (201), `crowd_holds_refused` (409: sold out),
`crowd_server_errors`, `crowd_rate_limited`, `crowd_connection_failures`, and `oversold`: units
held beyond what was offered, from the database's rows once the crowd has gone (must be 0).
The crowd's load generator is this Python process (asyncio), its CPU time reported.

`--nodes N`: N web nodes (gunicorn as above, each with its own folder) on the same database and
Redis, media on an S3-compatible object store (moto's server, tests.object_store); the rounds and
the crowd go to the first node. Adds `nodes`, `storage_misses` and the others of bench/nodes.py.
`--streams S`: a stream process (uvicorn popup.stream:application) per node and S open streams,
then holds a second apart: adds `streams`, `stream_lag_p99_ms`, `stream_errors` and the others of
bench/nodes.py.
"""

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.nodes import CHANGES, storage_misses, streams_measure  # noqa: E402
from tests.object_store import ObjectStore  # noqa: E402
from tests.plain_store.store import free_port  # noqa: E402
from tests.stack import Process  # noqa: E402 - after the path
from tests.streams import StreamServer  # noqa: E402

PRODUCTS = 24
ROUNDS = 3
SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
CONNECTIONS = 16
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DATABASE = f"popup_drop_{os.getpid()}"
REDIS = "redis://127.0.0.1:6379/12"
UNITS = 1_000_000  # per product: a hold never finds it sold out here
FANS = int(os.environ.get("BENCH_FANS", "3000"))  # the opening crowd, arriving within CROWD_SECONDS
CROWD_SECONDS = 10
CROWD_PRODUCTS = 24
CROWD_UNITS = 25  # per product: 600 units for the third of the fans who hold one
BASKETS = 60_000  # enough fresh baskets for every hold of every round

SERVER_ENV = {
    "DATABASE_URL": f"{POSTGRES}/{DATABASE}",
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "bench-only",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "REDIS_URL": REDIS,
    "CELERY_BROKER_URL": "",
    "STRIPE_SECRET_KEY": "",
    "LOCALSTRIPE_URL": "http://127.0.0.1:9",  # nothing is paid here
    "POPUP_TRUSTED_PROXIES": "127.0.0.1",
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
}
os.environ.update(SERVER_ENV)
os.environ["DJANGO_SETTINGS_MODULE"] = "shop.settings"

# Each request from its own address; the hold takes the next fresh basket of its thread.
WRK_COMMON = """
local counter = 0
local thread_id = 0
local threads = {}
setup = function(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
init = function(args)
  thread_id = id
end
local function address()
  counter = counter + 1
  return string.format("10.%d.%d.%d", thread_id, math.floor(counter / 250) % 250, counter % 250 + 1)
end
"""

WRK_GET = (
    WRK_COMMON
    + """
request = function()
  return wrk.format("GET", nil, {["X-Forwarded-For"] = address(), ["Accept-Encoding"] = "gzip"})
end
"""
)

WRK_HOLD = (
    WRK_COMMON
    + """
local tokens = {}
local next_token = 1
init = function(args)
  thread_id = id
  local index = 0
  for line in io.lines(args[1]) do
    if index % tonumber(args[2]) == thread_id then table.insert(tokens, line) end
    index = index + 1
  end
end
request = function()
  local token = tokens[next_token]
  next_token = next_token + 1
  return wrk.format("POST", nil, {
    ["X-Forwarded-For"] = address(),
    ["Content-Type"] = "application/json",
    ["X-Popup-Basket"] = token,
  }, args_body)
end
"""
)

WRK_OSCAR_ADD = (
    WRK_COMMON
    + """
request = function()
  return wrk.format("POST", nil, {
    ["X-Forwarded-For"] = address(),
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. csrf_cookie,
    ["Referer"] = referer,
  }, "csrfmiddlewaretoken=" .. csrf_token .. "&quantity=1")
end
"""
)


def admin_sql(statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute(statement)


def seed(*, baskets: int = BASKETS) -> dict:
    """A live pop-up of PRODUCTS products with every feedback section filled; `baskets` fresh baskets."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from oscar.test.factories import create_basket, create_order

    from popup.feedback.ideas import idea_post
    from popup.feedback.polls import poll_create
    from popup.feedback.questions import question_answer, question_ask
    from popup.feedback.reviews import review_submit
    from popup.http.client_ip import address_key
    from popup.models import PopUpBasket, PopUpProduct, ReviewInvite
    from tests.factories import PopUpFactory, create_product, france

    call_command("migrate", interactive=False, verbosity=0)
    france()
    staff = get_user_model().objects.create(username="staff", is_staff=True)
    popup = PopUpFactory(slug="drop-day", per_customer_limit=None)
    products = []
    for number in range(PRODUCTS):
        product = create_product(
            title=f"Hand-dyed scarf no. {number + 1}",
            price=Decimal("40.00"),
            stock=UNITS,
            image=True,
        )
        popup.range.add_product(product)
        PopUpProduct.objects.create(
            popup=popup, product=product, units_offered=UNITS, display_order=number
        )
        products.append(product)
    for number in range(6):
        question = question_ask(
            popup=popup,
            body=f"Is scarf no. {number + 1} soft enough for a baby?",
            email=f"asker{number}@example.com",
            client_ip=f"192.0.2.{number + 1}",
            product_id=products[number].pk,
        )
        question_answer(question=question, answer="Yes: merino, washed twice.", by=staff)
        idea_post(
            popup=popup,
            title=f"A matching hat, colour {number + 1}",
            email=f"fan{number}@example.com",
            client_ip=f"198.51.100.{number + 1}",
        )
    for question in ("Which colour next?", "Which size next?"):
        poll_create(popup=popup, question=question, options=["Ochre", "Teal", "Plum"])
    for number in range(5):
        basket = create_basket(empty=True)
        basket.add_product(products[number])
        order = create_order(basket=basket)
        invite = ReviewInvite.objects.create(order=order, popup=popup)
        review_submit(
            invite=invite,
            product_id=products[number].pk,
            score=5,
            title="Lovely colours",
            body="Soft, warm and exactly as pictured.",
            name=f"Buyer {number + 1}",
        )
    # The opening: a pop-up of CROWD_PRODUCTS products with CROWD_UNITS units each, fewer than its
    # holders will ask for, so that it sells out under the crowd; it opens when the crowd comes.
    opening = PopUpFactory(slug="opening", per_customer_limit=None)
    for number in range(CROWD_PRODUCTS):
        product = create_product(
            title=f"Opening scarf no. {number + 1}", price=Decimal("40.00"), stock=UNITS, image=True
        )
        opening.range.add_product(product)
        PopUpProduct.objects.create(
            popup=opening, product=product, units_offered=CROWD_UNITS, display_order=number
        )
    # What basket_create makes, `baskets` times over: each its own default token, and the key of
    # its own client address (so each hold checks the per-address cap, as a crowd's do).
    PopUpBasket.objects.bulk_create(
        (
            PopUpBasket(popup=popup, address_key=address_key(f"10.9.{n // 250}.{n % 250 + 1}"))
            for n in range(baskets)
        ),
        batch_size=5000,
    )
    tokens = list(PopUpBasket.objects.values_list("token", flat=True))
    return {
        "id": popup.pk,
        "slug": popup.slug,
        "stream_product": products[1].pk,  # held only by bench/nodes.py
        "stream_tokens": tokens[-(CHANGES + 1) :],
        "opening": opening.slug,
        "opening_products": [
            terms.product_id for terms in PopUpProduct.objects.filter(popup=opening)
        ],
        "product": products[0].pk,
        "product_url": products[0].get_absolute_url(),
        "tokens": tokens[: -(CHANGES + 1)],
    }


def wrk(url: str, script: str, *args: str, body: str = "", extra: str = "") -> dict:
    """Run wrk against `url` with a Lua script; its figures, and its CPU seconds."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(f"args_body = {json.dumps(body)}\n{extra}\n{script}")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", "-s", lua.name, url]
        + (["--", *args] if args else []),
        capture_output=True,
        text=True,
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    os.unlink(lua.name)
    return {
        **wrk_figures(done.stdout),
        "cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
    }


def wrk_figures(output: str) -> dict:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", output)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    failed = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "rps": rps,
        "p99_ms": float(p99.group(1)) * scale,
        "refused": int(failed.group(1)) if failed else 0,
        "socket_errors": sum(map(int, errors.groups())) if errors else 0,
    }


async def _request(reader, writer, method: str, path: str, headers: dict, body: bytes = b""):
    """One HTTP/1.1 request on an open keep-alive connection: (status, seconds)."""
    began = time.perf_counter()
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    head.append(f"Content-Length: {len(body)}")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    await writer.drain()
    status_line, *lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(status_line.split()[1])
    fields = dict(line.split(": ", 1) for line in lines if ": " in line)
    fields = {name.lower(): value for name, value in fields.items()}
    if "content-length" in fields:
        await reader.readexactly(int(fields["content-length"]))
    elif fields.get("transfer-encoding") == "chunked":
        while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")
    return status, time.perf_counter() - began


async def _crowd(port: int, sale: dict) -> dict:
    """FANS fans arriving evenly over CROWD_SECONDS from the opening, each on its own connection
    and address: the page, the live call, and for one in three a hold of one unit (its first Add,
    which makes the basket). Latencies and statuses by kind; connection failures counted apart."""
    import asyncio
    import random

    slug = sale["opening"]
    answers: dict[str, list[tuple[int, float]]] = {"page": [], "live": [], "hold": []}
    failures = 0
    loop = asyncio.get_running_loop()
    start = loop.time()
    chooser = random.Random(15)
    picks = [chooser.choice(sale["opening_products"]) for _ in range(FANS)]

    async def fan(number: int) -> None:
        nonlocal failures
        await asyncio.sleep(max(0.0, start + number * CROWD_SECONDS / FANS - loop.time()))
        address = f"10.{200 + number // 62500}.{number // 250 % 250}.{number % 250 + 1}"
        browser = {"X-Forwarded-For": address, "Accept-Encoding": "gzip"}
        writer = None
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            answers["page"].append(
                await _request(reader, writer, "GET", f"/popup/{slug}/", browser)
            )
            answers["live"].append(
                await _request(reader, writer, "GET", f"/popup/{slug}/live/?view=page", browser)
            )
            if number % 3 == 0:
                body = json.dumps({"product": picks[number], "quantity": 1}).encode()
                headers = {**browser, "Content-Type": "application/json"}
                answers["hold"].append(
                    await _request(
                        reader, writer, "POST", f"/popup/{slug}/basket/lines/", headers, body
                    )
                )
        except (OSError, asyncio.IncompleteReadError, ValueError):
            failures += 1
        finally:
            if writer is not None:
                writer.close()

    await asyncio.gather(*(fan(number) for number in range(FANS)))
    return {"answers": answers, "failures": failures, "seconds": loop.time() - start}


def crowd(port: int, sale: dict) -> dict:
    """The opening minute: the pop-up opens, FANS fans come; then what its rows say was held."""
    import asyncio

    from django.utils import timezone

    from popup.models import Hold, PopUp, PopUpProduct

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # a connection per fan
    opening = PopUp.objects.get(slug=sale["opening"])
    opening.opens_at = timezone.now() + timedelta(seconds=3)
    opening.save()  # coming soon for 3 s: the crowd's shells turn live by the clock, with no write
    requests.get(f"http://127.0.0.1:{port}/popup/{opening.slug}/", timeout=30)
    time.sleep(max(0.0, (opening.opens_at - timezone.now()).total_seconds()))
    before = resource.getrusage(resource.RUSAGE_SELF)
    run = asyncio.run(_crowd(port, sale))
    after = resource.getrusage(resource.RUSAGE_SELF)
    now = timezone.now()
    oversold = 0
    for terms in PopUpProduct.objects.filter(popup=opening):
        held = sum(Hold.objects.active(now).filter(terms=terms).values_list("quantity", flat=True))
        oversold += max(0, held + terms.units_sold - terms.units_offered)
    answers = run["answers"]

    def p99_ms(kind: str) -> float:
        times = sorted(seconds for _status, seconds in answers[kind])
        return round(times[int(len(times) * 0.99) - 1] * 1000, 1) if times else 0.0

    statuses = [status for kind in answers.values() for status, _seconds in kind]
    return {
        "fans": FANS,
        "crowd_seconds": round(run["seconds"], 1),
        "page_p99_ms": p99_ms("page"),
        "live_p99_ms": p99_ms("live"),
        "hold_p99_ms": p99_ms("hold"),
        "crowd_holds_made": sum(1 for status, _s in answers["hold"] if status == 201),
        "crowd_holds_refused": sum(1 for status, _s in answers["hold"] if status == 409),
        "crowd_server_errors": sum(1 for status in statuses if status >= 500),
        "crowd_rate_limited": sum(1 for status in statuses if status == 429),
        "crowd_connection_failures": run["failures"],
        "crowd_units_offered": CROWD_PRODUCTS * CROWD_UNITS,
        "oversold": oversold,
        "crowd_load_generator": "Python asyncio, one connection per fan, same machine",
        "crowd_load_generator_cpu_s": round(
            (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), 1
        ),
    }


def statuses_logged(log: Path) -> dict[str, int]:
    """Answers by status class, from gunicorn's access log."""
    counts: dict[str, int] = {}
    for line in log.read_text().splitlines():
        match = re.search(r'" (\d{3}) ', line)
        if match:
            status = match.group(1)
            label = "5xx" if status[0] == "5" else "429" if status == "429" else status[0] + "xx"
            counts[label] = counts.get(label, 0) + 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--nodes", type=int, default=1, help="web nodes (default 1)")
    parser.add_argument("--streams", type=int, default=0, help="open streams (default none)")
    options = parser.parse_args()
    began = time.perf_counter()
    logs = Path(tempfile.mkdtemp(prefix="drop-day-"))
    redis.Redis.from_url(REDIS).flushdb()
    admin_sql(f'CREATE DATABASE "{DATABASE}"')
    store: Process | None = None
    parts: list = []  # the other nodes, the stream processes, the object store
    try:
        if options.nodes > 1:
            parts.append(ObjectStore())
            os.environ.update(parts[-1].environment())  # this process seeds the images there
        import django

        django.setup()
        from django.db import connections

        sale = seed()
        connections.close_all()
        tokens_file = logs / "tokens.txt"
        tokens_file.write_text("\n".join(sale.pop("tokens")) + "\n")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        store = Process(
            "gunicorn",
            [sys.executable, "-m", "gunicorn", "shop.wsgi", "-b", f"127.0.0.1:{port}"]
            + ["-w", "2", "-k", "gthread", "--threads", "4", "--timeout", "60"]
            + ["--access-logfile", str(logs / "access.log")],
            {**os.environ},
            logs,
            probe=f"{url}/popup/{sale['slug']}/",
        )
        nodes = [url]
        for number in range(2, options.nodes + 1):
            node_port = free_port()
            parts.append(
                Process(
                    f"gunicorn-{number}",
                    [sys.executable, "-m", "gunicorn", "shop.wsgi", "-b", f"127.0.0.1:{node_port}"]
                    + ["-w", "2", "-k", "gthread", "--threads", "4", "--timeout", "60"],
                    {**os.environ, "POPUP_VAR_DIR": str(logs / f"var-{number}")},
                    logs,
                    probe=f"http://127.0.0.1:{node_port}/popup/{sale['slug']}/",
                )
            )
            nodes.append(f"http://127.0.0.1:{node_port}")
        servers = []
        for number in range(1, options.nodes + 1) if options.streams else ():
            env = {**os.environ, "POPUP_VAR_DIR": str(logs / f"var-{number}")}
            servers.append(StreamServer(env, log_path=logs / f"stream-{number}.log"))
            parts.append(servers[-1])
        session = requests.Session()
        product_page = session.get(f"{url}{sale['product_url']}", timeout=30)
        csrf_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', product_page.text)
        oscar_extra = (
            f"csrf_cookie = {json.dumps(session.cookies['csrftoken'])}\n"
            f"csrf_token = {json.dumps(csrf_token.group(1))}\n"
            f"referer = {json.dumps(url + sale['product_url'])}\n"
        )
        for path in (f"/popup/{sale['slug']}/", f"/popup/{sale['slug']}/embed/", "/catalogue/"):
            for _ in range(20):  # warm every worker and thread
                session.get(f"{url}{path}", timeout=30)
        (logs / "access.log").write_text("")

        targets = {
            "oscar_catalogue": lambda: wrk(f"{url}/catalogue/", WRK_GET),
            "page": lambda: wrk(f"{url}/popup/{sale['slug']}/", WRK_GET),
            "embed": lambda: wrk(f"{url}/popup/{sale['slug']}/embed/", WRK_GET),
            "oscar_basket_add": lambda: wrk(
                f"{url}/basket/add/{sale['product']}/", WRK_OSCAR_ADD, extra=oscar_extra
            ),
            "hold": lambda: wrk(
                f"{url}/popup/{sale['slug']}/basket/lines/",
                WRK_HOLD,
                str(tokens_file),
                "2",
                body=json.dumps({"product": sale["product"], "quantity": 1}),
            ),
        }
        ALL_TARGETS = list(targets)
        only = os.environ.get("BENCH_ONLY")  # e.g. "page,oscar_catalogue" while working on one
        if only:
            targets = {name: run for name, run in targets.items() if name in only.split(",")}
        runs: dict[str, list[dict]] = {name: [] for name in ALL_TARGETS}
        for _ in range(ROUNDS):
            for name, run in targets.items():
                runs[name].append(run())

        def median(name: str, figure: str) -> float:
            return statistics.median(run[figure] for run in runs[name]) if runs[name] else 0.0

        def ratio(name: str, base: str) -> float:
            return round(median(name, "rps") / median(base, "rps"), 2) if runs[base] else 0.0

        opening = crowd(port, sale) if FANS else {}
        answered = statuses_logged(logs / "access.log")
        pushed = streams_measure(servers, nodes, sale, options.streams) if servers else {}
        stored = storage_misses(nodes, sale) if options.nodes > 1 else {}
        print(
            json.dumps(
                {
                    "page_rps": round(median("page", "rps"), 1),
                    "embed_rps": round(median("embed", "rps"), 1),
                    "oscar_catalogue_rps": round(median("oscar_catalogue", "rps"), 1),
                    "page_ratio": ratio("page", "oscar_catalogue"),
                    "embed_ratio": ratio("embed", "oscar_catalogue"),
                    "hold_rps": round(median("hold", "rps"), 1),
                    "oscar_basket_add_rps": round(median("oscar_basket_add", "rps"), 1),
                    "hold_ratio": ratio("hold", "oscar_basket_add"),
                    "rounds_page_p99_ms": round(median("page", "p99_ms"), 1),
                    "rounds_embed_p99_ms": round(median("embed", "p99_ms"), 1),
                    "rounds_oscar_catalogue_p99_ms": round(median("oscar_catalogue", "p99_ms"), 1),
                    "rounds_hold_p99_ms": round(median("hold", "p99_ms"), 1),
                    "rounds_oscar_basket_add_p99_ms": round(
                        median("oscar_basket_add", "p99_ms"), 1
                    ),
                    "server_errors": answered.get("5xx", 0),
                    "rate_limited": answered.get("429", 0),
                    "other_refusals": answered.get("4xx", 0)
                    + sum(run["socket_errors"] for runs_ in runs.values() for run in runs_),
                    "answers": answered,
                    **opening,
                    "nodes": options.nodes,
                    **pushed,
                    **stored,
                    "products": PRODUCTS,
                    "rounds": ROUNDS,
                    "seconds_each": SECONDS,
                    "connections": CONNECTIONS,
                    "load_generator": "wrk 4.1.0 (Debian), 2 threads, same machine",
                    "load_generator_cpu_s": round(
                        sum(run["cpu_s"] for runs_ in runs.values() for run in runs_), 1
                    ),
                    "total_seconds": round(time.perf_counter() - began, 1),
                }
            )
        )
    finally:
        for part in reversed(parts):
            part.close()
        if store is not None:
            store.close()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001 - Django may not be set up yet
            pass
        admin_sql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        redis.Redis.from_url(REDIS).flushdb()


if __name__ == "__main__":
    main()
