"""The pop-up page as a shell that is the same for everyone, kept in the cache.

On drop day thousands of fans open the same page within a minute. Everything that differs between
them (where they came from, a code, their basket, the units left this second) comes from the live
call (`popup.core.live`); the page itself is rendered once per path, language and version, stored
as finished bytes (plain and gzip) with its ETag, and served from there without a session, a user
or a database query.

A shell is valid while:
- the generation it was rendered under is current: any change to a pop-up, its terms, a product,
  its image or its price, or to the feedback a page shows (answers, ideas, polls, votes, reviews)
  bumps it (`popup.receivers`), at once and again on commit;
- its `valid_until` has not passed: POPUP_PAGE_SHELL_SECONDS after rendering (anything changed
  without Django's signals, such as a bulk update, is never older than that), or the pop-up's next
  change of state by the clock (coming soon → live at `opens_at`), whichever is first.

`PageShells` wraps the store's WSGI application to serve stored shells before Django's request
handling; without it, the pop-up's view serves them, through the middleware. The live call's answer
to a shopper with no basket and no arrival of their own (most of a crowd) is the same for everyone
too: it is kept for a second the same way, and PageShells counts the view it stands for.
"""

import gzip
import hashlib
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

from django.db import transaction
from django.utils.http import parse_etags
from oscar.core.loading import get_class

from popup.cache import cache_add, cache_get, cache_incr, cache_set
from popup.conf import popup_settings
from popup.core.languages import language_match

GENERATION_KEY = "popup-shells:generation"
GENERATION_MEMO_SECONDS = 1.0  # how long a process trusts the generation it last read
# The view's own headers that a shell keeps; the rest is per answer (length, encoding) or set by
# the middleware around the view, which PageShells learns from the first answer it passes through.
KEPT_HEADERS = (
    "Content-Type",
    "Content-Language",
    "Content-Security-Policy",
    "Cache-Control",
    "X-Robots-Tag",
    "Vary",
)

Selector = get_class("partner.strategy", "Selector")


@dataclass(frozen=True)
class Shell:
    headers: tuple[tuple[str, str], ...]
    body: bytes
    body_gzip: bytes
    etag: str
    generation: int
    valid_until: float  # time.time() after which it is rendered again
    valid_from: float = 0.0  # a shell rendered ahead (for its pop-up's opening) is served from then
    views_of: int | None = None  # a live-figures answer: the pop-up whose views ?view= counts


AHEAD = ":ahead"  # the cache key's suffix for a shell rendered ahead of its time
_generation = {"value": 0, "read_at": float("-inf")}
_memo: dict[str, Shell] = {}  # this process's copies of the shells it served


def shells_allowed() -> bool:
    """Whether pop-up pages may be shared shells: only when the store's prices are the same for
    every request. POPUP_SHARED_PAGES None (the default) decides by the partner strategy: Oscar's
    own Selector ignores the request; a store's own may not, and must say so by setting it True."""
    chosen = popup_settings.POPUP_SHARED_PAGES
    if chosen is not None:
        return bool(chosen)
    return Selector.__module__.startswith("oscar.apps.partner")


def shells_generation(*, fresh: bool = False) -> int:
    """The current catalogue generation, read from the cache at most once a second per process;
    `fresh`: read now (before rendering a shell: one stamped with a generation a second old would
    be stale as soon as this process reads the new one, and rendered again)."""
    now = time.monotonic()
    if fresh or now - _generation["read_at"] >= GENERATION_MEMO_SECONDS:
        _generation["value"] = cache_get(GENERATION_KEY, 0)
        _generation["read_at"] = now
    return _generation["value"]


def shells_outdate() -> None:
    """Make every stored shell stale (a pop-up, product, image or price changed)."""
    _generation["value"] = cache_incr(GENERATION_KEY)
    _generation["read_at"] = time.monotonic()
    _memo.clear()
    _kept.clear()


def page_changed(**_signal) -> None:
    """Signal receiver: outdate the shells now (this process's next page shows the change) and again
    once the change is committed, so a page rendered meanwhile from the old rows is not kept."""
    shells_outdate()
    pending = getattr(transaction.get_connection(), "run_on_commit", [])
    if not any(entry[1] is shells_outdate for entry in pending):  # once per transaction
        transaction.on_commit(shells_outdate)


_kept: dict[str, tuple[int, float, object]] = {}  # catalogue_kept: generation, when, value


def catalogue_kept(key: str, compute):
    """`compute()`, kept by this process while the catalogue generation stays the same (a minute
    at most, in case the cache is down and generations cannot be compared)."""
    generation, now = shells_generation(), time.monotonic()
    kept = _kept.get(key)
    if kept is not None and kept[0] == generation and now - kept[1] < 60:
        return kept[2]
    value = compute()
    _kept[key] = (generation, now, value)
    return value


def shells_forget() -> None:
    """Forget this process's copies and generation (tests start each from an empty cache)."""
    _memo.clear()
    _kept.clear()
    _generation["read_at"] = float("-inf")


def shell_language(query_string: str) -> str:
    """The language a shell is for: the one its ?lang= asks for if the store offers it, else ""
    (the pop-up's default, which only the pop-up knows: popup.core.languages)."""
    return language_match(parse_qs(query_string).get("lang", [""])[0]) or ""


def _key(path: str, language: str) -> str:
    return "popup-shell:" + hashlib.sha256(f"{language}:{path}".encode()).hexdigest()[:32]


def shell_get(path: str, language: str) -> Shell | None:
    """The stored shell for this path and language if it is valid now, else None: the current one,
    or the one rendered ahead for this moment (which then becomes the current one)."""
    key = _key(path, language)
    generation = shells_generation()
    now = time.time()
    for slot in (key, key + AHEAD):
        for source in (_memo.get, cache_get):
            shell = source(slot)
            if (
                shell is not None
                and shell.generation == generation
                and shell.valid_from <= now < shell.valid_until
            ):
                _memo[key] = shell
                return shell
    _memo.pop(key, None)
    return None


def shell_awaited(path: str, language: str, *, seconds: float = 2.0) -> Shell | None:
    """None when this caller should render the missing shell; else the shell another process
    rendered meanwhile (a crowd arriving at the opening renders the page once, not once each)."""
    if cache_add(_key(path, language) + ":rendering", 1, 5):
        return None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if (shell := shell_get(path, language)) is not None:
            return shell
    return None


def shell_store(
    path: str,
    language: str,
    response,
    *,
    generation: int,
    valid_until: float,
    valid_from: float = 0.0,
    views_of: int | None = None,
) -> Shell | None:
    """Keep the view's answer as the shell of this path; None when it is not shareable (not a 200,
    or it sets a cookie or varies by one: something in it read the session). A shell `valid_from`
    a moment to come is kept beside the current one, and served from that moment."""
    if (
        response.status_code != 200
        or response.streaming
        or response.cookies
        or "cookie" in response.get("Vary", "").lower()
        or response.has_header("Content-Encoding")
    ):
        return None
    body = response.content
    shell = Shell(
        headers=tuple((name, response[name]) for name in KEPT_HEADERS if response.has_header(name)),
        body=body,
        body_gzip=gzip.compress(body, compresslevel=6, mtime=0),
        etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
        generation=generation,
        valid_until=valid_until,
        valid_from=valid_from,
        views_of=views_of,
    )
    key = _key(path, language)
    if valid_from > time.time():
        cache_set(key + AHEAD, shell, max(1, int(valid_until - time.time()) + 1))
        return shell
    cache_set(key, shell, max(1, int(valid_until - time.time()) + 1))
    _memo[key] = shell
    return shell


def shell_answer(shell: Shell, *, accept_encoding: str, if_none_match: str):
    """(status, headers, body) of the answer: 304 when the client has it, gzip when it takes it."""
    own = [value for name, value in shell.headers if name == "Vary"]
    headers = [(name, value) for name, value in shell.headers if name != "Vary"]
    headers += [("ETag", shell.etag), ("Vary", ", ".join(["Accept-Encoding", *own]))]
    if if_none_match and shell.etag in parse_etags(if_none_match):
        return 304, headers, b""
    if "gzip" in accept_encoding.lower():
        headers.append(("Content-Encoding", "gzip"))
        body = shell.body_gzip
    else:
        body = shell.body
    headers.append(("Content-Length", str(len(body))))
    return 200, headers, body


_REASONS = {200: "200 OK", 304: "304 Not Modified"}
LIVE_SUFFIX = "/live/"  # the live figures' path (popup.core.api.popup_live)
# Headers of an answer that are not the middleware's to add to every shell.
_PER_ANSWER = {name.lower() for name in KEPT_HEADERS} | {
    "content-length",
    "content-encoding",
    "vary",
    "etag",
    "date",
    "expires",
    "last-modified",
    "set-cookie",
    "x-popup-shell",
}


class PageShells:
    """WSGI wrapper serving stored pop-up page shells before Django handles the request:

        application = PageShells(get_wsgi_application())

    Each process passes the first request for a path and language through Django, and adds to
    every shell it then serves the headers Django's middleware added to that answer (security
    headers, framing), but not its Vary: Cookie or cookies: Oscar's basket middleware reads the
    session of every request it sees, which a shell never needs.
    """

    def __init__(self, application) -> None:
        self.application = application
        self.outer_headers: dict[tuple[str, str], list[tuple[str, str]]] = {}

    def __call__(self, environ, start_response):
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return self.application(environ, start_response)
        query = environ.get("QUERY_STRING", "")
        language = shell_language(query)
        outer = self.outer_headers.get((path, language))
        if outer is not None and self.shared(path, query, environ):
            shell = shell_get(path, language)
            if shell is not None:
                if shell.views_of is not None:
                    self.count_view(shell.views_of, parse_qs(query).get("view", [""])[0])
                status, headers, body = shell_answer(
                    shell,
                    accept_encoding=environ.get("HTTP_ACCEPT_ENCODING", ""),
                    if_none_match=environ.get("HTTP_IF_NONE_MATCH", ""),
                )
                start_response(_REASONS[status], headers + outer)
                return [b""] if environ["REQUEST_METHOD"] == "HEAD" else [body]

        def learn(status, headers, exc_info=None):
            if any(name == "X-Popup-Shell" for name, _value in headers):
                self.outer_headers[path, language] = [
                    (name, value) for name, value in headers if name.lower() not in _PER_ANSWER
                ]
                headers = [(name, value) for name, value in headers if name != "X-Popup-Shell"]
            return start_response(status, headers, exc_info)

        return self.application(environ, learn)

    @staticmethod
    def shared(path: str, query: str, environ) -> bool:
        """Whether the request may get a shared answer: any for a page (its query is read by its
        script); for the live figures, only a call with no basket and no arrival of its own."""
        if not path.endswith(LIVE_SUFFIX):
            return True
        return not environ.get("HTTP_X_POPUP_BASKET") and set(parse_qs(query)) <= {"view", "lang"}

    @staticmethod
    def count_view(popup_id: int, view: str) -> None:
        from popup.analytics.stats import stat_count  # the models, once Django is set up

        if view in ("page", "embed"):
            stat_count(popup_id=popup_id, event="embed_views" if view == "embed" else "views")
