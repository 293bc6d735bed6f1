"""Redis, one explicit policy: counters and rate limits, with or without it.

Redis is optional. A store trying the plugin runs without it; production should have it, because a
drop's opening minute sends thousands of counts at the same rows. The plugin uses one connection:
POPUP_REDIS_URL when set, else the store's default cache's own Redis connection when that cache is
Redis (Django's RedisCache or django-redis), else none.

- Counters (funnel views, placement clicks): an INCR in Redis, moved to the database by the beat
  (`popup.analytics.stats.stats_flush`); without Redis, added up in the process and written to the
  database in batches (popup.analytics.stats).
- Rate limits (per address, per e-mail): an INCR with an expiry in Redis; without Redis, a row per key
  and window in the database (RateCounter), so they hold across processes and machines.

A Redis that is down never breaks a page: every call here gives up after half a second, the process
stops trying for a few seconds, and the database takes the count meanwhile.
"""

import hashlib
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TypeVar

import redis
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db.models import F
from django.utils import timezone

from popup.conf import popup_settings

logger = logging.getLogger(__name__)
T = TypeVar("T")

# A Redis that failed is left alone this long before the next try, so a page does not wait on it.
RETRY_AFTER_SECONDS = 5.0
SOCKET_TIMEOUT_SECONDS = 0.5
RATE_PREFIX = "popup-rate"
_down_until = 0.0


@lru_cache(maxsize=4)
def _redis_from_url(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
    )


def _cache_redis() -> redis.Redis | None:
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return backend._cache.get_client(write=True)
    client = getattr(backend, "client", None)  # django-redis
    if client is not None and hasattr(client, "get_client"):
        return client.get_client(write=True)
    return None


def redis_connection() -> redis.Redis | None:
    """The plugin's Redis: POPUP_REDIS_URL, else the default cache's Redis, else None."""
    url = popup_settings.POPUP_REDIS_URL
    if url:
        return _redis_from_url(url)
    return _cache_redis()


def redis_call(operation: Callable[[redis.Redis], T]) -> T | None:
    """`operation` run on the plugin's Redis; None when there is none or it is down (then logged,
    and not tried again for RETRY_AFTER_SECONDS in this process)."""
    global _down_until
    if time.monotonic() < _down_until:
        return None
    connection = redis_connection()
    if connection is None:
        return None
    try:
        return operation(connection)
    except redis.RedisError as error:
        _down_until = time.monotonic() + RETRY_AFTER_SECONDS
        logger.warning("Redis is unavailable (%s); counting in the database meanwhile.", error)
        return None


def redis_incr(key: str, *, expire: int) -> bool:
    """Add one to the Redis counter `key` (kept `expire` seconds); False when Redis is unavailable."""

    def incr(connection: redis.Redis) -> bool:
        pipeline = connection.pipeline()
        pipeline.incr(key)
        pipeline.expire(key, expire)
        pipeline.execute()
        return True

    return bool(redis_call(incr))


def _stored_key(key: str) -> str:
    # Keys carry e-mail addresses: keep them within the column, still unique.
    if len(key) <= 200:
        return key
    return f"{key[:150]}:{hashlib.sha256(key.encode()).hexdigest()}"


def _window_start(now: datetime, window: int) -> datetime:
    seconds = int(now.timestamp())
    return datetime.fromtimestamp(seconds - seconds % window, tz=now.tzinfo)


def rate_count(key: str, *, window: int) -> int:
    """Count one more use of `key` in the current window of `window` seconds; the count so far."""

    def incr(connection: redis.Redis) -> int:
        name = f"{RATE_PREFIX}:{key}"
        pipeline = connection.pipeline()
        pipeline.set(name, 0, ex=window, nx=True)
        pipeline.incr(name)
        return int(pipeline.execute()[1])

    counted = redis_call(incr)
    if counted is not None:
        return counted
    from popup.models import RateCounter

    start = _window_start(timezone.now(), window)
    counter, _ = RateCounter.objects.get_or_create(key=_stored_key(key), window_start=start)
    RateCounter.objects.filter(pk=counter.pk).update(count=F("count") + 1)
    return RateCounter.objects.values_list("count", flat=True).get(pk=counter.pk)


def rate_used(key: str, *, window: int) -> int:
    """How often `key` was used in the current window (counts nothing)."""
    used = redis_call(lambda connection: int(connection.get(f"{RATE_PREFIX}:{key}") or 0))
    if used is not None:
        return int(used)
    from popup.models import RateCounter

    start = _window_start(timezone.now(), window)
    rows = RateCounter.objects.filter(key=_stored_key(key), window_start=start)
    return rows.values_list("count", flat=True).first() or 0


def rate_counters_tidy(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete the database's rate-limit rows of windows long past; how many were deleted."""
    from popup.models import RateCounter

    deleted, _ = RateCounter.objects.filter(window_start__lt=timezone.now() - older_than).delete()
    return deleted
