"""Where the time goes on drop day: a hold, and a page view served from its shell, in-process.

    .venv/bin/python bench/drop_profile.py              # about half a minute; HOLDS=300, VIEWS=3000
    .venv/bin/python bench/drop_profile.py --top 25     # and each one's 25 costliest functions

drop_day.py's pop-up (24 products, every feedback section filled) in a throwaway PostgreSQL database
(`popup_drop_<pid>`, dropped at the end), Redis database 12 as the cache, `DJANGO_DEBUG=0`.

- A hold is POST /popup/<slug>/basket/lines/ of one unit into a fresh basket through Django's test
  client (the whole middleware stack, no network), each basket from its own address. The first 50
  warm the process. HOLDS holds are timed without the profiler, then as many again under cProfile.
- A page view is GET /popup/<slug>/ through the store's WSGI application as gunicorn calls it
  (`shop.wsgi`: `PageShells` in front of Django), gzip accepted, once the shell is stored. VIEWS views
  timed, then profiled.

Prints two JSON lines. The hold's: `holds`, `ms_per_hold` and `cpu_ms_per_hold` (without the profiler;
the CPU is this process's, PostgreSQL's is apart), `statements_per_hold` (besides BEGIN and COMMIT),
and the profile's shares of the time: `answer_share` (the answer built after the hold: the payload,
or a refusal's read of the basket), `sql_compile_share` (Django turning querysets into SQL),
`database_share` (waiting for PostgreSQL: psycopg's execute and fetch), `hold_share` (the hold itself,
its SQL included), `middleware_share` (Django's request handling around the view). The page view's:
`views`, `ms_per_view`, `statements_per_view`, `cache_share` (reading the cache: Redis), `answer_share`
(building the answer from the stored shell).
"""

import cProfile
import json
import os
import pstats
import sys
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import drop_day  # noqa: E402 - sets the store's environment on import

HOLDS = int(os.environ.get("HOLDS", "300"))
VIEWS = int(os.environ.get("VIEWS", "3000"))
WARM = 50


def _share(stats: pstats.Stats, total: float, *where: tuple[str, str]) -> float:
    """The cumulative time of the functions named (file suffix, function name), as a share of total."""
    seconds = 0.0
    for (filename, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():
        if any(filename.endswith(suffix) and name == function for suffix, function in where):
            seconds += cumulative
    return round(seconds / total, 2)


def _timed(work, numbers) -> tuple[float, float]:
    """Wall and CPU milliseconds per call of work(number)."""
    began, cpu = time.perf_counter(), time.process_time()
    for number in numbers:
        work(number)
    count = len(numbers)
    return (
        round((time.perf_counter() - began) / count * 1000, 3),
        round((time.process_time() - cpu) / count * 1000, 3),
    )


def _profiled(work, numbers) -> tuple[pstats.Stats, float]:
    profile = cProfile.Profile()
    began = time.perf_counter()
    profile.enable()
    for number in numbers:
        work(number)
    profile.disable()
    return pstats.Stats(profile), time.perf_counter() - began


def _statements(work, number) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        work(number)
    return [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"] not in ("BEGIN", "COMMIT") and "SAVEPOINT" not in query["sql"]
    ]


def holds(sale: dict, top: int) -> None:
    from django.test import Client

    tokens = sale["tokens"]
    body = json.dumps({"product": sale["product"], "quantity": 1})
    path = f"/popup/{sale['slug']}/basket/lines/"
    client = Client(HTTP_HOST="127.0.0.1")

    def hold(number: int) -> None:
        answer = client.post(
            path,
            body,
            content_type="application/json",
            HTTP_X_POPUP_BASKET=tokens[number],
            HTTP_X_FORWARDED_FOR=f"10.9.{number // 250}.{number % 250 + 1}",
        )
        assert answer.status_code == 200, answer.content

    for number in range(WARM):
        hold(number)
    statements = _statements(hold, WARM)
    timed = range(WARM + 1, WARM + 1 + HOLDS)
    wall_ms, cpu_ms = _timed(hold, timed)
    stats, seconds = _profiled(hold, range(timed.stop, timed.stop + HOLDS))
    view = _share(stats, seconds, ("popup/core/api.py", "basket_line"))
    print(
        json.dumps(
            {
                "holds": HOLDS,
                "ms_per_hold": wall_ms,
                "cpu_ms_per_hold": cpu_ms,
                "statements_per_hold": len(statements),
                "answer_share": _share(
                    stats,
                    seconds,
                    ("popup/core/api.py", "_respond"),
                    ("popup/core/api.py", "basket_payload"),
                ),
                "sql_compile_share": _share(
                    stats, seconds, ("django/db/models/sql/compiler.py", "as_sql")
                ),
                "database_share": _share(
                    stats,
                    seconds,
                    ("psycopg/cursor.py", "execute"),
                    ("psycopg/cursor.py", "fetchone"),
                    ("psycopg/cursor.py", "fetchmany"),
                    ("psycopg/cursor.py", "fetchall"),
                ),
                "hold_share": _share(
                    stats,
                    seconds,
                    ("popup/core/holds.py", "hold_set"),
                    ("popup/core/holds.py", "hold_set_in"),
                ),
                "middleware_share": round(
                    _share(stats, seconds, ("django/core/handlers/base.py", "get_response")) - view,
                    2,
                ),
            }
        )
    )
    if top:
        stats.sort_stats("cumulative").print_stats(top)
        print("\n".join(statements))


def page_views(sale: dict, top: int) -> None:
    from shop.wsgi import application

    path = f"/popup/{sale['slug']}/"
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_ACCEPT_ENCODING": "gzip",
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
    }

    def view(number: int) -> None:
        answered = []
        request = {
            **environ,
            "wsgi.input": BytesIO(b""),
            "HTTP_X_FORWARDED_FOR": f"10.8.{number // 250 % 250}.{number % 250 + 1}",
        }
        body = b"".join(
            application(request, lambda status, headers, exc_info=None: answered.append(status))
        )
        assert answered == ["200 OK"] and body, answered

    for number in range(WARM):  # the first renders the shell; then PageShells knows the path
        view(number)
    statements = _statements(view, WARM)
    wall_ms, _cpu_ms = _timed(view, range(VIEWS))
    stats, seconds = _profiled(view, range(VIEWS))
    print(
        json.dumps(
            {
                "views": VIEWS,
                "ms_per_view": wall_ms,
                "statements_per_view": len(statements),
                "cache_share": _share(stats, seconds, ("popup/cache.py", "cache_get")),
                "answer_share": _share(stats, seconds, ("popup/core/shells.py", "shell_answer")),
            }
        )
    )
    if top:
        stats.sort_stats("cumulative").print_stats(top)


def main() -> None:
    top = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 0
    drop_day.redis.Redis.from_url(drop_day.REDIS).flushdb()
    drop_day.admin_sql(f'CREATE DATABASE "{drop_day.DATABASE}"')
    try:
        import django

        django.setup()
        # drop_day keeps its last CHANGES + 1 baskets for the streams: more, so HOLDS are left.
        sale = drop_day.seed(baskets=2 * HOLDS + WARM + 1 + drop_day.CHANGES + 1)
        holds(sale, top)
        page_views(sale, top)
    finally:
        from django.db import connections

        connections.close_all()
        drop_day.admin_sql(f'DROP DATABASE IF EXISTS "{drop_day.DATABASE}" WITH (FORCE)')
        drop_day.redis.Redis.from_url(drop_day.REDIS).flushdb()


if __name__ == "__main__":
    main()
