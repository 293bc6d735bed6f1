"""Live figures pushed to every open pop-up page: Server-Sent Events from an ASGI process.

    uvicorn popup.stream:application --host 127.0.0.1 --port 8002    # beside the WSGI server

The store's pages keep running under WSGI; a proxy sends `<POPUP_STREAM_URL><pop-up id>/` here
(README: production). A page opens

    GET /popup/stream/<pop-up id>/?lang=fr          (Last-Event-ID: 41 when it reconnects)

and receives, at once and whenever they change:

    retry: 3000

    id: 42
    event: figures
    data: {"state": "live", "units_left": 115, "products": {"12": {"units_left": 3, ...}}, ...}

the live figures every shopper of the pop-up shares (popup.core.live, without the shopper's own
"arrival" and "basket", which the live call gives). `event: gone` says the pop-up cannot be
streamed (a draft, event-only, deleted): the page goes back to polling the live call. A quiet
stream says `event: ping` every HEARTBEAT_SECONDS.

A stream holds no database connection and no session; it works without cookies, so inside an
embed too. What feeds the streams, and computes the figures with the process's one database
connection, is its hub (popup.core.stream_hub).
"""

import asyncio
import contextlib
import re
from urllib.parse import parse_qs

import django

django.setup()  # as Django's own asgi.py: DJANGO_SETTINGS_MODULE names the store's settings

from django.conf import settings  # noqa: E402
from django.utils import translation  # noqa: E402
from django.utils.translation import gettext as _  # noqa: E402

from popup.conf import popup_settings  # noqa: E402
from popup.core.languages import language_match  # noqa: E402
from popup.core.stream_hub import Hub, Stream  # noqa: E402

STREAM_PATH = re.compile(r"/stream/(\d{1,18})/$")
# A quiet stream says it is alive this often, so proxies and phones do not cut it and the page
# knows it is not stuck (an event its script hears, not a comment).
HEARTBEAT_SECONDS = 15
HEARTBEAT = b"event: ping\ndata: 1\n\n"
RETRY_MILLISECONDS = 3000
HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache, no-transform"),
    (b"x-accel-buffering", b"no"),  # nginx: pass each event on at once
    # The figures are public and carry nothing of the caller's: any page may read them.
    (b"access-control-allow-origin", b"*"),
]


def _redis_url() -> str | None:
    """The plugin's Redis, as popup.analytics.counters finds it, by URL."""
    if popup_settings.POPUP_REDIS_URL:
        return popup_settings.POPUP_REDIS_URL
    cache = settings.CACHES.get("default", {})
    if "redis" not in cache.get("BACKEND", "").lower():
        return None
    location = cache.get("LOCATION")
    return location[0] if isinstance(location, (list, tuple)) else location


_hub: Hub | None = None


async def _hub_started() -> Hub | None:
    global _hub
    if _hub is None:
        url = _redis_url()
        if url is None:
            return None
        _hub = Hub(url)
        _hub.start()
    return _hub


async def _plain(send, status: int, text: str, headers: list | None = None) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": text.encode()})


def _last_event_id(scope) -> int:
    for name, value in scope["headers"]:
        if name == b"last-event-id":
            text = value.decode("latin-1").strip()
            return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else 0
    return 0


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await _hub_started()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            global _hub
            if _hub is not None:
                await _hub.stop()
                _hub = None
            await send({"type": "lifespan.shutdown.complete"})
            return


async def application(scope, receive, send) -> None:
    """The ASGI application: streams at …/stream/<pop-up id>/, 404 for anything else."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    language = language_match(query.get("lang", [""])[0]) or settings.LANGUAGE_CODE
    with translation.override(language):
        await _answer(scope, receive, send, language)


async def _answer(scope, receive, send, language: str) -> None:
    matched = STREAM_PATH.search(scope["path"])
    if matched is None:
        await _plain(send, 404, _("No such stream."))
        return
    if scope["method"] == "OPTIONS":  # a preflight, for Last-Event-ID from another origin
        await _plain(
            send,
            204,
            "",
            [
                (b"access-control-allow-origin", b"*"),
                (b"access-control-allow-headers", b"Last-Event-ID"),
                (b"access-control-max-age", b"86400"),
            ],
        )
        return
    if scope["method"] != "GET":
        await _plain(send, 405, _("A stream is read with GET."), [(b"allow", b"GET")])
        return
    hub = await _hub_started()
    if hub is None:
        await _plain(send, 503, _("This store does not push live figures: the page asks for them."))
        return
    popup_id = int(matched.group(1))
    await _stream(hub, popup_id, language, _last_event_id(scope), receive, send)


async def _stream(hub: Hub, popup_id: int, language: str, last_id: int, receive, send) -> None:
    stream = Stream()
    stream.sent_id = last_id  # what the browser already has is not sent again
    gone = asyncio.Event()

    async def watch_disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        gone.set()
        stream.wake.set()

    watcher = asyncio.create_task(watch_disconnect())
    try:
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await send(
            {
                "type": "http.response.body",
                "body": f"retry: {RETRY_MILLISECONDS}\n\n".encode(),
                "more_body": True,
            }
        )
        await hub.join(popup_id, language, stream)
        while not gone.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stream.wake.wait(), HEARTBEAT_SECONDS)
            stream.wake.clear()
            if gone.is_set():
                break
            frame, stream.frame = stream.frame, None
            await send(
                {"type": "http.response.body", "body": frame or HEARTBEAT, "more_body": True}
            )
            if frame is not None and b"\nevent: gone\n" in frame:
                break  # nothing more will come: the page polls instead
        with contextlib.suppress(Exception):  # the client may be gone already
            await send({"type": "http.response.body", "body": b"", "more_body": False})
    except OSError:  # the client went away mid-send
        pass
    finally:
        hub.leave(popup_id, language, stream)
        watcher.cancel()
