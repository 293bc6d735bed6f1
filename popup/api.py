"""The JSON endpoints the pop-up's iframe calls. The basket token travels in a header, not a cookie:
third-party iframes lose cookies in Safari and in-app browsers, and a header cannot be forged by
another site's form, so these endpoints need no CSRF cookie either."""

import json

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from .models import Idea, Poll
from .selectors import BasketSummary, Storefront, basket_get, basket_summary, popup_get_visible
from .services.holds import HoldRefused, basket_create, hold_set
from .services.ideas import IdeaRefused, idea_post, idea_vote
from .services.polls import VoteRefused, poll_vote
from .services.questions import QuestionRefused, question_ask
from .services.stats import stat_count
from .services.waitlist import WaitlistRefused, waitlist_join

TOKEN_HEADER = "X-Popup-Basket"
WAITLIST_THANKS = "Almost there: confirm your address from the e-mail we just sent you."
QUESTION_THANKS = "Thank you! We will e-mail you the answer, and show it here."


class BadRequest(Exception):
    pass


def _json_body(request) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadRequest("The request body is not valid JSON.") from error
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return body


def _whole_number(body: dict, name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"“{name}” must be a whole number.")
    return value


def basket_payload(storefront: Storefront, summary: BasketSummary) -> dict:
    reserved_until = summary.reserved_until
    return {
        "token": summary.basket.token,
        "state": storefront.state.value,
        "currency": storefront.items[0].currency if storefront.items else None,
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
        "units_left": {str(item.product.pk): item.units_left for item in storefront.items},
    }


def _respond(request, basket, *, status=200, **extra) -> JsonResponse:
    storefront, summary = basket_summary(basket=basket, strategy=request.strategy)
    response = JsonResponse({**extra, "basket": basket_payload(storefront, summary)}, status=status)
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
@require_POST
def basket_new(request, slug: str) -> JsonResponse:
    """A new basket; the body may say where the shopper came from: {"source": "linktr.ee"}."""
    popup = popup_get_visible(slug=slug, user=request.user)
    try:
        source = _json_body(request).get("source") or ""
    except BadRequest:
        source = ""  # an old loader's empty POST: the basket matters more than the statistic
    basket = basket_create(popup=popup, source=source)
    stat_count(popup_id=popup.pk, event="baskets")
    return _respond(request, basket, status=201)


@require_GET
def basket_detail(request, slug: str) -> JsonResponse:
    popup = popup_get_visible(slug=slug, user=request.user)
    return _respond(request, basket_get(popup=popup, token=request.headers.get(TOKEN_HEADER, "")))


@csrf_exempt
@require_POST
def basket_line(request, slug: str) -> JsonResponse:
    """Set how many units of a product the basket holds: {"product": id, "quantity": n}."""
    popup = popup_get_visible(slug=slug, user=request.user)
    basket = basket_get(popup=popup, token=request.headers.get(TOKEN_HEADER, ""))
    try:
        body = _json_body(request)
        product_id, quantity = _whole_number(body, "product"), _whole_number(body, "quantity")
    except BadRequest as error:
        return JsonResponse({"error": str(error), "code": "bad_request"}, status=400)
    try:
        hold_set(basket=basket, product_id=product_id, quantity=quantity)
    except HoldRefused as refusal:
        if refusal.code == "not_enough":  # someone wanted more than there was: unmet demand
            stat_count(popup_id=popup.pk, event="unmet")
        return _respond(
            request,
            basket,
            status=409,
            error=refusal.message,
            code=refusal.code,
            available=refusal.available,
        )
    return _respond(request, basket)


@csrf_exempt
@require_POST
def waitlist_join_view(request, slug: str) -> JsonResponse:
    """Join a product's waitlist: {"product": id, "email": "...", "website": ""}.

    "website" is a field people never see: only bots fill it in. They get the same answer as
    everyone, and nothing is stored or sent.
    """
    popup = popup_get_visible(slug=slug, user=request.user)
    try:
        body = _json_body(request)
        product_id = _whole_number(body, "product")
    except BadRequest as error:
        return JsonResponse({"error": str(error), "code": "bad_request"}, status=400)
    if body.get("website"):
        return JsonResponse({"message": WAITLIST_THANKS}, status=202)
    email = body.get("email")
    if not isinstance(email, str):
        return JsonResponse(
            {"error": "Please enter your e-mail address.", "code": "email"}, status=400
        )
    try:
        waitlist_join(
            popup=popup,
            product_id=product_id,
            email=email,
            client_ip=request.META.get("REMOTE_ADDR", ""),
        )
    except WaitlistRefused as refusal:
        return JsonResponse({"error": refusal.message, "code": refusal.code}, status=refusal.status)
    return JsonResponse({"message": WAITLIST_THANKS}, status=202)


@csrf_exempt
@require_POST
def question_ask_view(request, slug: str) -> JsonResponse:
    """Ask the merchant: {"body": "...", "email": "...", "name": "", "product": id or null}.

    As for the waitlist, "website" is a trap only bots fill: they are thanked and nothing is kept.
    """
    popup = popup_get_visible(slug=slug, user=request.user)
    try:
        body = _json_body(request)
        product_id = _whole_number(body, "product") if body.get("product") is not None else None
    except BadRequest as error:
        return JsonResponse({"error": str(error), "code": "bad_request"}, status=400)
    if body.get("website"):
        return JsonResponse({"message": QUESTION_THANKS}, status=202)
    texts = {name: body.get(name) or "" for name in ("body", "email", "name")}
    if not all(isinstance(value, str) for value in texts.values()):
        return JsonResponse(
            {"error": "Please write your question as text.", "code": "bad_request"}, status=400
        )
    try:
        question_ask(
            popup=popup,
            product_id=product_id,
            client_ip=request.META.get("REMOTE_ADDR", ""),
            **texts,
        )
    except QuestionRefused as refusal:
        return JsonResponse({"error": refusal.message, "code": refusal.code}, status=refusal.status)
    return JsonResponse({"message": QUESTION_THANKS}, status=202)


def _texts(body: dict, names: tuple[str, ...]) -> dict[str, str]:
    texts = {name: body.get(name) or "" for name in names}
    if not all(isinstance(value, str) for value in texts.values()):
        raise BadRequest("Please write it as text.")
    return texts


def _idea_payload(idea: Idea) -> dict:
    return {"id": idea.pk, "title": idea.title, "votes": idea.votes, "status": idea.status}


@csrf_exempt
@require_POST
def idea_post_view(request, slug: str) -> JsonResponse:
    """Suggest an idea: {"title": "...", "body": "", "name": "", "email": "..."} (+ the bot trap)."""
    popup = popup_get_visible(slug=slug, user=request.user)
    try:
        body = _json_body(request)
        texts = _texts(body, ("title", "body", "name", "email"))
    except BadRequest as error:
        return JsonResponse({"error": str(error), "code": "bad_request"}, status=400)
    if body.get("website"):
        return JsonResponse({"message": "Thank you for your idea!"}, status=202)
    try:
        idea = idea_post(popup=popup, client_ip=request.META.get("REMOTE_ADDR", ""), **texts)
    except IdeaRefused as refusal:
        return JsonResponse({"error": refusal.message, "code": refusal.code}, status=refusal.status)
    message = (
        "Thank you for your idea!"
        if idea.status != Idea.Status.SPAM
        else "Thank you: your idea will appear once we have looked at it."
    )
    return JsonResponse({"message": message, "idea": _idea_payload(idea)}, status=201)


@csrf_exempt
@require_POST
def idea_vote_view(request, slug: str, idea_id: int) -> JsonResponse:
    """Vote for an idea: {"email": "..."}; one vote per address."""
    popup = popup_get_visible(slug=slug, user=request.user)
    idea = Idea.objects.filter(popup=popup, pk=idea_id, status__in=Idea.SHOWN).first()
    if idea is None:
        return JsonResponse({"error": "No such idea.", "code": "not_found"}, status=404)
    try:
        body = _json_body(request)
        texts = _texts(body, ("email",))
    except BadRequest as error:
        return JsonResponse({"error": str(error), "code": "bad_request"}, status=400)
    if body.get("website"):
        return JsonResponse({"idea": _idea_payload(idea), "counted": True})
    try:
        idea, counted = idea_vote(
            idea=idea, email=texts["email"], client_ip=request.META.get("REMOTE_ADDR", "")
        )
    except IdeaRefused as refusal:
        return JsonResponse({"error": refusal.message, "code": refusal.code}, status=refusal.status)
    return JsonResponse({"idea": _idea_payload(idea), "counted": counted})


POLL_THANKS = "Almost there: confirm your vote from the e-mail we just sent you."


@csrf_exempt
@require_POST
def poll_vote_view(request, slug: str, poll_id: int) -> JsonResponse:
    """Vote in a poll: {"option": id, "email": "..."}; it counts once the address is confirmed."""
    popup = popup_get_visible(slug=slug, user=request.user)
    poll = Poll.objects.filter(popup=popup, pk=poll_id).first()
    if poll is None:
        return JsonResponse({"error": "No such poll.", "code": "not_found"}, status=404)
    try:
        body = _json_body(request)
        option_id = _whole_number(body, "option")
        texts = _texts(body, ("email",))
    except BadRequest as error:
        return JsonResponse({"error": str(error), "code": "bad_request"}, status=400)
    if body.get("website"):
        return JsonResponse({"message": POLL_THANKS}, status=202)
    try:
        poll_vote(
            poll=poll,
            option_id=option_id,
            email=texts["email"],
            client_ip=request.META.get("REMOTE_ADDR", ""),
        )
    except VoteRefused as refusal:
        return JsonResponse({"error": refusal.message, "code": refusal.code}, status=refusal.status)
    return JsonResponse({"message": POLL_THANKS}, status=202)
