"""Django's cache as the plugin uses it: for things it can do without.

Share images, posters and feed debouncing only save work, so when the store's cache is a Redis or a
Memcached that is down, each call here answers as an empty cache would (logged once a minute per
process) instead of failing the page.
"""

import logging
import time
from typing import Any

from django.core.cache import cache

logger = logging.getLogger(__name__)
_LOG_EVERY_SECONDS = 60
_last_logged = 0.0


def _unavailable(operation: str, error: Exception) -> None:
    global _last_logged
    now = time.monotonic()
    if now - _last_logged >= _LOG_EVERY_SECONDS:
        _last_logged = now
        logger.warning("The cache is unavailable (%s: %s); going on without it.", operation, error)


def cache_get(key: str, default: Any = None) -> Any:
    try:
        return cache.get(key, default)
    except Exception as error:  # any backend's own connection error
        _unavailable("get", error)
        return default


def cache_get_many(keys: list[str]) -> dict[str, Any]:
    try:
        return cache.get_many(keys)
    except Exception as error:
        _unavailable("get_many", error)
        return {}


def cache_set(key: str, value: Any, timeout: int) -> None:
    try:
        cache.set(key, value, timeout)
    except Exception as error:
        _unavailable("set", error)


def cache_add(key: str, value: Any, timeout: int) -> bool:
    """Store `value` unless `key` is there; True when stored, and True when the cache is down (the
    callers use it to skip work already done, so without a cache they simply do it)."""
    try:
        return cache.add(key, value, timeout)
    except Exception as error:
        _unavailable("add", error)
        return True


def cache_incr(key: str) -> int:
    """Add one to the number at `key` (made at 1, kept for ever); when the cache is down, a number
    no earlier call returned."""
    try:
        if cache.add(key, 1, None):
            return 1
        return cache.incr(key)
    except Exception as error:
        _unavailable("incr", error)
        return time.time_ns()


def cache_delete(key: str) -> None:
    cache_delete_many([key])


def cache_delete_many(keys: list[str]) -> None:
    try:
        cache.delete_many(keys)
    except Exception as error:
        _unavailable("delete_many", error)
