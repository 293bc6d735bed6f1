"""Public pages of a pop-up: the full page, the iframe version and the loader script."""

from datetime import datetime, timedelta
from functools import cache, partial

from django.contrib.staticfiles import finders
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from popup.analytics.stats import placement_count
from popup.channels.placements import Arrival, arrival_record
from popup.channels.selectors import ambassador_by_token, channel_figures
from popup.conf import popup_settings
from popup.core.languages import language_default
from popup.core.selectors import popup_get_visible, popup_storefront
from popup.core.shells import (
    Shell,
    shell_answer,
    shell_awaited,
    shell_get,
    shell_language,
    shell_store,
    shells_allowed,
    shells_generation,
)
from popup.feedback.polls import poll_vote_confirm
from popup.feedback.selectors import (
    answer_speed,
    popup_ideas,
    popup_polls,
    popup_questions,
    popup_verified_reviews,
)
from popup.http.busy import busy_page
from popup.http.client_ip import client_ip
from popup.models import Placement, PopUp

# Only our own scripts run on a pop-up page: no third-party code before checkout.
SCRIPT_POLICY = "script-src 'self'; object-src 'none'; base-uri 'self'"


def frame_ancestors(popup: PopUp) -> str:
    return " ".join(["frame-ancestors", "'self'", *popup.embed_origins])


def _state_change(popup: PopUp, now: datetime) -> datetime | None:
    """The pop-up's next change of state by the clock (opening, closing) within a shell's life."""
    until = now + timedelta(seconds=popup_settings.POPUP_PAGE_SHELL_SECONDS)
    return min(
        (moment for moment in (popup.opens_at, popup.closes_at) if now < moment < until),
        default=None,
    )


def _shell_valid_until(popup: PopUp, now: datetime) -> float:
    """When a shell rendered `now` must be rendered again: POPUP_PAGE_SHELL_SECONDS later, or at
    the pop-up's next change of state by the clock (opening, closing) if that comes first."""
    until = now + timedelta(seconds=popup_settings.POPUP_PAGE_SHELL_SECONDS)
    return (_state_change(popup, now) or until).timestamp()


def _render_storefront(
    request,
    popup: PopUp,
    *,
    template: str,
    embedded: bool,
    arrival: Arrival,
    shared: bool,
    now: datetime | None = None,
) -> HttpResponse:
    """The pop-up's page. `shared`: the shell for everyone, with no arrival, no event price and the
    state by the clock (units left, sold out and the shopper's own parts come from the live call).
    `now`: the moment the page is for (a shell rendered ahead of its pop-up's opening)."""
    storefront = popup_storefront(
        popup=popup, strategy=request.strategy, unlocked=arrival.unlocked, by_clock=shared, now=now
    )
    share_url = request.build_absolute_uri(popup.get_absolute_url())
    context = {
        "popup": popup,
        "storefront": storefront,
        "embedded": embedded,
        "arrival": arrival,
        "share_url": share_url,
        "share_text": f"{popup.title} {share_url}",
        "questions": popup_questions(popup=popup),
        "answer_speed": answer_speed(),
        "ideas": popup_ideas(popup=popup),
        "polls": popup_polls(popup=popup),
        "reviews": popup_verified_reviews(popup=popup),
    }
    return render(request, template, context)


def _shell_rendered(
    request,
    popup: PopUp,
    *,
    template: str,
    embedded: bool,
    policy,
    language: str,
    generation: int,
    now: datetime,
    ahead: bool = False,
) -> tuple[HttpResponse, Shell | None]:
    """The shared page as it is at `now`, kept as the shell of the request's path until its
    pop-up's next change of state, or POPUP_PAGE_SHELL_SECONDS; `ahead`: `now` is to come, and
    the shell is served from then on."""
    response = _render_storefront(
        request,
        popup,
        template=template,
        embedded=embedded,
        arrival=Arrival(),
        shared=True,
        now=now,
    )
    response["Content-Security-Policy"] = policy(popup)
    response["Content-Language"] = translation.get_language()
    seconds = popup_settings.POPUP_PAGE_SHELL_SECONDS
    response["Cache-Control"] = f"public, max-age=0, s-maxage={seconds}"
    shell = shell_store(
        request.path,
        language,
        response,
        generation=generation,
        valid_from=now.timestamp() if ahead else 0.0,
        valid_until=_shell_valid_until(popup, now),
    )
    return response, shell


def _locked(request, popup: PopUp, arrival: Arrival, embedded: bool) -> HttpResponse:
    context = {"popup": popup, "arrival": arrival, "embedded": embedded}
    response = render(
        request, "popup/locked.html", context, status=403 if arrival.code_refused else 200
    )
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def _shell_response(request, shell: Shell) -> HttpResponse:
    status, headers, body = shell_answer(
        shell,
        accept_encoding=request.headers.get("Accept-Encoding", ""),
        if_none_match=request.headers.get("If-None-Match", ""),
    )
    response = HttpResponse(body, status=status)
    for name, value in headers:
        response[name] = value
    response["X-Popup-Shell"] = "1"  # for PageShells: this answer is a shell
    return response


def _storefront_page(request, slug: str, *, template: str, embedded: bool, policy) -> HttpResponse:
    """A published pop-up's page is the shared shell (popup.core.shells), rendered when missing;
    a draft (staff only), an event-only pop-up (its products are for code holders) and a store
    whose prices depend on the request get a page of their own."""
    language = shell_language(request.META.get("QUERY_STRING", ""))
    sharing = shells_allowed()
    if sharing and (shell := shell_get(request.path, language)) is not None:
        return _shell_response(request, shell)
    popup = PopUp.objects.select_related("range").filter(slug=slug).first()
    translation.activate(language or language_default(popup))
    if sharing and popup is not None and popup.is_published and not popup.event_only:
        if (shell := shell_awaited(request.path, language)) is not None:
            return _shell_response(request, shell)
        generation = shells_generation(fresh=True)  # before rendering: a change outdates it
        shell_for = partial(
            _shell_rendered,
            request,
            popup,
            template=template,
            embedded=embedded,
            policy=policy,
            language=language,
            generation=generation,
        )
        now = timezone.now()
        response, shell = shell_for(now=now)
        if shell is not None and (change := _state_change(popup, now)) is not None:
            # The pop-up opens (or closes) before this shell expires: the page it will have then
            # is rendered now, so the crowd arriving at that second finds it ready.
            shell_for(now=change, ahead=True)
        return _shell_response(request, shell) if shell is not None else response

    popup = popup_get_visible(slug=slug, user=request.user, event_only_too=True)
    translation.activate(language or language_default(popup))
    audience = popup.is_published  # staff previewing a draft are not an audience
    arrival = arrival_record(
        popup=popup, query=request.GET, client_ip=client_ip(request), count=False
    )
    if popup.event_only and not (arrival.unlocked or request.user.is_staff):
        if audience and arrival.placement is not None:  # no live call counts it on this page
            placement_count(placement_id=arrival.placement.pk, event="views")
        return _locked(request, popup, arrival, embedded)
    response = _render_storefront(
        request, popup, template=template, embedded=embedded, arrival=arrival, shared=False
    )
    response["Content-Security-Policy"] = policy(popup)
    response["Cache-Control"] = "no-cache"
    return response


def _page_policy(popup: PopUp) -> str:
    return f"{SCRIPT_POLICY}; frame-ancestors 'none'"


def _embed_policy(popup: PopUp) -> str:
    # X-Frame-Options cannot list origins; CSP frame-ancestors can, and wins where both exist.
    return f"{SCRIPT_POLICY}; {frame_ancestors(popup)}"


@require_GET
@gzip_page
@busy_page
def popup_detail(request, slug: str) -> HttpResponse:
    return _storefront_page(
        request, slug, template="popup/detail.html", embedded=False, policy=_page_policy
    )


@require_GET
@gzip_page
@xframe_options_exempt
@busy_page
def popup_embed(request, slug: str) -> HttpResponse:
    return _storefront_page(
        request, slug, template="popup/embed.html", embedded=True, policy=_embed_policy
    )


@require_GET
@busy_page
def short_link(request, code: str, embed: bool = False) -> HttpResponse:
    """A placement's short link: counts the click and opens the pop-up with the placement on it.

    The landing URL's own query (utm_* values) is carried over. A placement switched off still
    opens its pop-up, unattributed, so a printed poster never leads nowhere.
    """
    placement = get_object_or_404(Placement.objects.select_related("popup"), code=code)
    popup = placement.popup
    if not popup.is_published:
        raise Http404("No such pop-up.")
    query = request.GET.copy()
    query.pop("pl", None)
    if placement.is_active:
        if not embed:  # an embedded frame loading is a view, counted by the page itself
            placement_count(placement_id=placement.pk, event="clicks")
        query["pl"] = placement.code
    target = popup.get_embed_url() if embed else popup.get_absolute_url()
    response = redirect(f"{target}?{query.urlencode()}" if query else target)
    response["Cache-Control"] = "no-store"  # every click counts
    response["Referrer-Policy"] = "no-referrer-when-downgrade"
    return response


def placement_snippets(request, placement: Placement) -> dict[str, str]:
    """The placement's short link and its two embed snippets, as a merchant pastes them."""
    short_link = request.build_absolute_uri(placement.get_absolute_url())
    loader_url = request.build_absolute_uri(reverse("popup:embed-loader"))
    return {
        "short_link": short_link,
        "script": format_html(
            '<script src="{}" data-popup="{}" data-placement="{}" async></script>',
            loader_url,
            placement.popup.slug,
            placement.code,
        ),
        "link": format_html(
            '<a data-popup-link href="{}">{}</a>', short_link, placement.popup.title
        ),
    }


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
@busy_page
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


@require_GET
@busy_page
def ambassador_page(request, token: str) -> HttpResponse:
    """An ambassador's private page: their links, code, embed snippets and figures. No account:
    the unguessable token in the link is the key; a wrong one is a 404."""
    ambassador = ambassador_by_token(token=token)
    placements = list(
        ambassador.placements.select_related("popup").filter(popup__is_published=True)
    )
    figures = channel_figures(by="placement", ids=[placement.pk for placement in placements])
    rows = [
        {"placement": placement, "figures": figures[placement.pk]}
        | placement_snippets(request, placement)
        for placement in placements
    ]
    totals = channel_figures(by="ambassador", ids=[ambassador.pk])[ambassador.pk]
    context = {"ambassador": ambassador, "rows": rows, "totals": totals}
    response = render(request, "popup/ambassador.html", context)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    response["Content-Security-Policy"] = f"{SCRIPT_POLICY}; frame-ancestors 'none'"
    return response
