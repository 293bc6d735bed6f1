"""Where sales came from: each placement's or ambassador's figures, and an ambassador's page."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.http import Http404
from oscar.core.loading import get_model

from popup.models import (
    Ambassador,
    Commission,
    Placement,
    PopUpBasket,
)

OrderLine = get_model("order", "Line")


@dataclass(frozen=True)
class ChannelFigures:
    """What came through a placement (or all of an ambassador's): first-party, from our own rows."""

    clicks: int = 0
    views: int = 0
    baskets: int = 0
    checkouts: int = 0
    orders: int = 0
    units: int = 0
    revenue: Decimal = Decimal("0.00")
    commission: Decimal = Decimal("0.00")
    commission_due: Decimal = Decimal("0.00")

    @property
    def commission_paid(self) -> Decimal:
        return self.commission - self.commission_due


def channel_figures(*, by: str, ids) -> dict[int, ChannelFigures]:
    """Figures per placement (`by="placement"`) or per ambassador (`by="ambassador"`), in 4 queries.

    Baskets, checkouts and orders are counted from the baskets themselves (a checkout is a basket
    with `checkout_at`, an order a basket with its order), so nothing is ever counted twice.
    """
    if by not in ("placement", "ambassador"):
        raise ValueError(f"Unknown grouping {by!r}")
    ids = list(ids)
    if not ids:
        return {}
    # The path from a placement, a basket and a commission to what is grouped by.
    own, key = ("pk", "placement") if by == "placement" else ("ambassador", "placement__ambassador")
    rows: dict[int, dict] = {pk: {} for pk in ids}
    placements = Placement.objects.filter(**{f"{own}__in": ids}).order_by().values(own)
    for row in placements.annotate(clicks_sum=Sum("clicks"), views_sum=Sum("views")):
        rows[row[own]].update(clicks=row["clicks_sum"] or 0, views=row["views_sum"] or 0)
    baskets = PopUpBasket.objects.filter(**{f"{key}__in": ids}).order_by().values(key)
    for row in baskets.annotate(
        basket_count=Count("pk"),
        checkout_count=Count("pk", filter=Q(checkout_at__isnull=False)),
        order_count=Count("order"),
        revenue_sum=Sum("order__total_incl_tax"),
    ):
        rows[row[key]].update(
            baskets=row["basket_count"],
            checkouts=row["checkout_count"],
            orders=row["order_count"],
            revenue=row["revenue_sum"] or Decimal("0.00"),
        )
    line_key = f"order__popup_basket__{key}"
    lines = OrderLine.objects.filter(**{f"{line_key}__in": ids}).order_by().values(line_key)
    for row in lines.annotate(unit_sum=Sum("quantity")):
        rows[row[line_key]]["units"] = row["unit_sum"] or 0
    commissions = Commission.objects.filter(**{f"{by}__in": ids}).order_by().values(by)
    earned = F("amount") - F("refunded")
    for row in commissions.annotate(
        total=Sum(earned), due=Sum(earned, filter=Q(paid_at__isnull=True))
    ):
        rows[row[by]].update(
            commission=row["total"] or Decimal("0.00"), commission_due=row["due"] or Decimal("0.00")
        )
    return {pk: ChannelFigures(**values) for pk, values in rows.items()}


def ambassador_by_token(*, token: str) -> Ambassador:
    """The active ambassador with this private-page token; 404 for anything else."""
    if not token or len(token) > 64:
        raise Http404("No such page.")
    ambassador = Ambassador.objects.filter(token=token, is_active=True).first()
    if ambassador is None:
        raise Http404("No such page.")
    return ambassador
