"""Rate limits for what shoppers can send without an account (waitlists, questions, ...)."""

from django.core.cache import cache

WINDOW_SECONDS = 3600


def over_limit(key: str, limit: int, *, window: int = WINDOW_SECONDS) -> bool:
    """Count one more use of `key` in the current window; True once it goes past `limit`."""
    # add() then incr(): atomic in Redis, so concurrent requests cannot slip past the count.
    cache.add(key, 0, window)
    try:
        return cache.incr(key) > limit
    except ValueError:  # the key expired between add() and incr()
        cache.add(key, 1, window)
        return False
