"""Loader size, and the pop-up page's SQL queries, server time and weight at 5 and 100 products.

Runs in-process (Django's test client) against a throwaway PostgreSQL database, so the time is the
server's own: URL routing, queries, template rendering, gzip. Each page is measured rendered (its
shared shell forgotten before each request: `queries`, `ms_p50`) and served from its stored shell
(`shell_queries`, `shell_ms_p50`: through Django's middleware; PageShells, in front, is faster,
see drop_day.py). The first view's weight leaves images out: page + stylesheet + scripts, gzipped.
Prints one JSON line.
"""

import gzip
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/popup_bench")
os.environ.setdefault("DJANGO_DEBUG", "0")  # as in production: no query log, no debug pages
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
os.environ.setdefault("LOCALSTRIPE_URL", "http://127.0.0.1:8420")  # no payment is made here

import django  # noqa: E402

django.setup()

from django.contrib.staticfiles import finders  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "40"))


def gzipped_size(static_path: str) -> int:
    return len(gzip.compress(Path(finders.find(static_path)).read_bytes(), 9))


def loader_size() -> dict:
    source = Path(finders.find("popup/embed.js")).read_bytes()
    return {"loader_bytes": len(source), "loader_gzip_bytes": gzipped_size("popup/embed.js")}


def timed(client: Client, url: str, *, rendered: bool) -> tuple[int, list[float], object]:
    """Queries of one request, then the server times of REQUESTS more, and the last answer."""
    from django.core.cache import cache

    from popup.core.shells import shells_forget

    def get():
        if rendered:
            cache.clear()
            shells_forget()
        return client.get(url, HTTP_ACCEPT_ENCODING="gzip")

    executed = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = get()
    assert response.status_code == 200, response.status_code
    timings = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = get()
        timings.append((time.perf_counter() - started) * 1000)
    return len(executed), timings, response


def measure(client: Client, url: str) -> dict:
    query_count, timings, response = timed(client, url, rendered=True)
    shell_queries, shell_timings, _response = timed(client, url, rendered=False)
    return {
        "queries": query_count,
        "ms_p50": round(statistics.median(timings), 2),
        "ms_p90": round(statistics.quantiles(timings, n=10)[-1], 2),
        "shell_queries": shell_queries,
        "shell_ms_p50": round(statistics.median(shell_timings), 2),
        "gzip_bytes": len(response.content),
        # What a first view transfers apart from images: the page, its stylesheet and its scripts.
        "first_view_gzip_bytes": len(response.content)
        + gzipped_size("popup/popup.css")
        + gzipped_size("popup/popup.js")
        + gzipped_size("popup/live.js")
        + gzipped_size("popup/basket.js"),
    }


def main() -> None:
    from tests.factories import popup_with_products

    setup_test_environment()
    database = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        result = {**loader_size(), "requests": REQUESTS, "database": connection.vendor}
        client = Client()
        for count in (5, 100):
            popup = popup_with_products(count)
            for name, url in (("page", popup.get_absolute_url()), ("embed", popup.get_embed_url())):
                client.get(url)  # warm up template and per-process caches
                result[f"{name}_{count}"] = measure(client, url)
        print(json.dumps(result))
    finally:
        connection.creation.destroy_test_db(database, verbosity=0)


if __name__ == "__main__":
    main()
