"""The buyer's review page, reached from the link in the review invitation: one short form per
product of their order. The token in the URL is the credential (no account, no cookie needed)."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from popup.feedback.reviews import review_submit
from popup.feedback.shopper_input import Refused
from popup.http.busy import busy_page
from popup.http.headers import private_page
from popup.models import ReviewInvite, VerifiedReview


def _invite(token: str) -> ReviewInvite:
    invite = ReviewInvite.objects.select_related("order", "popup").filter(token=token).first()
    if invite is None:
        raise Http404("No such invitation.")
    return invite


def _render(request, invite: ReviewInvite, *, error: str = "", status: int = 200):
    reviewed = {vr.product_id: vr.review for vr in invite.reviews.select_related("review")}
    lines = [
        (line, reviewed.get(line.product_id))
        for line in invite.order.lines.select_related("product")
        if line.product_id
    ]
    aspects = [
        (aspect, VerifiedReview._meta.get_field(aspect).verbose_name.capitalize())
        for aspect in VerifiedReview.ASPECTS
    ]
    context = {
        "invite": invite,
        "popup": invite.popup,
        "lines": lines,
        "aspects": aspects,
        "error": error,
    }
    return private_page(render(request, "popup/review.html", context, status=status))


def _stars(value) -> int:
    """The stars chosen, 0 when none was, -1 when the value is not a number (refused later)."""
    if value in (None, ""):
        return 0
    try:
        return int(value)
    except ValueError:
        return -1


@require_GET
@busy_page
def review_page(request, token: str):
    return _render(request, _invite(token))


@csrf_exempt  # a plain form; the credential is the token in the URL
@require_POST
@busy_page
def review_submit_view(request, token: str, product_id: int):
    invite = _invite(token)
    score = _stars(request.POST.get("score"))
    aspects = {
        aspect: _stars(request.POST.get(f"aspect-{aspect}")) for aspect in VerifiedReview.ASPECTS
    }
    try:
        review_submit(
            invite=invite,
            product_id=product_id,
            score=score,
            title=request.POST.get("title", ""),
            body=request.POST.get("body", ""),
            name=request.POST.get("name", ""),
            aspects={aspect: stars for aspect, stars in aspects.items() if stars != 0},
        )
    except Refused as refusal:
        return _render(request, invite, error=refusal.message, status=400)
    return redirect(reverse("popup:review", kwargs={"token": token}))
