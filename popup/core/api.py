"""The JSON endpoints the pop-up's iframe calls. The basket token travels in a header, not a cookie:
third-party iframes lose cookies in Safari and in-app browsers, and a header cannot be forged by
another site's form, so these endpoints need no CSRF cookie either."""

import hashlib

from django.http import Http404, HttpResponseNotModified, JsonResponse
from django.utils import translation
from django.utils.http import parse_etags

from popup.analytics.stats import stat_count
from popup.channels.placements import arrival_record, basket_attribute, unlock_try
from popup.conf import popup_settings
from popup.core.holds import (
    HoldRefused,
    basket_contested,
    basket_create,
    hold_extend_in,
    hold_set,
    hold_set_in,
)
from popup.core.languages import language_asked, language_default, language_of
from popup.core.live import LIVE_SECONDS, arrival_figures, popup_figures
from popup.core.selectors import (
    BasketSummary,
    basket_get,
    basket_in,
    basket_summary,
    popup_get_visible,
)
from popup.core.shells import (
    PageShells,
    shell_language,
    shell_store,
    shells_allowed,
    shells_generation,
)
from popup.http.client_ip import client_ip, shopper_ip
from popup.http.json import json_body, json_body_or_empty, json_view, whole_number
from popup.models import PopUp, PopUpBasket

TOKEN_HEADER = "X-Popup-Basket"


def basket_payload(
    summary: BasketSummary,
    *,
    state: PopUp.State,
    units_left: dict[int, int | None],
    contested: bool | None = None,
) -> dict:
    """The basket as the page's script reads it; `units_left` of the products it knows, and whether
    others wait for its units (`contested`, None when the answer does not know: see
    basket_contested), which says if "I need more time" may be offered."""
    reserved_until = summary.reserved_until
    return {
        "token": summary.basket.token,
        "state": state.value,
        "currency": summary.lines[0].item.currency if summary.lines else None,
        "units": summary.units,
        "total": str(summary.total),
        "reserved_until": reserved_until.isoformat() if reserved_until else None,
        "seconds_left": (
            max(0, int((reserved_until - summary.now).total_seconds())) if reserved_until else 0
        ),
        "lines": [
            {
                "product": line.item.product.pk,
                "title": line.item.title,
                "quantity": line.quantity,
                "unit_price": str(line.item.price),
                "total": str(line.total),
                "active": line.is_active,
            }
            for line in summary.lines
        ],
        "units_left": {str(product): left for product, left in units_left.items()},
        "contested": contested,
        "extensions_left": max(
            0, popup_settings.POPUP_HOLD_EXTENSIONS - summary.basket.hold_extensions
        ),
    }


def _summary_payload(request, basket) -> dict:
    """The basket's payload with the units left of each of its products."""
    storefront, summary = basket_summary(basket=basket, strategy=request.strategy)
    units_left = {item.product.pk: item.units_left for item in storefront.items}
    return basket_payload(
        summary,
        state=storefront.state,
        units_left=units_left,
        contested=basket_contested(summary=summary),
    )


def _respond(request, basket, *, status=200, **extra) -> JsonResponse:
    return _no_store(
        JsonResponse({**extra, "basket": _summary_payload(request, basket)}, status=status)
    )


def _no_store(response: JsonResponse) -> JsonResponse:
    response["Cache-Control"] = "no-store"
    return response


def _basket_of(request, slug: str):
    """The shopper's open basket in the pop-up; in an event-only pop-up, only an unlocked one."""
    basket = basket_in(slug=slug, token=request.headers.get(TOKEN_HEADER, ""), user=request.user)
    return basket.popup, basket


def _text(body: dict, name: str) -> str:
    value = body.get(name)
    return value if isinstance(value, str) else ""


def _unlocked(request, popup, body: dict) -> bool:
    """Whether the body carries the pop-up's unlock code (wrong ones count against the address)."""
    code = _text(body, "unlock")[:40]
    return bool(code) and unlock_try(popup=popup, code=code, client_ip=client_ip(request))


def _attribute(basket, body: dict, *, unlocked: bool) -> None:
    basket_attribute(
        basket=basket,
        placement_code=_text(body, "placement"),
        utm=body.get("utm"),
        unlocked=unlocked,
    )


def _basket_new(request, popup, body: dict) -> PopUpBasket:
    """A new basket; the body may say where the shopper came from:
    {"source": "linktr.ee", "placement": "ab3k9x2m", "utm": {"source": "...", ...}, "unlock": "...",
    "back": "<the embedding page's address>"}.
    In an event-only pop-up, a basket is only made with the right unlock code.
    """
    unlocked = _unlocked(request, popup, body)
    if popup.event_only and not (unlocked or request.user.is_staff):
        raise Http404("No such pop-up.")
    basket = basket_create(
        popup=popup,
        source=_text(body, "source"),
        address=shopper_ip(request),
        return_url=_text(body, "back"),
        language=language_of(request, popup=popup),
    )
    basket.popup = popup
    _attribute(basket, body, unlocked=unlocked)
    stat_count(popup_id=popup.pk, event="baskets")
    return basket


@json_view("POST")
def basket_new(request, slug: str) -> JsonResponse:
    """A new basket (see _basket_new for the body)."""
    # An old loader's empty POST still gets its basket: the basket matters more than the statistic.
    body = json_body_or_empty(request)
    popup = popup_get_visible(slug=slug, user=request.user, event_only_too=True)
    return _respond(request, _basket_new(request, popup, body), status=201)


@json_view("POST")
def basket_attribution(request, slug: str) -> JsonResponse:
    """The shopper came back by another placement, campaign or code: {"placement", "utm", "unlock"}.

    The basket's attribution follows the last arrival until its checkout starts.
    """
    popup = popup_get_visible(slug=slug, user=request.user, event_only_too=True)
    basket = basket_get(popup=popup, token=request.headers.get(TOKEN_HEADER, ""))
    body = json_body(request)
    _attribute(basket, body, unlocked=_unlocked(request, popup, body))
    if popup.event_only and not (basket.unlocked or request.user.is_staff):
        raise Http404("No such pop-up.")
    return _respond(request, basket)


@json_view("GET")
def basket_detail(request, slug: str) -> JsonResponse:
    _popup, basket = _basket_of(request, slug)
    return _respond(request, basket)


@json_view("POST")
def basket_line(request, slug: str) -> JsonResponse:
    """Set how many units of a product the basket holds: {"product": id, "quantity": n}.

    Without a basket token, the first Add: a new basket is made (the body may carry what
    basket/new/ takes) and answered with its token, 201, whether or not the units could be held.
    A hold answers with the basket as it left it and that product's units left (the others' are
    unchanged for all it knows); a refusal, with the whole basket and its products' units left.
    """
    body = json_body(request)
    product_id, quantity = whole_number(body, "product"), whole_number(body, "quantity")
    line = {"product_id": product_id, "quantity": quantity, "strategy": request.strategy}
    token = request.headers.get(TOKEN_HEADER, "")
    try:
        if token:  # the basket read and locked in one statement
            change = hold_set_in(slug=slug, token=token, user=request.user, **line)
        else:
            popup = popup_get_visible(slug=slug, user=request.user, event_only_too=True)
            basket = _basket_new(request, popup, body)
            change = hold_set(basket=basket, **line)
    except HoldRefused as refusal:
        if token:
            popup, basket = _basket_of(request, slug)
        if refusal.code == "not_enough":  # someone wanted more than there was: unmet demand
            stat_count(popup_id=popup.pk, event="unmet")
        return _respond(
            request,
            basket,
            status=refusal.status,  # 409; 429 for the per-address cap
            error=refusal.message,
            code=refusal.code,
            available=refusal.available,
        )
    # What changed, as hold_set knows it: no second read of the basket or the pop-up.
    payload = basket_payload(change.summary, state=change.state, units_left=change.units_left)
    return _no_store(JsonResponse({"basket": payload}, status=200 if token else 201))


@json_view("POST")
def basket_more_time(request, slug: str) -> JsonResponse:
    """The shopper needs more time: the basket's hold starts again (see hold_extend_in); a refusal (409)
    says why in the shopper's words, with the basket as it stands."""
    token = request.headers.get(TOKEN_HEADER, "")
    try:
        change = hold_extend_in(
            slug=slug, token=token, user=request.user, strategy=request.strategy
        )
    except HoldRefused as refusal:
        _popup, basket = _basket_of(request, slug)
        return _respond(
            request, basket, status=refusal.status, error=refusal.message, code=refusal.code
        )
    payload = basket_payload(
        change.summary, state=change.state, units_left=change.units_left, contested=False
    )
    return _no_store(JsonResponse({"basket": payload}))


def _etagged(request, payload: dict) -> JsonResponse:
    """The payload with an ETag; 304 when the caller has it already."""
    response = JsonResponse(payload)
    etag = '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        response = HttpResponseNotModified()
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=1"  # the figures are a second old at most
    response["Vary"] = TOKEN_HEADER  # a cache must not answer one basket's call with another's
    return response


@json_view("GET")
def popup_live(request, slug: str) -> JsonResponse:
    """The pop-up's live figures (popup.core.live), for its page, its embed and its shoppers.

    The page's script calls it with the page's own query (?pl=, ?code=, utm_*) and, once per page
    load, ?view=page or ?view=embed, which counts the view (placement views too) as the page did.
    With an X-Popup-Basket token, "basket" is that basket (null when it is no longer open).
    """
    popup = popup_get_visible(slug=slug, user=request.user, event_only_too=True)
    # As its page: the language asked for, else the pop-up's (the answer is shared under it).
    translation.activate(language_asked(request) or language_default(popup))
    view = request.GET.get("view")
    audience = popup.is_published and view in ("page", "embed")
    arrival = arrival_record(
        popup=popup, query=request.GET, client_ip=client_ip(request), count=audience
    )
    token = request.headers.get(TOKEN_HEADER, "")
    basket = (
        PopUpBasket.objects.select_related("placement__ambassador")
        .filter(popup=popup, token=token, status=PopUpBasket.Status.OPEN)
        .first()
        if token
        else None
    )
    unlocked = arrival.unlocked or (basket is not None and basket.unlocked)
    if popup.event_only and not (unlocked or request.user.is_staff):
        raise Http404("No such pop-up.")
    if audience:
        stat_count(popup_id=popup.pk, event="embed_views" if view == "embed" else "views")
    generation = shells_generation()
    figures, computed_at = popup_figures(popup=popup, strategy=request.strategy)
    placement = arrival.placement
    share_path = placement.get_absolute_url() if placement else popup.get_absolute_url()
    payload = {
        **figures,
        "arrival": arrival_figures(
            popup=popup,
            arrival=arrival,
            share_url=request.build_absolute_uri(share_path),
            figures=figures,
            strategy=request.strategy,
        ),
        "basket": None,
    }
    if basket is not None:
        basket.popup = popup
        payload["basket"] = _summary_payload(request, basket)
    response = _etagged(request, payload)
    if (
        response.status_code == 200
        and PageShells.shared(request.path, request.META.get("QUERY_STRING", ""), request.META)
        and popup.is_published
        and not popup.event_only
        and shells_allowed()
    ):  # the same for every such caller: PageShells serves it for a second, counting the views
        shell_store(
            request.path,
            shell_language(request.META.get("QUERY_STRING", "")),
            response,
            generation=generation,
            valid_until=computed_at + LIVE_SECONDS,  # figures a second old at most
            views_of=popup.pk,
        )
        response["X-Popup-Shell"] = "1"
    return response
