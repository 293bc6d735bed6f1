"""The live figures of a pop-up: what changes between shoppers and from second to second.

The page shell (popup.core.shells) is the same for everyone; this is the rest, as one JSON document
that the page's script and the embed read, and that the stream pushes (popup.stream):

    {
      "state": "live", "state_label": "Live", "opens_at": "…", "closes_at": "…",
      "units_left": 115,                      # the whole drop; null when a product has no cap
      "products": {"12": {"units_left": 3, "title": "…"}},  # units_left null: not capped
      "presale_html": "…",                    # the pre-sale's progress, rendered; "" if none
      "arrival": {                            # how this shopper arrived (?pl=, ?code=, utm_*)
        "placement": "ab3k9x2m", "unlocked": false, "code_refused": false, "utm": {…},
        "notices": ["…"], "landing_query": "?pl=ab3k9x2m",
        "links": {"share": "https://…", "whatsapp-share": "https://wa.me/?…", …},
        "prices": {"12": {"price": "€49.00"}}  # event prices, for an unlocked arrival only
      },
      "basket": {…} | null,                   # the X-Popup-Basket token's basket (see api)
    }

Nothing in it changes unless a figure does, so its ETag does not either: a poll gets a 304.

The shared part is computed at most once a second per pop-up and kept in the cache; the arrival
and the basket are the caller's own.
"""

import math
import time
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.template.defaultfilters import floatformat
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from oscar.templatetags.currency_filters import currency

from popup.cache import cache_add, cache_get, cache_set
from popup.channels.placements import Arrival
from popup.core.selectors import popup_storefront
from popup.models import PopUp
from popup.templatetags.popup_tags import messenger_message, whatsapp_message

LIVE_SECONDS = 1.0


def _figures_key(popup: PopUp) -> str:
    # Per language: the figures carry words (the state's label, the pre-sale's progress).
    return f"popup-live:{popup.pk}:{get_language()}:{popup.updated_at.timestamp()}"


def popup_figures(*, popup: PopUp, strategy=None) -> tuple[dict, float]:
    """The figures every shopper of the pop-up shares and when they were computed (time.time()):
    never older than LIVE_SECONDS, or twice that while another process is computing them (so a
    crowd computes them once a second)."""
    key = _figures_key(popup)
    kept = cache_get(key)
    if kept is not None:
        age = time.time() - kept["at"]
        if age < LIVE_SECONDS or (
            age < 2 * LIVE_SECONDS and not cache_add(f"{key}:after:{kept['at']}", 1, 5)
        ):
            return kept["figures"], kept["at"]
    figures = figures_of(
        popup=popup,
        storefront=popup_storefront(popup=popup, strategy=strategy, priced=False),
    )
    at = time.time()
    cache_set(key, {"at": at, "figures": figures}, 60)
    return figures, at


def figures_of(*, popup: PopUp, storefront) -> dict:
    """The shared figures (see the module's docstring) of a storefront just computed, in the
    active language."""
    return {
        "state": storefront.state.value,
        "state_label": str(storefront.state.label),
        "opens_at": popup.opens_at.isoformat(),
        "closes_at": popup.closes_at.isoformat(),
        "units_left": storefront.units_left,
        "products": {
            str(item.product.pk): {
                "units_left": item.units_left,
                "title": item.title,
                # None left only because baskets hold them: about when some may come back.
                "back_in_minutes": _minutes_until(item.back_at, storefront.now),
            }
            for item in storefront.items
        },
        "presale_html": (
            render_to_string(
                "popup/partials/presale_progress.html",
                {"progress": storefront.presale, "storefront": storefront, "popup": popup},
            )
            if storefront.presale
            else ""
        ),
    }


def figures_change_at(*, popup: PopUp, storefront) -> datetime | None:
    """When the figures next change by the clock alone, with nothing written: the pop-up opens or
    closes, a hold lapses and its units come back, or a "back in about N min" counts down."""
    now = storefront.now
    moments = [moment for moment in (popup.opens_at, popup.closes_at) if moment > now]
    moments += [
        item.terms.next_lapse
        for item in storefront.items
        if item.terms is not None and getattr(item.terms, "next_lapse", None) is not None
    ]
    for item in storefront.items:
        if item.back_at is not None and item.back_at > now:
            minutes = _minutes_until(item.back_at, now)  # N falls to N - 1 at this moment
            moments.append(item.back_at - timedelta(minutes=minutes - 1))
    return min(moments, default=None)


def _minutes_until(moment, now) -> int | None:
    return None if moment is None else max(1, math.ceil((moment - now).total_seconds() / 60))


def landing_query(arrival: Arrival) -> str:
    """The arrival's placement, code and campaign, for links that must carry them on."""
    query = {f"utm_{key}": value for key, value in arrival.utm.items()}
    if arrival.placement is not None:
        query["pl"] = arrival.placement.code
    if arrival.unlock_code:
        query["code"] = arrival.unlock_code
    return f"?{urlencode(query)}" if query else ""


def share_links(*, popup: PopUp, share_url: str, arrival: Arrival, titles: dict) -> dict:
    """Every link of the page that carries the placement on, by its data-arrival-link name."""
    links = {
        "share": share_url,
        "whatsapp-share": "https://wa.me/?" + urlencode({"text": f"{popup.title} {share_url}"}),
        "facebook-share": "https://www.facebook.com/sharer/sharer.php?"
        + urlencode({"u": share_url}),
        "x-share": "https://x.com/intent/post?"
        + urlencode({"text": popup.title, "url": share_url}),
    }
    if popup.messenger_url:
        links["messenger"] = messenger_message(popup, arrival)
    if popup.whatsapp_url:
        links["whatsapp"] = whatsapp_message(popup, share_url)
        for product_id, title in titles.items():
            links[f"ask-{product_id}"] = whatsapp_message(popup, share_url, title)
    return links


def ambassador_notice(ambassador) -> str:
    """What a shopper arriving with the ambassador's code is told of its discount ("" for none)."""
    if ambassador is None or not ambassador.is_active or not ambassador.discount_percent:
        return ""
    return _("%(name)s's code %(code)s: %(percent)s%% off, applied in your basket.") % {
        "name": ambassador.name,
        "code": ambassador.code,
        "percent": floatformat(ambassador.discount_percent, "-2"),
    }


def arrival_notices(arrival: Arrival) -> list[str]:
    """What the page says about the arrival's code, in the shopper's words."""
    notices = []
    if arrival.unlocked:
        notices.append(_("Event prices unlocked."))
    if notice := ambassador_notice(arrival.ambassador):
        notices.append(notice)
    return notices


def arrival_figures(
    *, popup: PopUp, arrival: Arrival, share_url: str, figures: dict, strategy=None
) -> dict:
    """The arrival's own part of the live figures (see the module's docstring)."""
    titles = {pk: product["title"] for pk, product in figures["products"].items()}
    prices = {}
    if arrival.unlocked:
        storefront = popup_storefront(popup=popup, strategy=strategy, unlocked=True, priced=False)
        for item in storefront.items:
            if item.is_personal:  # given to this shopper, not announced: no struck-through price
                prices[str(item.product.pk)] = {
                    "price": currency(item.price, item.currency),
                    "label": _("Event price"),
                }
    return {
        "placement": arrival.placement_code,
        "unlocked": arrival.unlocked,
        "code_refused": arrival.code_refused,
        "utm": arrival.utm,
        "notices": arrival_notices(arrival),
        "landing_query": landing_query(arrival),
        "links": share_links(popup=popup, share_url=share_url, arrival=arrival, titles=titles),
        "prices": prices,
    }
