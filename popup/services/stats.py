"""First-party funnel counters: page views, baskets, checkouts and unmet demand, per pop-up and day,
and short-link clicks and page views per placement.

No third-party analytics. During a drop thousands of shoppers view the same pop-up in the same
minute, so a count is a Redis INCR (atomic, no row lock to queue on), and `stats_flush` (beat, every
minute) moves the counts into PopUpDayStats with F() updates. Without Redis (the demo) a count goes
straight to the database, with an F() update too: never a read-modify-write.
"""

from datetime import date
from functools import cache

import redis
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from ..models import Placement, PopUp, PopUpDayStats

EVENTS = ("views", "embed_views", "baskets", "checkouts", "unmet")
PREFIX = "popup-stats"
# A placement's short-link clicks and page views; its baskets, checkouts and orders are rows.
PLACEMENT_EVENTS = ("clicks", "views")
PLACEMENT_PREFIX = "placement-stats"
# Counts left in Redis this long (the flush runs every minute) are dropped rather than kept forever.
KEEP_SECONDS = 3 * 24 * 3600


@cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def _key(popup_id: int, day: date, event: str) -> str:
    return f"{PREFIX}:{popup_id}:{day.isoformat()}:{event}"


def day_stats_add(*, popup_id: int, day: date, event: str, count: int) -> None:
    """Add `count` to the pop-up's `event` column for that day, by an F() update."""
    stats, _ = PopUpDayStats.objects.get_or_create(popup_id=popup_id, day=day)
    PopUpDayStats.objects.filter(pk=stats.pk).update(**{event: F(event) + count})


def stat_count(*, popup_id: int, event: str) -> None:
    """Count one `event` for the pop-up today (the store's day)."""
    if event not in EVENTS:
        raise ValueError(f"Unknown event {event!r}")
    day = timezone.localdate()
    if not settings.REDIS_URL:
        day_stats_add(popup_id=popup_id, day=day, event=event, count=1)
        return
    connection = _redis(settings.REDIS_URL)
    key = _key(popup_id, day, event)
    pipeline = connection.pipeline()
    pipeline.incr(key)
    pipeline.expire(key, KEEP_SECONDS)
    pipeline.execute()


def placement_count(*, placement_id: int, event: str) -> None:
    """Count one short-link click or page view through the placement."""
    if event not in PLACEMENT_EVENTS:
        raise ValueError(f"Unknown placement event {event!r}")
    if not settings.REDIS_URL:
        Placement.objects.filter(pk=placement_id).update(**{event: F(event) + 1})
        return
    connection = _redis(settings.REDIS_URL)
    key = f"{PLACEMENT_PREFIX}:{placement_id}:{event}"
    pipeline = connection.pipeline()
    pipeline.incr(key)
    pipeline.expire(key, KEEP_SECONDS)
    pipeline.execute()


def stats_flush() -> int:
    """Move the counts from Redis to PopUpDayStats; returns how many counters were moved."""
    if not settings.REDIS_URL:
        return 0
    connection = _redis(settings.REDIS_URL)
    moved = 0
    for key in connection.scan_iter(f"{PREFIX}:*", count=500):
        _prefix, popup_id, day, event = key.decode().split(":")
        # GETDEL: a count made while this runs lands in a new key, flushed next time.
        count = int(connection.getdel(key) or 0)
        if count and event in EVENTS and PopUp.objects.filter(pk=popup_id).exists():
            day_stats_add(
                popup_id=int(popup_id), day=date.fromisoformat(day), event=event, count=count
            )
            moved += 1
    for key in connection.scan_iter(f"{PLACEMENT_PREFIX}:*", count=500):
        _prefix, placement_id, event = key.decode().split(":")
        count = int(connection.getdel(key) or 0)
        if count and event in PLACEMENT_EVENTS:
            Placement.objects.filter(pk=placement_id).update(**{event: F(event) + count})
            moved += 1
    return moved
