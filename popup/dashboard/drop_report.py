"""The drop report: what a pop-up sold, how fast, and what people wanted and could not get.

Every figure is an aggregate in SQL (five queries whatever the number of orders or products). The
funnel comes from the first-party counters (popup.services.stats, flushed every minute).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Max, Sum
from django.utils import timezone
from oscar.core.loading import get_model

from ..models import PopUp, PopUpDayStats, PopUpProduct

Order = get_model("order", "Order")
OrderLine = get_model("order", "Line")
ProductAlert = get_model("customer", "ProductAlert")


def _rate(part, whole) -> Decimal | None:
    return (Decimal(100) * part / whole).quantize(Decimal("0.1")) if whole else None


@dataclass(frozen=True)
class FunnelStep:
    label: str
    count: int
    rate: Decimal | None  # % of the step before


@dataclass(frozen=True)
class ProductSales:
    title: str
    offered: int | None
    sold: int
    revenue: Decimal
    waitlist: int

    @property
    def sell_through(self) -> Decimal | None:
        return _rate(self.sold, self.offered) if self.offered else None


@dataclass(frozen=True)
class DropReport:
    popup: PopUp
    funnel: list[FunnelStep]
    products: list[ProductSales]
    orders: int
    revenue: Decimal
    units_sold: int
    units_offered: int | None
    sold_out_at: datetime | None
    hours_selling: Decimal
    unmet_attempts: int
    waitlist: int
    currency: str

    @property
    def aov(self) -> Decimal | None:
        return (self.revenue / self.orders).quantize(Decimal("0.01")) if self.orders else None

    @property
    def sell_through(self) -> Decimal | None:
        return _rate(self.units_sold, self.units_offered) if self.units_offered else None

    @property
    def units_per_hour(self) -> Decimal | None:
        if not self.hours_selling:
            return None
        return (self.units_sold / self.hours_selling).quantize(Decimal("0.1"))

    @property
    def hours_to_sell_out(self) -> Decimal | None:
        return self.hours_selling if self.sold_out_at else None

    @property
    def lost_units(self) -> int | None:
        """Units it would have sold after selling out, at the rate it sold until then."""
        if not self.sold_out_at or not self.units_per_hour:
            return None
        end = min(timezone.now(), self.popup.closes_at)
        hours_left = Decimal(max((end - self.sold_out_at).total_seconds(), 0) / 3600)
        return int(self.units_per_hour * hours_left)


def drop_report(*, popup: PopUp, now: datetime | None = None) -> DropReport:
    """Everything the merchant needs to judge a drop, counted now."""
    now = now or timezone.now()
    counters = PopUpDayStats.objects.filter(popup=popup).aggregate(
        views=Sum("views"),
        embed_views=Sum("embed_views"),
        baskets=Sum("baskets"),
        checkouts=Sum("checkouts"),
        unmet=Sum("unmet"),
    )
    orders = Order.objects.filter(popup_basket__popup=popup)
    totals = orders.aggregate(
        count=Count("pk"),
        revenue=Sum("total_incl_tax"),
        last=Max("date_placed"),
        currency=Max("currency"),
    )
    lines = dict(
        (row["product_id"], row)
        for row in OrderLine.objects.filter(order__popup_basket__popup=popup)
        .values("product_id")
        .annotate(units=Sum("quantity"), revenue=Sum("line_price_incl_tax"))
    )
    terms = list(PopUpProduct.objects.filter(popup=popup).select_related("product"))
    waiting = dict(
        ProductAlert.objects.filter(
            product__in=[t.product_id for t in terms], date_created__gte=popup.created_at
        )
        .values("product_id")
        .annotate(n=Count("pk"))
        .values_list("product_id", "n")
    )
    products = [
        ProductSales(
            title=t.product.get_title(),
            offered=t.units_offered,
            sold=(lines.get(t.product_id) or {}).get("units") or 0,
            revenue=(lines.get(t.product_id) or {}).get("revenue") or Decimal("0.00"),
            waitlist=waiting.get(t.product_id, 0),
        )
        for t in terms
    ]
    capped = [t for t in terms if t.units_offered is not None]
    sold_out = bool(capped) and all(t.units_sold >= t.units_offered for t in capped)
    sold_out_at = totals["last"] if sold_out else None
    # Selling hours count from the opening (when shoppers could buy) to selling out, or until now.
    end = sold_out_at or min(now, popup.closes_at)
    hours = Decimal(max((end - popup.opens_at).total_seconds(), 0) / 3600).quantize(Decimal("0.01"))
    views = (counters["views"] or 0) + (counters["embed_views"] or 0)
    steps = [
        ("Views (page and embeds)", views),
        ("Baskets", counters["baskets"] or 0),
        ("Checkouts", counters["checkouts"] or 0),
        ("Paid orders", totals["count"]),
    ]
    funnel = [
        FunnelStep(label, count, _rate(count, steps[number - 1][1]) if number else None)
        for number, (label, count) in enumerate(steps)
    ]
    return DropReport(
        popup=popup,
        funnel=funnel,
        products=products,
        orders=totals["count"],
        revenue=totals["revenue"] or Decimal("0.00"),
        units_sold=sum(product.sold for product in products),
        units_offered=sum(t.units_offered for t in capped) if len(capped) == len(terms) else None,
        sold_out_at=sold_out_at,
        hours_selling=hours,
        unmet_attempts=counters["unmet"] or 0,
        waitlist=sum(waiting.values()),
        currency=totals["currency"] or settings.OSCAR_DEFAULT_CURRENCY,
    )
