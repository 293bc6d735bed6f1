"""The pop-up's feedback endpoints: waitlists, questions, the idea box and polls. Like the basket
API they need no cookie (they run inside third-party iframes); each has a field people never see,
"website", that only bots fill in: bots are thanked and nothing is stored or sent.

The page is a shell shared by every shopper, so what is one shopper's own (their ideas waiting for
review, their vote waiting for its confirmation) is shown by the page's script from these answers:
each idea and vote sent comes back with a receipt the device keeps, to ask about it later (GET)."""

from django.http import JsonResponse
from django.utils.translation import gettext as _

from popup.core.selectors import popup_get_visible
from popup.errors import Refusal
from popup.feedback.ideas import IdeaSentBefore, idea_post, idea_vote
from popup.feedback.polls import poll_vote
from popup.feedback.questions import question_ask
from popup.feedback.receipts import receipt_for
from popup.feedback.selectors import ideas_by_receipts, poll_results, poll_vote_by_receipt
from popup.feedback.waitlist import waitlist_join
from popup.http.client_ip import client_ip
from popup.http.json import json_body, json_view, texts, whole_number
from popup.models import Idea, Poll, PollVote


def _waitlist_thanks() -> str:
    return _("Almost there: confirm your address from the e-mail we just sent you.")


def _question_thanks() -> str:
    return _("Thank you! We will e-mail you the answer, and show it here.")


def _poll_thanks(email: str) -> str:
    return _("Your vote counts after you confirm it: we sent a link to %(email)s.") % {
        "email": email.strip()
    }


def _private(response: JsonResponse) -> JsonResponse:
    response["Cache-Control"] = "private, no-store"  # one shopper's own, never kept on the way
    return response


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


def _idea_payload(idea: Idea, *, mine: bool = False) -> dict:
    """An idea as the page shows it; `mine`: for its author, with the receipt their device keeps."""
    payload = {
        "id": idea.pk,
        "title": idea.title,
        "votes": idea.votes,
        "status": idea.status,
        "status_label": idea.get_status_display(),
    }
    if mine:
        payload |= {"body": idea.body, "receipt": receipt_for(kind="idea", pk=idea.pk)}
    return payload


@json_view("GET", "POST")
def idea_post_view(request, slug: str) -> JsonResponse:
    """POST: suggest an idea: {"title": "...", "body": "", "name": "", "email": "...", "receipts":
    [...]} (+ the bot trap); 201 with the idea and its receipt; 409 "duplicate" when the address
    sent it before, with that idea only if its receipt is among "receipts" (those the device kept:
    an address proves nothing). GET ?mine=<receipt>&mine=...: those ideas as they stand now."""
    popup = popup_get_visible(slug=slug, user=request.user)
    if request.method == "GET":
        ideas = ideas_by_receipts(popup=popup, receipts=request.GET.getlist("mine"))
        return _private(JsonResponse({"ideas": [_idea_payload(i, mine=True) for i in ideas]}))
    body = json_body(request)
    fields = texts(body, ("title", "body", "name", "email"))
    if body.get("website"):
        return JsonResponse({"message": _("Thank you for your idea!")}, status=202)
    try:
        idea = idea_post(
            popup=popup, client_ip=client_ip(request), receipts=body.get("receipts"), **fields
        )
    except IdeaSentBefore as refusal:
        if refusal.idea is not None:  # the sender's own, by its receipt
            refusal.details["idea"] = _idea_payload(refusal.idea, mine=True)
        raise
    message = _("Thank you for your idea! It shows here, waiting for review.")
    return _private(
        JsonResponse({"message": message, "idea": _idea_payload(idea, mine=True)}, status=201)
    )


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


def _vote_payload(vote: PollVote) -> dict:
    return {
        "poll": vote.poll_id,
        "option": vote.option_id,
        "confirmed": vote.confirmed_at is not None,
        "receipt": receipt_for(kind="poll_vote", pk=vote.pk),
    }


def _results_payload(poll: Poll) -> dict:
    results = poll_results(poll=poll)
    return {
        "total": results.total,
        "options": [
            {"id": row.option.pk, "votes": row.votes, "percent": row.percent}
            for row in results.options
        ],
    }


@json_view("GET", "POST")
def poll_vote_view(request, slug: str, poll_id: int) -> JsonResponse:
    """POST: vote in a poll: {"option": id, "email": "..."}; it counts once the address is
    confirmed (202, with the vote's receipt). GET ?receipt=...: whether that vote counts yet, and
    the poll's confirmed results."""
    popup = popup_get_visible(slug=slug, user=request.user)
    poll = Poll.objects.filter(popup=popup, pk=poll_id).first()
    if poll is None:
        raise Refusal(_("No such poll."), "not_found", status=404)
    if request.method == "GET":
        vote = poll_vote_by_receipt(poll=poll, receipt=request.GET.get("receipt", ""))
        if vote is None:
            raise Refusal(_("No such vote."), "not_found", status=404)
        answer = {"vote": _vote_payload(vote), "results": _results_payload(poll)}
        return _private(JsonResponse(answer))
    body = json_body(request)
    option_id = whole_number(body, "option")
    fields = texts(body, ("email",))
    if body.get("website"):
        return JsonResponse({"message": _poll_thanks(fields["email"])}, status=202)
    vote = poll_vote(
        poll=poll, option_id=option_id, email=fields["email"], client_ip=client_ip(request)
    )
    answer = {"message": _poll_thanks(vote.email), "vote": _vote_payload(vote)}
    return _private(JsonResponse(answer, status=202))
