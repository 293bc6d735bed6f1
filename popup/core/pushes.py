"""Live figures pushed: how a change reaches every open stream of a pop-up, on every node.

The services that change what a pop-up's figures say (holds, checkouts, orders, pledges, the
merchant's edits) call `live_changed` inside their transaction. Once it commits, one PUBLISH on the
plugin's Redis (popup.analytics.counters) names the pop-up. The stream process (popup.stream)
hears it, recomputes the figures once for however many changes came meanwhile
(`live_figures_publish`: the database's truth at that moment), keeps them with an event id and
publishes them; every stream process then sends them to its streams of that pop-up.

Redis, under the plugin's connection:

    popup-stream:changed:<db>       channel: "<pop-up id>", or "*" for every pop-up
    popup-stream:figures:<db>       channel: {"popup": 7, "language": "fr", "id": 42,
                                    "event": "figures" or "gone", "data": "<the figures' JSON>",
                                    "at": <epoch seconds when computed>,
                                    "change_at": <epoch seconds of the next change by the clock, or null>}
    popup-stream:last:<id>:<lang>   that message, the latest, for a stream that (re)connects
    popup-stream:event:<id>         the pop-up's last event id: it starts from the time in
                                    milliseconds, so ids keep growing after Redis forgets them
    popup-stream:epoch              set by the first stream process; gone: Redis lost its data
    popup-stream:watched            hash "<id>:<lang>" → epoch seconds when a stream process last
                                    said it has streams open for it

Channels are global to a Redis server, so they carry the number of the database the plugin uses:
stores sharing a server on different databases never hear each other.
Without Redis nothing is published and pages poll the live call (popup.core.api.popup_live).
"""

import json
import time
from functools import partial

from django.db import transaction
from django.utils import translation

from popup.analytics.counters import redis_call
from popup.core.live import figures_change_at, figures_of
from popup.core.selectors import popup_storefront
from popup.models import PopUp

CHANGED = "popup-stream:changed"  # the channels: channel(connection, CHANGED)
FIGURES = "popup-stream:figures"
WATCHED = "popup-stream:watched"
EPOCH = "popup-stream:epoch"
EVERY_POPUP = "*"
# A stream process says again this often which pop-ups it has streams of; a pop-up no process has
# said so of for WATCHED_SECONDS is not recomputed.
WATCHED_EVERY_SECONDS = 10
WATCHED_SECONDS = 3 * WATCHED_EVERY_SECONDS
LAST_SECONDS = 24 * 3600
GONE_SECONDS = 60


def channel(connection, name: str) -> str:
    """The channel `name` for the Redis database of `connection` (sync or asyncio)."""
    return f"{name}:{connection.connection_pool.connection_kwargs.get('db', 0)}"


def last_key(popup_id: int, language: str) -> str:
    return f"popup-stream:last:{popup_id}:{language}"


def live_changed(*, popup_id: int | None = None) -> None:
    """Tell the stream processes, once the current transaction commits, that the pop-up's figures
    (every pop-up's, without `popup_id`) may have changed; once per transaction and pop-up."""
    target = str(popup_id) if popup_id else EVERY_POPUP
    pending = getattr(transaction.get_connection(), "run_on_commit", [])
    if any(getattr(entry[1], "live_target", None) == target for entry in pending):
        return
    announce = partial(_announce, target)
    announce.live_target = target
    transaction.on_commit(announce)


def _announce(target: str) -> None:
    redis_call(lambda connection: connection.publish(channel(connection, CHANGED), target))


def _streamable(popup: PopUp | None) -> bool:
    # What anyone may see without a code: the page's public figures. Drafts and event-only
    # pop-ups stay with the live call, which checks who asks.
    return popup is not None and popup.is_published and not popup.event_only


def live_figures_publish(*, popup_id: int, languages: list[str]) -> float | None:
    """Compute the pop-up's figures now, from the database, in each language; keep each as the
    latest, and publish it with a new event id unless it says what the latest said. When the next
    change by the clock is (epoch seconds), or None."""
    popup = PopUp.objects.select_related("range").filter(pk=popup_id).first()
    storefront = popup_storefront(popup=popup, priced=False) if _streamable(popup) else None
    change_at = None
    if storefront is not None:
        moment = figures_change_at(popup=popup, storefront=storefront)
        change_at = moment.timestamp() if moment is not None else None
    computed_at = time.time()
    computed = {}
    for language in languages:
        if storefront is None:
            computed[language] = ("gone", "{}")
        else:
            with translation.override(language):
                figures = figures_of(popup=popup, storefront=storefront)
            computed[language] = ("figures", json.dumps(figures, separators=(",", ":")))

    def publish(connection) -> None:
        keys = [last_key(popup_id, language) for language in languages]
        kept = dict(zip(languages, connection.mget(keys), strict=True))
        event_id = None
        pipeline = connection.pipeline(transaction=False)
        for language, (event, data) in computed.items():
            message = json.loads(kept[language]) if kept[language] else {}
            if (message.get("event"), message.get("data"), message.get("change_at")) == (
                event,
                data,
                change_at,
            ):  # nothing new to say: only when it was last found true
                message["at"] = computed_at
            else:
                if event_id is None:
                    event_id = _event_id(connection, popup_id, computed_at)
                message = {
                    "popup": popup_id,
                    "language": language,
                    "id": event_id,
                    "event": event,
                    "data": data,
                    "at": computed_at,
                    "change_at": change_at,
                }
                pipeline.publish(channel(connection, FIGURES), json.dumps(message))
            # Kept for streams to come; a pop-up that cannot be streamed (perhaps no pop-up at all)
            # only briefly, and no longer watched.
            kept_for = LAST_SECONDS if event == "figures" else GONE_SECONDS
            pipeline.set(last_key(popup_id, language), json.dumps(message), ex=kept_for)
            if event == "gone":
                pipeline.hdel(WATCHED, f"{popup_id}:{language}")
        pipeline.execute()

    redis_call(publish)
    return change_at


def _event_id(connection, popup_id: int, now: float) -> int:
    """The pop-up's next event id; the first from the time in milliseconds."""
    counter = f"popup-stream:event:{popup_id}"
    pipeline = connection.pipeline(transaction=False)
    pipeline.set(counter, int(now * 1000), nx=True)
    pipeline.incr(counter)
    pipeline.expire(counter, LAST_SECONDS)  # forgotten with the figures: it starts again higher
    return pipeline.execute()[1]
