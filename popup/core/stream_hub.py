"""The stream process's hub (popup.stream): its streams, its Redis subscription and its share of
computing the live figures (popup.core.pushes says how a change travels).

Each process keeps one subscription and hands each pop-up's latest figures to its streams; a
stream that falls behind gets only the latest. The figures are computed here too, by one thread
with one database connection: when a change is announced, one process of the whole deployment
takes the pop-up's lock and publishes them for every node; each process recomputes a pop-up it
has streams of when its figures change by the clock alone (it opens, closes, a hold lapses); and
every WATCHED_EVERY_SECONDS one process has every streamed pop-up recomputed (the sweep).
"""

import asyncio
import contextlib
import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import redis.asyncio as aioredis
from django.db import close_old_connections, connection, transaction

from popup.core.pushes import (
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

KEEP_UP_SECONDS = 2.0
LOCK_MILLISECONDS = 10_000  # a publisher that died gives the pop-up back after this
RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"
SWEEP = "popup-stream:sweep"
REDIS_RETRY_SECONDS = 1.0
REDIS_CONNECTIONS = 8


@dataclass(frozen=True)
class Published:
    """A pop-up's figures in one language, as published (popup.core.pushes)."""

    id: int
    event: str  # "figures" or "gone"
    frame: bytes  # the event as a stream sends it
    at: float  # when they were computed (or last found unchanged)
    change_at: float | None

    @classmethod
    def of(cls, message: dict) -> "Published":
        frame = f"id: {message['id']}\nevent: {message['event']}\ndata: {message['data']}\n\n"
        return cls(
            message["id"], message["event"], frame.encode(), message["at"], message["change_at"]
        )


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
        # A few connections whatever the streams (joins wait for one); the subscription is
        # checked every 30 s, so a connection silently cut is noticed and opened again.
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=REDIS_CONNECTIONS, timeout=5, health_check_interval=30
        )
        self.redis = aioredis.Redis(connection_pool=pool)
        self.changed, self.figures = channel(self.redis, CHANGED), channel(self.redis, FIGURES)
        self.streams: dict[tuple[int, str], set[Stream]] = {}
        self.latest: dict[tuple[int, str], Published] = {}
        self.timers: dict[int, tuple[float, asyncio.TimerHandle]] = {}
        self.computing: set[int] = set()
        self.recomputing: set[asyncio.Task] = set()
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
        """Stop listening and computing; give back the locks held (another process takes over)."""
        for task in [*self.tasks, *self.recomputing]:
            task.cancel()
        for task in [*self.tasks, *self.recomputing]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for popup_id in list(self.computing):
            with contextlib.suppress(Exception):
                await self._unlock(f"popup-stream:computing:{popup_id}")
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
        kept = self.latest.get(key)
        if first:
            with contextlib.suppress(Exception):
                await self.redis.hset(WATCHED, field, time.time())
                kept = await self._read_latest(popup_id, language)
        # Figures are recomputed while watched, and found unchanged at least every
        # WATCHED_EVERY_SECONDS (the sweep): older ones may be stale. "gone" is asked again: the
        # pop-up may be back.
        current = (
            kept is not None and kept.event == "figures" and time.time() - kept.at < WATCHED_SECONDS
        )
        if current:
            stream.offer(kept.id, kept.frame)
            self._schedule(popup_id, kept.change_at)
        else:  # nothing published lately in this language: ask for it
            with contextlib.suppress(Exception):
                await self.redis.publish(self.changed, str(popup_id))

    def leave(self, popup_id: int, language: str, stream: Stream) -> None:
        streams = self.streams.get((popup_id, language))
        if streams is not None:
            streams.discard(stream)
            if not streams:  # nothing of it is kept in this process any more
                del self.streams[(popup_id, language)]
                self.latest.pop((popup_id, language), None)

    async def _read_latest(self, popup_id: int, language: str) -> Published | None:
        try:
            stored = await self.redis.get(last_key(popup_id, language))
        except Exception:  # Redis down: the stream waits for it, the page polls meanwhile
            return None
        if stored is None:
            return None
        kept = Published.of(json.loads(stored))
        held = self.latest.get((popup_id, language))
        if held is not None and held.id > kept.id:  # a newer one came meanwhile
            return held
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
        if (popup_id, language) not in self.streams:
            return  # no stream of it here: a joining one reads it from Redis
        kept = Published.of(message)
        held = self.latest.get((popup_id, language))
        if held is not None and held.id >= kept.id:
            return
        self.latest[(popup_id, language)] = kept
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
        task = asyncio.create_task(self._recompute(popup_id))
        self.recomputing.add(task)
        task.add_done_callback(self.recomputing.discard)

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
                    await self._unlock(lock)
                if popup_id not in self.again:
                    return
        except Exception as error:  # the database or Redis is down: the next change tries again
            logger.warning("Live figures of pop-up %s not published: %s", popup_id, error)
        finally:
            self.computing.discard(popup_id)

    async def _unlock(self, lock: str) -> None:
        """Release the lock if it is still this process's (one atomic step)."""
        await self.redis.eval(RELEASE, 1, lock, self.lock_owner)

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
        by itself, not what it forgot) and catch up; every WATCHED_EVERY_SECONDS, the sweep, then
        tell the publishers which pop-ups and languages this process has streams of, and forget
        what nobody said for long."""
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
                # The sweep: one process of the deployment has every watched pop-up recomputed,
                # so that whatever was missed (a process that died holding a lock, a change
                # announced while Redis was away) is never older than this.
                sweep_ms = int(WATCHED_EVERY_SECONDS * 1000) - 500
                if await self.redis.set(SWEEP, self.lock_owner, nx=True, px=sweep_ms):
                    await self._changed(EVERY_POPUP)
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
