"""First-party funnel counters: page views, baskets, checkouts and unmet demand, per pop-up and day,
and short-link clicks and page views per placement.

No third-party analytics. During a drop thousands of shoppers view the same pop-up in the same
minute, so a count is a Redis INCR (atomic, no row lock to queue on), and `stats_flush` (beat, every
minute) moves the counts into PopUpDayStats with F() updates. Without Redis (or while it is down) a
process writes its counts with F() updates at most every FLUSH_SECONDS, added up in between: never a
read-modify-write, and a rush does not queue on one row (see popup.analytics.counters).
"""

import atexit
import logging
import threading
import time
from collections import Counter
from datetime import date

from django.db import connection
from django.db.models import F
from django.utils import timezone

from popup.analytics.counters import rate_counters_tidy, redis_call, redis_incr
from popup.models import Placement, PopUp, PopUpDayStats

logger = logging.getLogger(__name__)

EVENTS = ("views", "embed_views", "baskets", "checkouts", "unmet")
PREFIX = "popup-stats"
# A placement's short-link clicks and page views; its baskets, checkouts and orders are rows.
PLACEMENT_EVENTS = ("clicks", "views")
PLACEMENT_PREFIX = "placement-stats"
# Counts left in Redis this long (the flush runs every minute) are dropped rather than kept forever.
KEEP_SECONDS = 3 * 24 * 3600
# Without Redis, a process writes the counts it holds at most this often.
FLUSH_SECONDS = 2.0


def _key(popup_id: int, day: date, event: str) -> str:
    return f"{PREFIX}:{popup_id}:{day.isoformat()}:{event}"


def day_stats_add(*, popup_id: int, day: date, event: str, count: int) -> None:
    """Add `count` to the pop-up's `event` column for that day, by an F() update."""
    stats, _ = PopUpDayStats.objects.get_or_create(popup_id=popup_id, day=day)
    PopUpDayStats.objects.filter(pk=stats.pk).update(**{event: F(event) + count})


class _Batch:
    """Counts this process holds for the database (by Redis key), written at most every
    FLUSH_SECONDS: at once after a quiet spell, added up during a rush, and the rush's last ones
    FLUSH_SECONDS later by a timer, whether or not another count comes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._written_at = 0.0
        self._timer: threading.Timer | None = None

    def add(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1
            now = time.monotonic()
            wait = FLUSH_SECONDS - (now - self._written_at)
            due = wait <= 0
            if due:
                self._written_at = now
            elif self._timer is None:
                self._timer = threading.Timer(wait, self._write_pending)
                self._timer.daemon = True
                self._timer.start()
        if due:
            self.write()

    def _write_pending(self) -> None:
        with self._lock:
            self._timer = None
            self._written_at = time.monotonic()
        try:
            self.write()
        except Exception:  # the database may be down: these counts are lost, the pages are not
            logger.exception("Could not write the funnel counts")
        finally:
            connection.close()  # the timer's own thread's

    def write(self) -> int:
        with self._lock:
            counts, self._counts = self._counts, Counter()
        for key, count in counts.items():
            _count_write(key, count)
        return len(counts)


def _count_write(key: str, count: int) -> bool:
    """Add `count` to the row a counter key names; False for a key of a row that is gone."""
    prefix, *parts = key.split(":")
    if prefix == PREFIX:
        popup_id, day, event = parts
        if event in EVENTS and PopUp.objects.filter(pk=popup_id).exists():
            day_stats_add(
                popup_id=int(popup_id), day=date.fromisoformat(day), event=event, count=count
            )
            return True
    elif prefix == PLACEMENT_PREFIX:
        placement_id, event = parts
        if event in PLACEMENT_EVENTS:
            return bool(
                Placement.objects.filter(pk=placement_id).update(**{event: F(event) + count})
            )
    return False


_batch = _Batch()


@atexit.register
def _batch_write_at_exit() -> None:
    try:
        _batch.write()
    except Exception:  # the database may be gone too; nothing else can be done at exit
        logger.exception("Could not write the last funnel counts")


def _count(key: str) -> None:
    if not redis_incr(key, expire=KEEP_SECONDS):
        _batch.add(key)


def stat_count(*, popup_id: int, event: str) -> None:
    """Count one `event` for the pop-up today (the store's day)."""
    if event not in EVENTS:
        raise ValueError(f"Unknown event {event!r}")
    _count(_key(popup_id, timezone.localdate(), event))


def placement_count(*, placement_id: int, event: str) -> None:
    """Count one short-link click or page view through the placement."""
    if event not in PLACEMENT_EVENTS:
        raise ValueError(f"Unknown placement event {event!r}")
    _count(f"{PLACEMENT_PREFIX}:{placement_id}:{event}")


def _redis_counts_take() -> dict[str, int]:
    counts: dict[str, int] = {}  # what was taken stays taken, should Redis fail halfway

    def take(connection) -> None:
        for prefix in (PREFIX, PLACEMENT_PREFIX):
            for key in connection.scan_iter(f"{prefix}:*", count=500):
                # GETDEL: a count made while this runs lands in a new key, flushed next time.
                counts[key.decode()] = int(connection.getdel(key) or 0)

    redis_call(take)
    return counts


def stats_flush() -> int:
    """Move the counts from Redis (and this process's batch) to the database, and drop old
    rate-limit rows; returns how many counters were moved."""
    moved = _batch.write()
    for key, count in _redis_counts_take().items():
        if count and _count_write(key, count):
            moved += 1
    rate_counters_tidy()
    return moved
