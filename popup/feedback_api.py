"""The pop-up's feedback endpoints: waitlists, questions, the idea box and polls. Like the basket
API they need no cookie (they run inside third-party iframes); each has a field people never see,
"website", that only bots fill in: bots are thanked and nothing is stored or sent."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .api import BadRequest, json_body, whole_number
from .client_ip import client_ip
from .models import Idea, Poll
from .selectors import popup_get_visible
from .services.ideas import IdeaRefused, idea_post, idea_vote
from .services.polls import VoteRefused, poll_vote
from .services.questions import QuestionRefused, question_ask
from .services.waitlist import WaitlistRefused, waitlist_join

WAITLIST_THANKS = "Almost there: confirm your address from the e-mail we just sent you."
QUESTION_THANKS = "Thank you! We will e-mail you the answer, and show it here."
POLL_THANKS = "Almost there: confirm your vote from the e-mail we just sent you."


def _texts(body: dict, names: tuple[str, ...]) -> dict[str, str]:
    texts = {name: body.get(name) or "" for name in names}
    if not all(isinstance(value, str) for value in texts.values()):
        raise BadRequest("Please write it as text.")
    return texts


@csrf_exempt
@require_POST
def waitlist_join_view(request, slug: str) -> JsonResponse:
    """Join a product's waitlist: {"product": id, "email": "...", "website": ""}.

    "website" is a field people never see: only bots fill it in. They get the same answer as
    everyone, and nothing is stored or sent.
    """
    popup = popup_get_visible(slug=slug, user=request.user)
    try:
        body = json_body(request)
        product_id = whole_number(body, "product")
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
            client_ip=client_ip(request),
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
        body = json_body(request)
        product_id = whole_number(body, "product") if body.get("product") is not None else None
    except BadRequest as error:
        return JsonResponse({"error": str(error), "code": "bad_request"}, status=400)
    if body.get("website"):
        return JsonResponse({"message": QUESTION_THANKS}, status=202)
    try:
        texts = _texts(body, ("body", "email", "name"))
    except BadRequest as error:
        return JsonResponse({"error": str(error), "code": "bad_request"}, status=400)
    try:
        question_ask(
            popup=popup,
            product_id=product_id,
            client_ip=client_ip(request),
            **texts,
        )
    except QuestionRefused as refusal:
        return JsonResponse({"error": refusal.message, "code": refusal.code}, status=refusal.status)
    return JsonResponse({"message": QUESTION_THANKS}, status=202)


def _idea_payload(idea: Idea) -> dict:
    return {"id": idea.pk, "title": idea.title, "votes": idea.votes, "status": idea.status}


@csrf_exempt
@require_POST
def idea_post_view(request, slug: str) -> JsonResponse:
    """Suggest an idea: {"title": "...", "body": "", "name": "", "email": "..."} (+ the bot trap)."""
    popup = popup_get_visible(slug=slug, user=request.user)
    try:
        body = json_body(request)
        texts = _texts(body, ("title", "body", "name", "email"))
    except BadRequest as error:
        return JsonResponse({"error": str(error), "code": "bad_request"}, status=400)
    if body.get("website"):
        return JsonResponse({"message": "Thank you for your idea!"}, status=202)
    try:
        idea = idea_post(popup=popup, client_ip=client_ip(request), **texts)
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
        body = json_body(request)
        texts = _texts(body, ("email",))
    except BadRequest as error:
        return JsonResponse({"error": str(error), "code": "bad_request"}, status=400)
    if body.get("website"):
        return JsonResponse({"idea": _idea_payload(idea), "counted": True})
    try:
        idea, counted = idea_vote(idea=idea, email=texts["email"], client_ip=client_ip(request))
    except IdeaRefused as refusal:
        return JsonResponse({"error": refusal.message, "code": refusal.code}, status=refusal.status)
    return JsonResponse({"idea": _idea_payload(idea), "counted": counted})


@csrf_exempt
@require_POST
def poll_vote_view(request, slug: str, poll_id: int) -> JsonResponse:
    """Vote in a poll: {"option": id, "email": "..."}; it counts once the address is confirmed."""
    popup = popup_get_visible(slug=slug, user=request.user)
    poll = Poll.objects.filter(popup=popup, pk=poll_id).first()
    if poll is None:
        return JsonResponse({"error": "No such poll.", "code": "not_found"}, status=404)
    try:
        body = json_body(request)
        option_id = whole_number(body, "option")
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
            client_ip=client_ip(request),
        )
    except VoteRefused as refusal:
        return JsonResponse({"error": refusal.message, "code": refusal.code}, status=refusal.status)
    return JsonResponse({"message": POLL_THANKS}, status=202)
