"""The checkout link's page (popup.channels.checkout_links): GET shows what the link asks for and
holds nothing (link scanners, prefetchers and Meta's checker open it too); the shopper's browser,
by the page's script or its button, POSTs to hold and goes on to the checkout."""

import re
from collections import defaultdict
from dataclasses import dataclass

from django.core import signing
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.defaultfilters import floatformat
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from popup.analytics.stats import placement_count, stat_count
from popup.channels.checkout_links import (
    MAX_PRODUCTS_CHARACTERS,
    checkout_link_arrival,
    checkout_link_hold,
    checkout_link_offers,
    checkout_link_parse,
    link_placement,
)
from popup.errors import Refusal
from popup.http.busy import busy_page
from popup.http.client_ip import client_ip
from popup.models import Hold, PopUpBasket

# Who opens a link without being a shopper: Meta's periodic checker and link previews among them.
# Their visits are not arrivals.
ROBOTS = re.compile(
    r"bot|crawl|spider|slurp|facebookexternalhit|facebookcatalog|meta-externalagent|preview",
    re.IGNORECASE,
)


def _arrivals_count(request, choices: list[dict]) -> None:
    """A shopper's arrival (not a robot's) is a view of each pop-up offered and of the placement
    its basket would have, as an arrival on the pop-up's page is."""
    if ROBOTS.search(request.headers.get("User-Agent", "")):
        return
    for choice in choices:
        stat_count(popup_id=choice["popup"].pk, event="views")
        if choice["placement"] is not None:
            placement_count(placement_id=choice["placement"].pk, event="views")


def _coupon_notices(arrival, choices: list[dict]) -> list[str]:
    """What the page says about the link's coupon, in the shopper's words."""
    coupon = arrival.coupon
    if coupon.refused:
        return [
            _("The code “%(code)s” does not apply here: the prices are without it.")
            % {"code": coupon.code}
        ]
    if coupon.unlocks:
        return [_("Event prices unlocked.")]
    ambassador = coupon.ambassador
    placements = [choice["placement"] for choice in choices if choice["placement"] is not None]
    if (
        ambassador is not None
        and ambassador.discount_percent
        and any(placement.ambassador_id == ambassador.pk for placement in placements)
    ):
        return [
            _("%(name)s's code %(code)s: %(percent)s%% off, applied in your basket.")
            % {
                "name": ambassador.name,
                "code": ambassador.code,
                "percent": floatformat(ambassador.discount_percent, "-2"),
            }
        ]
    return []


HELD_SALT = "popup.channels.checkout-link.held"
HELD_MAX_AGE = 24 * 3600  # the outcome of a press is shown for a day, then the link's page again


@dataclass(frozen=True)
class HeldShown:
    """A press's outcome, as the page after it shows it: the basket with what it holds, and each
    line that could not be held with why."""

    basket: PopUpBasket | None
    held: list[tuple[str, int]]  # product, units
    refused: list[tuple[str, int, str]]  # product, units asked, why


def _held_url(request, products: str, coupon: str, held) -> str:
    """The link's page showing the press's outcome (`held` a LinkHeld): a GET of its own, so a
    reload or a language switch shows it again and never holds twice."""
    query = request.GET.copy()
    query.setdefault("products", products)
    if coupon:
        query.setdefault("coupon", coupon)
    query["held"] = signing.dumps(
        {
            "basket": held.basket.token if held.basket is not None else "",
            "refused": [[offer.line.content_id, why] for offer, why in held.refused],
        },
        salt=HELD_SALT,
        compress=True,
    )
    return f"{request.path}?{query.urlencode()}"


def _held_read(value: str, offers) -> HeldShown | None:
    """The outcome `_held_url` signed, with the products of the link's `offers`; None when the
    value is not one (tampered, or older than HELD_MAX_AGE)."""
    try:
        outcome = signing.loads(value, salt=HELD_SALT, max_age=HELD_MAX_AGE)
        token, refused = str(outcome["basket"]), list(outcome["refused"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    by_id = {offer.line.content_id: offer for offer in offers if offer.terms is not None}
    basket = (
        PopUpBasket.objects.filter(token=token, status=PopUpBasket.Status.OPEN).first()
        if token
        else None
    )
    if basket is None and not refused:
        return None  # paid or lapsed since: the link's page as it is now
    held = []
    if basket is not None:
        holds = Hold.objects.filter(basket=basket).select_related("terms__product")
        held = [(hold.terms.product.get_title(), hold.quantity) for hold in holds.order_by("pk")]
    return HeldShown(
        basket=basket,
        held=held,
        refused=[
            (by_id[content_id].terms.product.get_title(), by_id[content_id].line.quantity, why)
            for content_id, why in refused
            if content_id in by_id
        ],
    )


@require_http_methods(["GET", "POST"])
@busy_page
def checkout_link_page(request) -> HttpResponse:
    """GET /popup/checkout-link/?products=popup7-12:2,popup7-13:1&coupon=…"""
    asked = request.POST if request.method == "POST" else request.GET
    link = checkout_link_parse(products=asked.get("products", ""), coupon=asked.get("coupon", ""))
    # The form posts to the link's own URL: its query still says where the shopper came from.
    arrival = checkout_link_arrival(link=link, query=request.GET, client_ip=client_ip(request))
    offers = checkout_link_offers(link=link, unlocked=arrival.coupon.unlocks)
    by_popup = defaultdict(list)
    for offer in offers:
        if offer.popup is not None:
            by_popup[offer.popup].append(offer)
    choices = [
        {
            "popup": popup,
            "offers": lines,
            "holdable": any(not offer.problem for offer in lines),
            "placement": link_placement(popup=popup, arrival=arrival),
        }
        for popup, lines in by_popup.items()
    ]
    context = {
        "link": link,
        "choices": choices,
        "elsewhere": [offer for offer in offers if offer.popup is None],
        "refused_lines": [line for line in link.lines if not line.quantity],
        "products": asked.get("products", "")[:MAX_PRODUCTS_CHARACTERS],
        "coupon": link.coupon,
        "coupon_notices": _coupon_notices(arrival, choices),
        # Straight on to the checkout only when there is nothing to choose nor to read first.
        "auto": (
            len(choices) == 1
            and choices[0]["holdable"]
            and not arrival.coupon.refused
            and request.method == "GET"
        ),
        "held": None,
        "error": "",
    }
    status = 200
    if request.method == "POST":
        chosen = next(
            (
                choice
                for choice in choices
                if str(choice["popup"].pk) == request.POST.get("popup") and choice["holdable"]
            ),
            None,
        )
        if chosen is None:
            status = 400
            context["error"] = _(
                "Nothing in this link can be held: choose one of the pop-ups below."
            )
        else:
            try:
                held = checkout_link_hold(
                    popup=chosen["popup"],
                    offers=chosen["offers"],
                    arrival=arrival,
                    client_ip=client_ip(request),
                    language=get_language(),
                )
            except Refusal as refusal:
                status, context["error"] = refusal.status, refusal.message
            else:
                if held.basket is not None and not held.refused:
                    return redirect("popup:checkout", token=held.basket.token)
                return _no_store(
                    HttpResponseRedirect(_held_url(request, context["products"], link.coupon, held))
                )
    elif "held" in request.GET:  # the page after a press: no arrival, and nothing goes on alone
        context["auto"] = False
        context["held"] = _held_read(request.GET["held"], offers)
    else:
        _arrivals_count(request, choices)
    return _no_store(render(request, "popup/checkout_link.html", context, status=status))


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    # The link's query names what the shopper chose: for this site's own requests only (with
    # "no-referrer" the form's POST would carry Origin: null, which CSRF protection refuses).
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response
