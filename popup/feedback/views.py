"""The buyer's review page, reached from the link in the review invitation: one short form per
product of their order. The token in the URL is the credential (no account, no cookie needed)."""

from dataclasses import dataclass

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


@dataclass(frozen=True)
class ReviewForm:
    """One product's form on the review page: empty, or as the buyer sent it when it was refused
    (`error` said next to `field`, everything typed or chosen still in it)."""

    score: str = ""
    title: str = ""
    body: str = ""
    name: str = ""
    aspects: tuple[tuple[str, str, str], ...] = ()  # (aspect, label, stars chosen)
    field: str = ""
    error: str = ""


def _aspects(posted) -> tuple[tuple[str, str, str], ...]:
    return tuple(
        (
            aspect,
            VerifiedReview._meta.get_field(aspect).verbose_name.capitalize(),
            posted.get(f"aspect-{aspect}", ""),
        )
        for aspect in VerifiedReview.ASPECTS
    )


def _render(request, invite: ReviewInvite, *, refused: tuple[int, Refused, dict] | None = None):
    """The review page: per product of the order, its review or its form; `refused`: the product
    whose form was refused, why, and what was sent (a 400)."""
    reviewed = {vr.product_id: vr.review for vr in invite.reviews.select_related("review")}
    first_name = getattr(invite.order.shipping_address, "first_name", "")
    blank = ReviewForm(name=first_name, aspects=_aspects({}))
    forms = {}
    if refused is not None:
        product_id, refusal, posted = refused
        forms[product_id] = ReviewForm(
            score=posted.get("score", ""),
            title=posted.get("title", ""),
            body=posted.get("body", ""),
            name=posted.get("name", ""),
            aspects=_aspects(posted),
            field=refusal.details.get("field", ""),
            error=refusal.message,
        )
    lines = [
        (line, reviewed.get(line.product_id), forms.pop(line.product_id, blank))
        for line in invite.order.lines.select_related("product")
        if line.product_id
    ]
    context = {
        "invite": invite,
        "popup": invite.popup,
        "lines": lines,
        # A refusal about no product of the page (one not in the order) is said at its top.
        "error": next((form.error for form in forms.values()), ""),
    }
    status = 400 if refused is not None else 200
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
        return _render(request, invite, refused=(product_id, refusal, request.POST))
    return redirect(reverse("popup:review", kwargs={"token": token}))
