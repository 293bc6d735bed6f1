"""The pop-up's feedback endpoints: waitlists, questions, the idea box and polls. Like the basket
API they need no cookie (they run inside third-party iframes); each has a field people never see,
"website", that only bots fill in: bots are thanked and nothing is stored or sent."""

from django.http import JsonResponse
from django.utils.translation import gettext as _

from popup.core.selectors import popup_get_visible
from popup.errors import Refusal
from popup.feedback.ideas import idea_post, idea_vote
from popup.feedback.polls import poll_vote
from popup.feedback.questions import question_ask
from popup.feedback.waitlist import waitlist_join
from popup.http.client_ip import client_ip
from popup.http.json import json_body, json_view, texts, whole_number
from popup.models import Idea, Poll


def _waitlist_thanks() -> str:
    return _("Almost there: confirm your address from the e-mail we just sent you.")


def _question_thanks() -> str:
    return _("Thank you! We will e-mail you the answer, and show it here.")


def _poll_thanks() -> str:
    return _("Almost there: confirm your vote from the e-mail we just sent you.")


@json_view("POST")
def waitlist_join_view(request, slug: str) -> JsonResponse:
    """Join a product's waitlist: {"product": id, "email": "...", "website": ""}.

    "website" is a field people never see: only bots fill it in. They get the same answer as
    everyone, and nothing is stored or sent.
    """
    popup = popup_get_visible(slug=slug, user=request.user)
    body = json_body(request)
    product_id = whole_number(body, "product")
    if body.get("website"):
        return JsonResponse({"message": _waitlist_thanks()}, status=202)
    email = body.get("email")
    if not isinstance(email, str):
        raise Refusal(_("Please enter your e-mail address."), "email", status=400)
    waitlist_join(popup=popup, product_id=product_id, email=email, client_ip=client_ip(request))
    return JsonResponse({"message": _waitlist_thanks()}, status=202)


@json_view("POST")
def question_ask_view(request, slug: str) -> JsonResponse:
    """Ask the merchant: {"body": "...", "email": "...", "name": "", "product": id or null}.

    As for the waitlist, "website" is a trap only bots fill: they are thanked and nothing is kept.
    """
    popup = popup_get_visible(slug=slug, user=request.user)
    body = json_body(request)
    product_id = whole_number(body, "product") if body.get("product") is not None else None
    if body.get("website"):
        return JsonResponse({"message": _question_thanks()}, status=202)
    fields = texts(body, ("body", "email", "name"))
    question_ask(popup=popup, product_id=product_id, client_ip=client_ip(request), **fields)
    return JsonResponse({"message": _question_thanks()}, status=202)


def _idea_payload(idea: Idea) -> dict:
    return {"id": idea.pk, "title": idea.title, "votes": idea.votes, "status": idea.status}


@json_view("POST")
def idea_post_view(request, slug: str) -> JsonResponse:
    """Suggest an idea: {"title": "...", "body": "", "name": "", "email": "..."} (+ the bot trap)."""
    popup = popup_get_visible(slug=slug, user=request.user)
    body = json_body(request)
    fields = texts(body, ("title", "body", "name", "email"))
    if body.get("website"):
        return JsonResponse({"message": _("Thank you for your idea!")}, status=202)
    idea = idea_post(popup=popup, client_ip=client_ip(request), **fields)
    message = (
        _("Thank you for your idea!")
        if idea.status != Idea.Status.SPAM
        else _("Thank you: your idea will appear once we have looked at it.")
    )
    return JsonResponse({"message": message, "idea": _idea_payload(idea)}, status=201)


@json_view("POST")
def idea_vote_view(request, slug: str, idea_id: int) -> JsonResponse:
    """Vote for an idea: {"email": "..."}; one vote per address."""
    popup = popup_get_visible(slug=slug, user=request.user)
    idea = Idea.objects.filter(popup=popup, pk=idea_id, status__in=Idea.SHOWN).first()
    if idea is None:
        raise Refusal(_("No such idea."), "not_found", status=404)
    body = json_body(request)
    fields = texts(body, ("email",))
    if body.get("website"):
        return JsonResponse({"idea": _idea_payload(idea), "counted": True})
    idea, counted = idea_vote(idea=idea, email=fields["email"], client_ip=client_ip(request))
    return JsonResponse({"idea": _idea_payload(idea), "counted": counted})


@json_view("POST")
def poll_vote_view(request, slug: str, poll_id: int) -> JsonResponse:
    """Vote in a poll: {"option": id, "email": "..."}; it counts once the address is confirmed."""
    popup = popup_get_visible(slug=slug, user=request.user)
    poll = Poll.objects.filter(popup=popup, pk=poll_id).first()
    if poll is None:
        raise Refusal(_("No such poll."), "not_found", status=404)
    body = json_body(request)
    option_id = whole_number(body, "option")
    fields = texts(body, ("email",))
    if body.get("website"):
        return JsonResponse({"message": _poll_thanks()}, status=202)
    poll_vote(poll=poll, option_id=option_id, email=fields["email"], client_ip=client_ip(request))
    return JsonResponse({"message": _poll_thanks()}, status=202)
