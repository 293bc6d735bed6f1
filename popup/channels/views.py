"""The checkout link's page (popup.channels.checkout_links): GET shows what the link asks for and
holds nothing (link scanners, prefetchers and Meta's checker open it too); the shopper's browser,
by the page's script or its button, POSTs to hold and goes on to the checkout."""

import re
from collections import defaultdict

from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from popup.analytics.stats import placement_count, stat_count
from popup.channels.checkout_links import (
    MAX_PRODUCTS_CHARACTERS,
    checkout_link_arrival,
    checkout_link_hold,
    checkout_link_offers,
    checkout_link_outcome,
    checkout_link_outcome_sign,
    checkout_link_parse,
    link_placement_get,
)
from popup.core.live import ambassador_notice
from popup.errors import Refusal
from popup.http.busy import busy_page
from popup.http.client_ip import client_ip

# Who opens a link without being a shopper: Meta's periodic checker and link previews among them.
# Their visits are not arrivals.
ROBOTS = re.compile(
    r"bot|crawl|spider|slurp|facebookexternalhit|facebookcatalog|meta-externalagent|preview",
    re.IGNORECASE,
)


def _arrivals_count(choices: list[dict]) -> None:
    """A shopper's arrival is a view of each pop-up offered and of the placement its basket would
    have, as an arrival on the pop-up's page is."""
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
    # The ambassador's discount, where their placement is the basket's (not switched off).
    ambassador = coupon.ambassador
    theirs = ambassador is not None and any(
        choice["placement"] is not None and choice["placement"].ambassador_id == ambassador.pk
        for choice in choices
    )
    notice = ambassador_notice(ambassador) if theirs else ""
    return [notice] if notice else []


def _outcome_url(request, products: str, coupon: str, held) -> str:
    """The link's page showing the press's outcome (`held`, a LinkHeld): a GET of its own."""
    query = request.GET.copy()
    query.setdefault("products", products)
    if coupon:
        query.setdefault("coupon", coupon)
    query["held"] = checkout_link_outcome_sign(held)
    return f"{request.path}?{query.urlencode()}"


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
    # A shopper's arrival (not a robot's, nor the page after a press) makes the placement its
    # basket would have, for the pop-ups it could be held in.
    outcome = request.GET.get("held") if request.method == "GET" else None
    arrival_page = (
        request.method == "GET"
        and outcome is None
        and not ROBOTS.search(request.headers.get("User-Agent", ""))
    )
    choices = []
    for popup, lines in by_popup.items():
        holdable = any(not offer.problem for offer in lines)
        placement = link_placement_get(
            popup=popup, arrival=arrival, create=arrival_page and holdable
        )
        choices.append(
            {"popup": popup, "offers": lines, "holdable": holdable, "placement": placement}
        )
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
            and outcome is None
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
                    placement=chosen["placement"]
                    or link_placement_get(popup=chosen["popup"], arrival=arrival),
                    client_ip=client_ip(request),
                    language=get_language(),
                )
            except Refusal as refusal:
                status, context["error"] = refusal.status, refusal.message
            else:
                if held.basket is not None and not held.refused:
                    return redirect("popup:checkout", token=held.basket.token)
                return _no_store(
                    HttpResponseRedirect(
                        _outcome_url(request, context["products"], link.coupon, held)
                    )
                )
    elif outcome is not None:
        context["held"] = checkout_link_outcome(signed=outcome, offers=offers)
    elif arrival_page:
        _arrivals_count(choices)
    return _no_store(render(request, "popup/checkout_link.html", context, status=status))


def _no_store(response: HttpResponse) -> HttpResponse:
    """The response kept by no cache, no referrer and no search engine."""
    response["Cache-Control"] = "no-store"
    # The link's query names what the shopper chose: for this site's own requests only (with
    # "no-referrer" the form's POST would carry Origin: null, which CSRF protection refuses).
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response
