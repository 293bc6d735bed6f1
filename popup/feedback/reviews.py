"""Verified reviews: some days after a pop-up order, the buyer is e-mailed a link to review what they
bought. Reviews are Oscar's own (ProductReview, its moderation setting and dashboard, the product's
rating); the link only proves the reviewer bought the product.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from popup.conf import popup_settings
from popup.feedback.shopper_input import Refused, looks_like_spam
from popup.models import ReviewInvite, VerifiedReview

Order = get_model("order", "Order")
ProductReview = get_model("reviews", "ProductReview")

# Orders older than the delay by more than this are never invited (e.g. when the feature is
# switched on in a store with years of orders).
CATCH_UP = timedelta(days=30)
MAX_TITLE = 255
MAX_BODY = 5000
MAX_NAME = 60


def review_invites_due(*, now: datetime | None = None) -> list[int]:
    """Create the invitations of pop-up orders placed POPUP_REVIEW_REQUEST_DAYS ago; their ids."""
    now = now or timezone.now()
    placed_before = now - timedelta(days=popup_settings.POPUP_REVIEW_REQUEST_DAYS)
    orders = (
        Order.objects.filter(
            date_placed__lte=placed_before,
            date_placed__gt=placed_before - CATCH_UP,
            review_invite__isnull=True,
        )
        .filter(Q(popup_basket__isnull=False) | Q(pledge__isnull=False))
        .exclude(guest_email="")
        .select_related("popup_basket", "pledge")
    )
    created = []
    for order in orders:
        source = getattr(order, "pledge", None) or order.popup_basket
        try:
            with transaction.atomic():
                invite = ReviewInvite.objects.create(order=order, popup_id=source.popup_id)
        except IntegrityError:
            continue  # another run invited it
        created.append(invite.pk)
    return created


def review_submit(
    *,
    invite: ReviewInvite,
    product_id: int,
    score: int,
    title: str,
    body: str,
    name: str,
    aspects: Mapping[str, int | None] | None = None,
) -> ProductReview:
    """Record the buyer's review of one product of their order, once per product. Raises Refused
    naming the `field` to correct.

    `aspects` rates quality, value and "as described" from 1 to 5, each optional. A review that looks
    like spam waits for moderation in Oscar's reviews dashboard, whatever OSCAR_MODERATE_REVIEWS says.
    """
    title, body, name = (title or "").strip(), (body or "").strip(), (name or "").strip()
    aspects = {aspect: value for aspect, value in (aspects or {}).items() if value is not None}
    if not invite.order.lines.filter(product_id=product_id).exists():
        raise Refused(_("This product is not in your order."), code="product")
    if score not in range(1, 6):
        raise Refused(_("Choose a rating from 1 to 5 stars."), code="score", field="score")
    wrong = [
        aspect
        for aspect, value in aspects.items()
        if aspect not in VerifiedReview.ASPECTS or value not in range(1, 6)
    ]
    if wrong:
        raise Refused(
            _("Rate each aspect from 1 to 5 stars, or leave it out."),
            code="aspect",
            field=f"aspect-{wrong[0]}",
        )
    if not title or not body:
        raise Refused(
            _("Please give your review a title and a few words."),
            code="text",
            field="body" if title else "title",
        )
    limits = (("title", title, MAX_TITLE), ("body", body, MAX_BODY), ("name", name, MAX_NAME))
    too_long = [(field, limit) for field, text, limit in limits if len(text) > limit]
    if too_long:
        field, limit = too_long[0]
        raise Refused(
            _("Please shorten your review: up to %(n)d characters here.") % {"n": limit},
            code="length",
            field=field,
        )
    text = f"{title} {body}"
    try:
        with transaction.atomic():
            review = ProductReview.objects.create(
                product_id=product_id,
                score=score,
                title=title,
                body=body,
                name=name or _("A buyer"),
                email=invite.order.guest_email,
                **({"status": ProductReview.FOR_MODERATION} if looks_like_spam(text) else {}),
            )
            VerifiedReview.objects.create(
                invite=invite, product_id=product_id, review=review, **aspects
            )
    except IntegrityError as error:
        raise Refused(_("You have already reviewed this product."), code="done") from error
    return review
