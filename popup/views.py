"""Public pages of a pop-up: the full page, the iframe version and the loader script."""

from functools import cache

from django.contrib.staticfiles import finders
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from .models import PopUp
from .selectors import (
    answer_speed,
    popup_get_visible,
    popup_ideas,
    popup_polls,
    popup_questions,
    popup_storefront,
    popup_verified_reviews,
)
from .services.polls import poll_vote_confirm
from .services.stats import stat_count

# Only our own scripts run on a pop-up page: no third-party code before checkout.
SCRIPT_POLICY = "script-src 'self'; object-src 'none'; base-uri 'self'"


def frame_ancestors(popup: PopUp) -> str:
    return " ".join(["frame-ancestors", "'self'", *popup.embed_origins])


def _render_storefront(request, popup: PopUp, *, template: str, embedded: bool) -> HttpResponse:
    storefront = popup_storefront(popup=popup, strategy=request.strategy)
    if popup.is_published:  # staff previewing a draft are not an audience
        stat_count(popup_id=popup.pk, event="embed_views" if embedded else "views")
    context = {
        "popup": popup,
        "storefront": storefront,
        "embedded": embedded,
        "questions": popup_questions(popup=popup),
        "answer_speed": answer_speed(),
        "ideas": popup_ideas(popup=popup),
        "polls": popup_polls(popup=popup),
        "reviews": popup_verified_reviews(popup=popup),
    }
    response = render(request, template, context)
    response["Cache-Control"] = "no-cache"  # units left must be current
    return response


@require_GET
@gzip_page
def popup_detail(request, slug: str) -> HttpResponse:
    popup = popup_get_visible(slug=slug, user=request.user)
    response = _render_storefront(request, popup, template="popup/detail.html", embedded=False)
    response["Content-Security-Policy"] = f"{SCRIPT_POLICY}; frame-ancestors 'none'"
    return response


@require_GET
@gzip_page
@xframe_options_exempt
def popup_embed(request, slug: str) -> HttpResponse:
    popup = popup_get_visible(slug=slug, user=request.user)
    response = _render_storefront(request, popup, template="popup/embed.html", embedded=True)
    # X-Frame-Options cannot list origins; CSP frame-ancestors can, and wins where both exist.
    response["Content-Security-Policy"] = f"{SCRIPT_POLICY}; {frame_ancestors(popup)}"
    return response


@cache
def _loader_source() -> bytes:
    with open(finders.find("popup/embed.js"), "rb") as source:
        return source.read()


@require_GET
@gzip_page
def embed_loader(request) -> HttpResponse:
    response = HttpResponse(_loader_source(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def poll_vote_confirm_view(request, token: str) -> HttpResponse:
    """The link in the voter's e-mail: the vote counts from now on; the results so far."""
    vote = poll_vote_confirm(token=token)
    if vote is None:
        raise Http404("No such vote.")
    poll = vote.poll
    context = {"vote": vote, "poll": poll, "popup": poll.popup, "options": poll.options.all()}
    response = render(request, "popup/poll_vote_confirmed.html", context)
    response["Referrer-Policy"] = "no-referrer"
    return response
