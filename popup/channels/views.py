"""The checkout link's page (popup.channels.checkout_links): GET shows what the link asks for and
holds nothing (link scanners, prefetchers and Meta's checker open it too); the shopper's browser,
by the page's script or its button, POSTs to hold and goes on to the checkout."""

from collections import defaultdict

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from popup.channels.checkout_links import (
    MAX_PRODUCTS_CHARACTERS,
    checkout_link_hold,
    checkout_link_offers,
    checkout_link_parse,
)
from popup.errors import Refusal
from popup.http.busy import busy_page
from popup.http.client_ip import client_ip


@require_http_methods(["GET", "POST"])
@busy_page
def checkout_link_page(request) -> HttpResponse:
    """GET /popup/checkout-link/?products=popup7-12:2,popup7-13:1&coupon=…"""
    asked = request.POST if request.method == "POST" else request.GET
    link = checkout_link_parse(products=asked.get("products", ""), coupon=asked.get("coupon", ""))
    offers = checkout_link_offers(link=link)
    by_popup = defaultdict(list)
    for offer in offers:
        if offer.popup is not None:
            by_popup[offer.popup].append(offer)
    choices = [
        {"popup": popup, "offers": lines, "holdable": any(not offer.problem for offer in lines)}
        for popup, lines in by_popup.items()
    ]
    context = {
        "link": link,
        "choices": choices,
        "elsewhere": [offer for offer in offers if offer.popup is None],
        "refused_lines": [line for line in link.lines if not line.quantity],
        "products": asked.get("products", "")[:MAX_PRODUCTS_CHARACTERS],
        "coupon": link.coupon,
        "auto": len(choices) == 1 and choices[0]["holdable"] and request.method == "GET",
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
                    client_ip=client_ip(request),
                    language=get_language(),
                )
            except Refusal as refusal:
                status, context["error"] = refusal.status, refusal.message
            else:
                if held.basket is not None and not held.refused:
                    return redirect("popup:checkout", token=held.basket.token)
                context["held"] = held
    response = render(request, "popup/checkout_link.html", context, status=status)
    response["Cache-Control"] = "no-store"
    # The link's query names what the shopper chose: for this site's own requests only (with
    # "no-referrer" the form's POST would carry Origin: null, which CSRF protection refuses).
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response
