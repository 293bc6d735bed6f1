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
streamed (a draft, event-only, deleted): the page goes back to polling the live call.

A stream holds no database connection and no session; it works without cookies, so inside an
embed too. Each process keeps one Redis subscription (popup.core.pushes) and hands each pop-up's
latest figures to its streams; a stream that falls behind gets only the latest. The figures are
computed in this process too, by one thread with one database connection: when a change is
announced, one process of the whole deployment takes the pop-up's lock and publishes them for
every node, and each process recomputes a pop-up it has streams of when its figures change by the
clock alone (it opens, closes, a hold lapses).
"""

import asyncio
import contextlib
import json
import logging
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import parse_qs

import django

django.setup()  # as Django's own asgi.py: DJANGO_SETTINGS_MODULE names the store's settings

import redis.asyncio as aioredis  # noqa: E402 - after Django is set up
from django.conf import settings  # noqa: E402
from django.db import close_old_connections, connection, transaction  # noqa: E402
from django.utils import translation  # noqa: E402
from django.utils.translation import gettext as _  # noqa: E402

from popup.conf import popup_settings  # noqa: E402
from popup.core.languages import language_match  # noqa: E402
from popup.core.pushes import (  # noqa: E402
    CHANGED,
    EPOCH,
    EVERY_POPUP,
    FIGURES,
    WATCHED,
    WATCHED_EVERY_SECONDS,
    WATCHED_SECONDS,
    channel,
    last_key,
    live_figures_publish,
)

logger = logging.getLogger(__name__)

STREAM_PATH = re.compile(r"/stream/(\d{1,18})/$")
KEEP_UP_SECONDS = 2.0
HEARTBEAT_SECONDS = 15  # a comment line, so proxies and phones do not cut a quiet stream
RETRY_MILLISECONDS = 3000
LOCK_MILLISECONDS = 10_000  # a publisher that died gives the pop-up back after this
REDIS_RETRY_SECONDS = 1.0
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


@dataclass(frozen=True)
class Published:
    """A pop-up's figures in one language, as published (popup.core.pushes)."""

    id: int
    frame: bytes  # the event as a stream sends it
    at: float  # when they were computed
    change_at: float | None

    @classmethod
    def of(cls, message: dict) -> "Published":
        frame = f"id: {message['id']}\nevent: {message['event']}\ndata: {message['data']}\n\n"
        return cls(message["id"], frame.encode(), message["at"], message["change_at"])


class Stream:
    """One open stream: the latest frame it has yet to send."""

    def __init__(self) -> None:
        self.frame: bytes | None = None
        self.sent_id = 0
        self.wake = asyncio.Event()

    def offer(self, event_id: int, frame: bytes) -> None:
        if event_id > self.sent_id:
            self.frame, self.sent_id = frame, event_id
            self.wake.set()


class Hub:
    """This process's streams, its Redis subscription and its share of the publishing."""

    def __init__(self, url: str) -> None:
        self.redis = aioredis.Redis.from_url(url)
        self.changed, self.figures = channel(self.redis, CHANGED), channel(self.redis, FIGURES)
        self.streams: dict[tuple[int, str], set[Stream]] = {}
        self.latest: dict[tuple[int, str], Published] = {}
        self.timers: dict[int, tuple[float, asyncio.TimerHandle]] = {}
        self.computing: set[int] = set()
        self.again: set[int] = set()
        self.tasks: list[asyncio.Task] = []
        # Django's ORM is synchronous: one thread, so one database connection per process.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="popup-publisher")
        self.lock_owner = uuid.uuid4().hex
        self.epoch: bytes | None = None  # the Redis data this process knows (EPOCH)

    def start(self) -> None:
        self.tasks = [
            asyncio.create_task(self._listen()),
            asyncio.create_task(self._keep_up()),
        ]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for _at, handle in self.timers.values():
            handle.cancel()
        self.executor.shutdown(wait=False, cancel_futures=True)
        with contextlib.suppress(Exception):
            await self.redis.aclose()

    # Streams come and go.

    async def join(self, popup_id: int, language: str, stream: Stream) -> None:
        key, field = (popup_id, language), f"{popup_id}:{language}"
        first = key not in self.streams  # else this process heard every change since
        self.streams.setdefault(key, set()).add(stream)
        kept, current = self.latest.get(key), not first
        if first:
            with contextlib.suppress(Exception):
                seen = await self.redis.hget(WATCHED, field)
                await self.redis.hset(WATCHED, field, time.time())
                # Kept current while some process had streams of it, or published lately.
                kept = await self._read_latest(popup_id, language)
                current = kept is not None and (
                    time.time() - kept.at < WATCHED_SECONDS
                    or (seen is not None and float(seen) > time.time() - WATCHED_SECONDS)
                )
        if kept is not None:  # the truth when published; recomputed below unless current
            stream.offer(kept.id, kept.frame)
            self._schedule(popup_id, kept.change_at)
        if not current:  # nothing published lately in this language: ask for it
            with contextlib.suppress(Exception):
                await self.redis.publish(self.changed, str(popup_id))

    def leave(self, popup_id: int, language: str, stream: Stream) -> None:
        streams = self.streams.get((popup_id, language))
        if streams is not None:
            streams.discard(stream)
            if not streams:
                del self.streams[(popup_id, language)]

    async def _read_latest(self, popup_id: int, language: str) -> Published | None:
        try:
            stored = await self.redis.get(last_key(popup_id, language))
        except Exception:  # Redis down: the stream waits for it, the page polls meanwhile
            return None
        if stored is None:
            return None
        kept = Published.of(json.loads(stored))
        self.latest[(popup_id, language)] = kept
        return kept

    # Redis: what changed, and the figures published.

    async def _listen(self) -> None:
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(self.changed, self.figures)
                await self._catch_up()  # what was published while not subscribed
                async for message in pubsub.listen():
                    if message["type"] != "message":
                        continue
                    if message["channel"] == self.changed.encode():
                        await self._changed(message["data"].decode())
                    else:
                        self._published(json.loads(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Redis restarted or unreachable: subscribe again
                logger.warning("Live figures: Redis subscription lost (%s); retrying.", error)
                await asyncio.sleep(REDIS_RETRY_SECONDS)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _catch_up(self) -> None:
        """After (re)subscribing: changes announced meanwhile were missed, and a Redis that
        restarted has forgotten what is watched. Say it again and have the figures recomputed."""
        if not self.streams:
            return
        now = time.time()
        await self.redis.hset(
            WATCHED, mapping={f"{popup}:{language}": now for popup, language in self.streams}
        )
        for popup_id in {popup for popup, _language in self.streams}:
            await self.redis.publish(self.changed, str(popup_id))

    def _published(self, message: dict) -> None:
        popup_id, language = message["popup"], message["language"]
        kept = Published.of(message)
        held = self.latest.get((popup_id, language))
        if held is not None and held.id >= kept.id:
            return
        self.latest[(popup_id, language)] = kept
        if (popup_id, language) in self.streams:
            self._hand_out(popup_id, language, kept)
            self._schedule(popup_id, kept.change_at)

    def _hand_out(self, popup_id: int, language: str, kept: Published) -> None:
        for stream in self.streams.get((popup_id, language), ()):
            stream.offer(kept.id, kept.frame)

    def _schedule(self, popup_id: int, change_at: float | None) -> None:
        """Recompute the pop-up when its figures change by the clock (if this process still has
        streams of it then)."""
        planned = self.timers.get(popup_id)
        if planned is not None and planned[0] == change_at:
            return
        if planned is not None:
            planned[1].cancel()
            del self.timers[popup_id]
        if change_at is None:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, change_at - time.time()) + 0.05  # just after the moment, not before
        handle = loop.call_later(delay, self._clock_changed, popup_id)
        self.timers[popup_id] = (change_at, handle)

    def _clock_changed(self, popup_id: int) -> None:
        self.timers.pop(popup_id, None)
        if any(key[0] == popup_id for key in self.streams):
            self._dirty(popup_id)

    async def _changed(self, target: str) -> None:
        if target == EVERY_POPUP:
            for popup_id in await self._watched():
                self._dirty(popup_id)
        elif target.isdigit():
            self._dirty(int(target))

    # Publishing: one process of the deployment at a time per pop-up.

    def _dirty(self, popup_id: int) -> None:
        if popup_id in self.computing:
            self.again.add(popup_id)  # computed again once the current one is out
            return
        self.computing.add(popup_id)
        asyncio.create_task(self._recompute(popup_id))

    async def _recompute(self, popup_id: int) -> None:
        lock = f"popup-stream:computing:{popup_id}"
        try:
            while True:
                self.again.discard(popup_id)
                languages = (await self._watched(popup_id)).get(popup_id, [])
                if not languages:
                    return  # nobody streams it: nothing to compute
                if not await self.redis.set(lock, self.lock_owner, nx=True, px=LOCK_MILLISECONDS):
                    return  # another process computes; it heard the same change
                try:
                    loop = asyncio.get_running_loop()
                    await loop.run_in_executor(self.executor, _publish, popup_id, languages)
                finally:
                    if await self.redis.get(lock) == self.lock_owner.encode():
                        await self.redis.delete(lock)
                if popup_id not in self.again:
                    return
        except Exception as error:  # the database or Redis is down: the next change tries again
            logger.warning("Live figures of pop-up %s not published: %s", popup_id, error)
        finally:
            self.computing.discard(popup_id)

    async def _watched(self, popup_id: int | None = None) -> dict[int, list[str]]:
        entries = await self.redis.hgetall(WATCHED)
        since = time.time() - WATCHED_SECONDS
        watched: dict[int, list[str]] = {}
        for field, seen in entries.items():
            popup, _colon, language = field.decode().partition(":")
            recent = float(seen) >= since and popup.isdigit()
            if recent and (popup_id is None or int(popup) == popup_id):
                watched.setdefault(int(popup), []).append(language)
        return watched

    async def _keep_up(self) -> None:
        """Every KEEP_UP_SECONDS: notice a Redis that restarted empty (its subscription comes back
        by itself, not what it forgot) and catch up; every WATCHED_EVERY_SECONDS, tell the
        publishers which pop-ups and languages this process has streams of, and forget what
        nobody said for long."""
        ticks = 0
        while True:
            await asyncio.sleep(KEEP_UP_SECONDS)
            ticks += 1
            try:
                await self.redis.set(EPOCH, uuid.uuid4().hex, nx=True)
                epoch = await self.redis.get(EPOCH)
                if self.epoch is not None and epoch != self.epoch:
                    logger.warning("Live figures: Redis lost its data; publishing again.")
                    await self._catch_up()
                self.epoch = epoch
                if ticks % round(WATCHED_EVERY_SECONDS / KEEP_UP_SECONDS):
                    continue
                now = time.time()
                if self.streams:
                    await self.redis.hset(
                        WATCHED,
                        mapping={f"{popup}:{language}": now for popup, language in self.streams},
                    )
                stale = [
                    field
                    for field, seen in (await self.redis.hgetall(WATCHED)).items()
                    if float(seen) < now - 10 * WATCHED_SECONDS
                ]
                if stale:
                    await self.redis.hdel(WATCHED, *stale)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("Live figures: Redis unavailable (%s).", error)


def _publish(popup_id: int, languages: list[str]) -> None:
    """In the publisher thread: the figures from one snapshot of the database."""
    close_old_connections()  # a connection the database dropped is opened again
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        live_figures_publish(popup_id=popup_id, languages=languages)


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
            return int(text) if text.isdigit() and len(text) < 19 else 0
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
                {"type": "http.response.body", "body": frame or b": \n\n", "more_body": True}
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
