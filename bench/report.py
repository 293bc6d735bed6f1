"""The drop report's SQL queries and server time with 100 and with 10,000 orders, and its CSV exports.

    .venv/bin/python bench/report.py         # BENCH_REQUESTS=20 per URL and size
    BENCH_REPORT_SCALE=0.05 .venv/bin/python bench/report.py   # a quick check at 1/20 of the sizes
    BENCH_SHOW_QUERIES=1 .venv/bin/python bench/report.py      # on stderr: SQL that differs by size,
                                                               # the 3 slowest at LARGE ("all": all)

Runs in-process (Django's test client, a staff user) against a throwaway PostgreSQL database
(test_popup_bench_report, dropped at the end; Redis database 9 for the cache), so the
time is the server's own: URL routing, queries, template rendering, the CSV streamed to its end. Two
pop-ups share the database, each with five products: SMALL has 100 orders and 500 feedback rows,
LARGE 10,000 orders and 50,000 (verified reviews, questions, ideas and their votes, poll votes,
waitlist sign-ups), plus a day of funnel counters per selling day. The rows are bulk-inserted as the
services would have left them: units sold match the order lines, vote counters match the votes.

The report page is `popup-dashboard:drop-report`; its CSV exports are found at run time among the
namespace's URL names that start with "drop-report" and end in "csv" (those taking `table` get each
table the report page links to). Prints one JSON line; queries, and their time in PostgreSQL
(sql_ms), are counted on the first request after a warm-up, times over BENCH_REQUESTS more.
"""

import difflib
import json
import os
import random
import re
import secrets
import statistics
import sys
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/popup_bench_report")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")  # not the tests' database 1
os.environ.setdefault("DJANGO_DEBUG", "0")  # as in production: no query log, no debug pages
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
os.environ.setdefault("LOCALSTRIPE_URL", "http://127.0.0.1:8420")  # no payment is made here

import django  # noqa: E402

django.setup()

from django.apps import apps  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.sites.models import Site  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import Resolver404, resolve, reverse  # noqa: E402
from django.utils import timezone  # noqa: E402
from oscar.core.loading import get_model  # noqa: E402

from popup.models import (  # noqa: E402
    Idea,
    IdeaVote,
    Poll,
    PollOption,
    PollVote,
    PopUpBasket,
    PopUpDayStats,
    PopUpProduct,
    Question,
    ReviewInvite,
    VerifiedReview,
)

Order = get_model("order", "Order")
Line = get_model("order", "Line")
ProductReview = get_model("reviews", "ProductReview")
ProductAlert = get_model("customer", "ProductAlert")
StockRecord = get_model("partner", "StockRecord")

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "20"))
SCALE = float(os.environ.get("BENCH_REPORT_SCALE", "1"))
SHOW_QUERIES = os.environ.get("BENCH_SHOW_QUERIES", "")  # "1": what differs; "all": every query
SIZES = {"small": (100, 500), "large": (10_000, 50_000)}  # orders, feedback rows
NAMESPACE = "popup-dashboard"
PAGE = "drop-report"
PRICES = [Decimal(price) for price in ("25.00", "40.00", "55.00", "70.00", "120.00")]
BATCH = 2_000
# Of the feedback rows: one verified review per order at most, the rest as shoppers leave them.
FEEDBACK_SHARES = {
    "reviews": 0.20,
    "questions": 0.20,
    "ideas": 0.02,
    "idea_votes": 0.18,
    "poll_votes": 0.20,
    "waitlist": 0.20,
}


def scaled(count: int) -> int:
    return max(1, round(count * SCALE))


def with_fields(model, **values) -> dict:
    """Only the fields the model has: some (aspect ratings, expired holds) are recent additions."""
    names = {field.name for field in model._meta.get_fields()}
    return {name: value for name, value in values.items() if name in names}


def bulk(model, rows: list) -> list:
    return model.objects.bulk_create(rows, batch_size=BATCH)


def build_drop(name: str, orders: int, feedback: int, staff) -> dict:
    """A pop-up that opened three days ago, its orders, its feedback and its funnel counters."""
    from tests.factories import PopUpFactory, create_product

    rng = random.Random(name)
    now = timezone.now()
    popup = PopUpFactory(
        title=f"Report drop {name}",
        slug=f"report-{name}",
        opens_at=now - timedelta(days=3),
        closes_at=now + timedelta(days=1),
    )
    products, price_of = [], {}
    for number, price in enumerate(PRICES):
        product = create_product(title=f"{name.title()} piece {number}", price=price, stock=50)
        popup.range.add_product(product)
        products.append(product)
        price_of[product.pk] = price
    stock = {
        record.product_id: record for record in StockRecord.objects.filter(product__in=products)
    }
    site = Site.objects.get_current()

    # Orders of one or two products, placed over the selling hours so far.
    span = (now - timedelta(minutes=5) - popup.opens_at).total_seconds()
    order_rows, line_specs = [], []
    for number in range(orders):
        picked = rng.sample(range(len(products)), 2 if number % 3 == 0 else 1)
        specs = [(products[index], rng.choice((1, 1, 1, 2))) for index in picked]
        total = sum(price_of[product.pk] * quantity for product, quantity in specs)
        total += Decimal("5.00")
        order_rows.append(
            Order(
                number=f"{name[0].upper()}{number + 100_000}",
                site=site,
                currency="EUR",
                total_incl_tax=total,
                total_excl_tax=(total / Decimal("1.2")).quantize(Decimal("0.01")),
                shipping_incl_tax=Decimal("5.00"),
                shipping_excl_tax=Decimal("4.17"),
                shipping_method="Standard",
                shipping_code="standard",
                status="Paid",
                guest_email=f"buyer{number}@{name}.example.com",
                date_placed=popup.opens_at
                + timedelta(seconds=span * (number + rng.random()) / orders),
            )
        )
        line_specs.append(specs)
    order_rows = bulk(Order, order_rows)
    line_rows, sold = [], Counter()
    for order, specs in zip(order_rows, line_specs, strict=True):
        for product, quantity in specs:
            record = stock[product.pk]
            unit = price_of[product.pk]
            price = unit * quantity
            excl = (price / Decimal("1.2")).quantize(Decimal("0.01"))
            line_rows.append(
                Line(
                    order=order,
                    partner=record.partner,
                    partner_name=record.partner.name,
                    partner_sku=record.partner_sku,
                    stockrecord=record,
                    product=product,
                    title=product.get_title(),
                    upc=product.upc,
                    quantity=quantity,
                    line_price_incl_tax=price,
                    line_price_excl_tax=excl,
                    line_price_before_discounts_incl_tax=price,
                    line_price_before_discounts_excl_tax=excl,
                    unit_price_incl_tax=unit,
                    unit_price_excl_tax=(unit / Decimal("1.2")).quantize(Decimal("0.01")),
                    status="Paid",
                    num_allocated=quantity,
                )
            )
            sold[product.pk] += quantity
    bulk(Line, line_rows)
    sources = ["https://linktr.ee/maker", "instagram", "newsletter", ""]
    bulk(
        PopUpBasket,
        [
            PopUpBasket(
                popup=popup,
                status=PopUpBasket.Status.ORDERED,
                order=order,
                email=order.guest_email,
                source=sources[number % len(sources)],
            )
            for number, order in enumerate(order_rows)
        ],
    )
    # The first product sold out; the others kept a few units back.
    for number, product in enumerate(products):
        units = sold[product.pk]
        PopUpProduct.objects.create(
            popup=popup,
            product=product,
            units_offered=units if number == 0 else units + units // 10 + 5,
            units_sold=units,
            display_order=number,
        )

    counts = {kind: int(feedback * share) for kind, share in FEEDBACK_SHARES.items()}
    counts["reviews"] = min(counts["reviews"], orders)
    counts["ideas"] = max(1, counts["ideas"])

    # Verified reviews: an invite per order, a review of the order's first product by some buyers.
    invites = bulk(
        ReviewInvite,
        [ReviewInvite(order=order, popup=popup, sent_at=order.date_placed) for order in order_rows],
    )
    reviewed = rng.sample(range(orders), counts["reviews"])
    reviews = bulk(
        ProductReview,
        [
            ProductReview(
                product=line_specs[number][0][0],
                score=rng.choice((3, 4, 4, 5, 5, 5, 2, 1)),
                title=f"Review {number}",
                body="Soft, well made, exactly as in the photos.",
                name=f"Buyer {number}",
                email=order_rows[number].guest_email,
                status=ProductReview.APPROVED,
            )
            for number in reviewed
        ],
    )
    bulk(
        VerifiedReview,
        [
            VerifiedReview(
                invite=invites[number],
                product=review.product,
                review=review,
                **with_fields(
                    VerifiedReview,
                    quality=rng.randint(1, 5),
                    value=rng.randint(1, 5) if rng.random() < 0.8 else None,
                    as_described=rng.randint(1, 5) if rng.random() < 0.8 else None,
                ),
            )
            for number, review in zip(reviewed, reviews, strict=True)
        ],
    )
    for product in products:
        product.update_rating()  # what ProductReview.save() does, once per product

    # Questions: six in ten answered (published), the rest waiting.
    bulk(
        Question,
        [
            Question(
                popup=popup,
                product=products[number % len(products)] if number % 2 else None,
                name=f"Shopper {number}",
                email=f"asker{number}@{name}.example.com",
                body="Does it run true to size?",
                **(
                    {
                        "status": Question.Status.PUBLISHED,
                        "answer": "Yes, take your usual size.",
                        "answered_at": now + timedelta(minutes=rng.randint(5, 600)),
                        "answered_by": staff,
                    }
                    if number % 5 < 3
                    else {"status": Question.Status.PENDING}
                ),
            )
            for number in range(counts["questions"])
        ],
    )

    # Ideas and their votes, a few ideas taking most of them; Idea.votes matches the rows.
    chosen = [int(counts["ideas"] * rng.random() ** 2) for _ in range(counts["idea_votes"])]
    votes = Counter(chosen)
    statuses = [Idea.Status.OPEN, Idea.Status.UNDER_REVIEW, Idea.Status.PLANNED, Idea.Status.DONE]
    ideas = bulk(
        Idea,
        [
            Idea(
                popup=popup,
                title=f"Idea {number}: a sage-green version",
                email=f"ideas{number}@{name}.example.com",
                status=statuses[number % len(statuses)],
                votes=votes[number],
            )
            for number in range(counts["ideas"])
        ],
    )
    bulk(
        IdeaVote,
        [
            IdeaVote(idea=ideas[index], email=f"voter{number}@{name}.example.com")
            for number, index in enumerate(chosen)
        ],
    )

    # Three polls of four options; nine votes in ten confirmed, PollOption.votes counts those.
    polls = bulk(
        Poll,
        [Poll(popup=popup, question=f"Which colour next? ({n})", is_open=n > 0) for n in range(3)],
    )
    options = bulk(
        PollOption,
        [
            PollOption(poll=poll, label=colour, display_order=order)
            for poll in polls
            for order, colour in enumerate(("Indigo", "Sage", "Rust", "Ecru"))
        ],
    )
    poll_votes, confirmed = [], Counter()
    for number in range(counts["poll_votes"]):
        option = options[int(len(options) * rng.random() ** 1.5)]
        is_confirmed = number % 10 != 0
        poll_votes.append(
            PollVote(
                poll_id=option.poll_id,
                option=option,
                email=f"poller{number}@{name}.example.com",
                confirmed_at=now if is_confirmed else None,
            )
        )
        confirmed[option.pk] += is_confirmed
    bulk(PollVote, poll_votes)
    for option in options:
        option.votes = confirmed[option.pk]
    PollOption.objects.bulk_update(options, ["votes"])

    # The waitlist: back-in-stock sign-ups, most of them for the sold-out product.
    bulk(
        ProductAlert,
        [
            ProductAlert(
                product=products[0 if number % 3 else 1 + number % (len(products) - 1)],
                email=f"waiting{number}@{name}.example.com",
                key=secrets.token_hex(16),
                status=ProductAlert.ACTIVE if number % 4 else ProductAlert.UNCONFIRMED,
            )
            for number in range(counts["waitlist"])
        ],
    )

    # First-party funnel counters, one row per selling day.
    days = (timezone.localdate(now) - timezone.localdate(popup.opens_at)).days + 1
    bulk(
        PopUpDayStats,
        [
            PopUpDayStats(
                popup=popup,
                day=timezone.localdate(popup.opens_at) + timedelta(days=day),
                **with_fields(
                    PopUpDayStats,
                    views=orders * 40 // days,
                    embed_views=orders * 15 // days,
                    baskets=orders * 3 // days,
                    checkouts=orders * 13 // 10 // days,
                    unmet=orders // 5 // days,
                    holds_expired=orders * 3 // 2 // days,
                ),
            )
            for day in range(days)
        ],
    )
    return {
        "popup": popup,
        "orders": orders,
        "lines": len(line_rows),
        "units_sold": sum(sold.values()),
        "feedback": sum(counts.values()),
        **{f"feedback_{kind}": count for kind, count in counts.items()},
    }


def report_urls() -> dict:
    """The CSV exports' URL names, with the keyword arguments each takes and the module of its view."""
    found = {}
    for pattern in apps.get_app_config("popup_dashboard").get_urls():
        name = getattr(pattern, "name", None) or ""
        if name.startswith(PAGE) and name.endswith("csv"):
            converters = getattr(pattern.pattern, "converters", None) or {}
            view = getattr(pattern.callback, "view_class", pattern.callback)
            found[name] = (
                set(converters) or set(pattern.pattern.regex.groupindex),
                sys.modules.get(view.__module__),
            )
    return found


def table_names(page_html: str, name: str, module) -> list[str]:
    """The `table` values of one CSV URL: those the report page links to, else its view's TABLES."""
    tables = []
    for href in re.findall(r'href="([^"#?]+)', page_html):
        try:
            match = resolve(href)
        except Resolver404:
            continue
        if match.view_name == f"{NAMESPACE}:{name}" and "table" in match.kwargs:
            tables.append(str(match.kwargs["table"]))
    return list(dict.fromkeys(tables)) or [str(table) for table in getattr(module, "TABLES", ())]


def body_of(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def measure(client: Client, url: str) -> tuple[dict, list[dict]]:
    body_of(client.get(url))  # warm up template and per-process caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        body = body_of(response)  # a streamed CSV may query while it is read
    assert response.status_code == 200, (url, response.status_code)
    # Read now: the next request clears the connection's query log.
    captured = queries.captured_queries
    sql = [query["sql"] for query in captured]
    timings = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        body_of(client.get(url))
        timings.append((time.perf_counter() - started) * 1000)
    result = {
        "queries": len(sql),
        "sql_ms": round(sum(float(query["time"]) for query in captured) * 1000, 2),
        "ms_p50": round(statistics.median(timings), 2),
        "ms_p90": round(statistics.quantiles(timings, n=10)[-1], 2) if REQUESTS > 1 else None,
        "bytes": len(body),
    }
    if response.streaming or "csv" in response.get("Content-Type", ""):
        result["rows"] = body.count(b"\n")
    return result, captured


def shape(sql: str) -> str:
    """A query without its literals, so the same query for another pop-up reads the same."""
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r'"_django_curs_\w+"', "cursor", sql)  # a server-side cursor's own name
    sql = re.sub(r"\bIN \([^)]*\)", "IN (…)", sql)
    return re.sub(r"\b\d+(?:\.\d+)?\b", "?", sql)


def show_queries(endpoint: str, small: list[dict], large: list[dict]) -> None:
    """On stderr: the queries that differ between the sizes, and the slowest ones at LARGE."""
    if SHOW_QUERIES == "all":
        for size, queries in (("small", small), ("large", large)):
            print(f"== {endpoint} {size}: {len(queries)} queries", file=sys.stderr)
            for query in queries:
                print(f"  {query['time']} s  {query['sql']}", file=sys.stderr)
        return
    diff = difflib.unified_diff(
        [shape(query["sql"]) for query in small],
        [shape(query["sql"]) for query in large],
        f"{endpoint} small",
        f"{endpoint} large",
        lineterm="",
        n=0,
    )
    print("\n".join(diff) or f"== {endpoint}: the same queries at both sizes", file=sys.stderr)
    for query in sorted(large, key=lambda query: -float(query["time"]))[:3]:
        print(f"  slowest at large: {query['time']} s  {query['sql']}", file=sys.stderr)


def main() -> None:
    began = time.perf_counter()
    setup_test_environment()
    database = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        migrated = time.perf_counter()
        staff = get_user_model().objects.create_user(
            username="report-staff", email="staff@example.com", is_staff=True
        )
        drops, build_seconds = {}, {}
        for size, (orders, feedback) in SIZES.items():
            started = time.perf_counter()
            drops[size] = build_drop(size, scaled(orders), scaled(feedback), staff)
            build_seconds[size] = round(time.perf_counter() - started, 1)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh statistics, as autovacuum would have by now
        setup_done = time.perf_counter()

        client = Client()
        client.force_login(staff)
        endpoints: dict = {}
        captured: dict = {}
        skipped: list = []
        csv_names = report_urls()
        for size, drop in drops.items():
            pk = drop["popup"].pk
            page_url = reverse(f"{NAMESPACE}:{PAGE}", kwargs={"pk": pk})
            urls = {PAGE: page_url}
            page_html = body_of(client.get(page_url)).decode()
            for name, (kwargs, module) in sorted(csv_names.items()):
                if kwargs == {"pk"}:
                    urls[name] = reverse(f"{NAMESPACE}:{name}", kwargs={"pk": pk})
                elif kwargs == {"pk", "table"}:
                    tables = table_names(page_html, name, module)
                    for table in tables:
                        urls[f"{name}[{table}]"] = reverse(
                            f"{NAMESPACE}:{name}", kwargs={"pk": pk, "table": table}
                        )
                    if not tables and size == "small":
                        skipped.append(f"{name}: no table found to ask for")
                elif size == "small":
                    skipped.append(f"{name}: takes {sorted(kwargs)}")
            for endpoint, url in urls.items():
                result, captured[(endpoint, size)] = measure(client, url)
                endpoints.setdefault(endpoint, {})[size] = result

        for endpoint, results in endpoints.items():
            if len(results) == len(SIZES):
                results["queries_flat"] = results["small"]["queries"] == results["large"]["queries"]
                results["p50_large_over_small"] = round(
                    results["large"]["ms_p50"] / results["small"]["ms_p50"], 2
                )
                if SHOW_QUERIES:
                    show_queries(
                        endpoint, captured[(endpoint, "small")], captured[(endpoint, "large")]
                    )
        sizes = {
            size: {key: value for key, value in drop.items() if key != "popup"}
            | {"build_seconds": build_seconds[size]}
            for size, drop in drops.items()
        }
        print(
            json.dumps(
                {
                    "requests": REQUESTS,
                    "scale": SCALE,
                    "database": connection.vendor,
                    "sizes": sizes,
                    **endpoints,
                    "skipped": skipped,
                    "migrate_seconds": round(migrated - began, 1),
                    "setup_seconds": round(setup_done - began, 1),
                    "total_seconds": round(time.perf_counter() - began, 1),
                }
            )
        )
    finally:
        connection.creation.destroy_test_db(database, verbosity=0)


if __name__ == "__main__":
    main()
