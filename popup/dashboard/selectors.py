"""Reads for the dashboard: pop-ups with the state and units left a shopper would see now, and the
evidence of a pre-sale: pledged against collected, per product, per source, day by day."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from oscar.core.loading import get_model
from oscar.templatetags.currency_filters import currency

from popup.conf import popup_settings
from popup.core.selectors import popup_storefront
from popup.models import Pledge, PledgeEvent, PledgeLine, PopUp, PopUpProduct
from popup.presales.selectors import PresaleProgress, presale_outcome_now, presale_progress

Product = get_model("catalogue", "Product")
Order = get_model("order", "Order")
OrderLine = get_model("order", "Line")
PaymentSource = get_model("payment", "Source")

# States that the schedule alone decides, as a filter on published pop-ups.
_TIME_ONLY_STATES = {
    PopUp.State.COMING_SOON: lambda now: Q(opens_at__gt=now),
    PopUp.State.CLOSED: lambda now: Q(closes_at__lte=now),
}


# The dashboard's own state for pop-ups deleted while orders or pledges pointed at them: shoppers
# never see them (they are unpublished), so it is not one of PopUp.State.
ARCHIVED = "archived"


@dataclass(frozen=True)
class PopUpRow:
    popup: PopUp
    state: str  # a PopUp.State, or ARCHIVED
    units_left: int | None  # None: nothing caps it


def popup_dashboard_queryset(*, query: str = "", kind: str = "", state: str = "", now: datetime):
    """Pop-ups matching the filters, narrowed in SQL; live and sold out still need their stock.
    Archived pop-ups are only listed when asked for (state ARCHIVED)."""
    popups = PopUp.objects.select_related("range").order_by("-opens_at", "-pk")
    if state == ARCHIVED:
        popups = popups.filter(archived_at__isnull=False).order_by("-archived_at", "-pk")
    else:
        popups = popups.filter(archived_at__isnull=True)
    if query:
        popups = popups.filter(Q(title__icontains=query) | Q(slug__icontains=query))
    if kind:
        popups = popups.filter(kind=kind)
    if state == PopUp.State.DRAFT:
        popups = popups.filter(is_published=False)
    elif state in _TIME_ONLY_STATES:
        popups = popups.filter(_TIME_ONLY_STATES[state](now), is_published=True)
    elif state in (PopUp.State.LIVE, PopUp.State.SOLD_OUT):
        popups = popups.filter(is_published=True, opens_at__lte=now, closes_at__gt=now)
    return popups


def popup_dashboard_rows(
    *, popups: Iterable[PopUp], strategy=None, now: datetime
) -> list[PopUpRow]:
    """Each pop-up with its state and units left, computed by the storefront selector itself so
    the dashboard never disagrees with the public page (a fixed number of queries per pop-up;
    none for closed ones, whose state the clock alone decides and whose units are no longer sold)."""
    rows = []
    for popup in popups:
        if popup.archived_at is not None:
            rows.append(PopUpRow(popup=popup, state=ARCHIVED, units_left=None))
            continue
        if popup.is_published and popup.closes_at <= now:
            rows.append(PopUpRow(popup=popup, state=PopUp.State.CLOSED, units_left=None))
            continue
        storefront = popup_storefront(popup=popup, strategy=strategy, now=now, priced=False)
        rows.append(PopUpRow(popup=popup, state=storefront.state, units_left=storefront.units_left))
    return rows


def popup_archived_count() -> int:
    return PopUp.objects.filter(archived_at__isnull=False).count()


def popup_terms_queryset(*, popup: PopUp) -> QuerySet:
    """The terms rows of the products the pop-up's range sells now, in display order."""
    return (
        PopUpProduct.objects.filter(
            popup=popup,
            product__in=popup.range.all_products().exclude(structure=Product.PARENT).values("pk"),
        )
        .select_related("product", "product__parent", "product__product_class")
        .order_by("display_order", "pk")
    )


def popup_products_without_stock_record(*, popup: PopUp) -> list:
    """The pop-up's products that no stock record sells: no stock, no price in the shop."""
    return list(
        Product.objects.filter(popup_terms__popup=popup, stockrecords__isnull=True)
        .select_related("parent")
        .order_by("title", "pk")
    )


# The pre-sale report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    pledges: int
    amount: Decimal


@dataclass(frozen=True)
class ProductDemand:
    terms: PopUpProduct
    units_pledged: int
    amount_pledged: Decimal
    units_collected: int
    amount_collected: Decimal

    @property
    def title(self) -> str:
        return self.terms.product.get_title()


@dataclass(frozen=True)
class SourceFigures:
    source: str  # "" for shoppers who came straight to the pop-up
    backers: int
    pledges: int
    amount_pledged: Decimal
    amount_paid: Decimal


@dataclass(frozen=True)
class PresaleReport:
    popup: PopUp
    progress: PresaleProgress
    outcome: str  # PopUp.Outcome, "" while open
    currency: str
    pledges: int
    amount_pledged: Decimal
    units_pledged: int
    orders: int
    amount_collected: Decimal
    amount_collected_from_pledges: Decimal
    units_collected: int
    amount_refunded: Decimal
    reached_charging: int
    dropped: int
    cancelled_by_backers: int
    statuses: list[StatusCount]
    products: list[ProductDemand]
    sources: list[SourceFigures]
    days: list[tuple[date, Decimal]]  # cumulative amount pledged at the end of each day

    @property
    def amount_collected_directly(self) -> Decimal:
        return self.amount_collected - self.amount_collected_from_pledges

    @property
    def collection_rate(self) -> Decimal | None:
        return _percent(self.amount_collected, self.amount_pledged)

    @property
    def drop_rate(self) -> Decimal | None:
        return _percent(self.dropped, self.reached_charging)


def _percent(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100) * Decimal(part) / Decimal(whole)).quantize(Decimal("0.1"))


def pledges_standing(*, popup: PopUp, prefix: str = "") -> Q:
    """Pledges that count as pledged: all but those the backer cancelled before settlement.

    A backer can only cancel before the outcome is decided; settlement's own cancellations (a missed
    goal) come at or after `presale_settled_at`, so a cancelled pledge counts when it was cancelled
    then. `prefix` is the path to the pledge, e.g. "pledge__" from a PledgeLine.
    """
    cancelled = Q(**{f"{prefix}status": Pledge.Status.CANCELLED})
    if popup.presale_settled_at is None:
        return ~cancelled
    by_settlement = PledgeEvent.objects.filter(
        pledge=OuterRef(f"{prefix}pk"),
        status_to=Pledge.Status.CANCELLED,
        created_at__gte=popup.presale_settled_at,
    )
    return ~cancelled | Q(Exists(by_settlement))


def popup_orders(*, popup: PopUp) -> QuerySet:
    """Every order the pop-up made: paid pledges' orders and orders placed directly in it."""
    return Order.objects.filter(Q(popup_basket__popup=popup) | Q(pledge__popup=popup))


def presale_report(*, popup: PopUp, now: datetime | None = None) -> PresaleReport:
    """The evidence of a pre-sale, in a fixed number of queries whatever its number of pledges.

    Definitions, as the report page states them:
    - Pledged: the pledges not cancelled by their backer before charging, i.e. every pledge still
      standing when settlement came (paid, being charged, failed, retrying, dropped, or cancelled
      by settlement because the goal was missed) plus those still standing now. Its amount is
      what backers agreed to pay, shipping included; its units are their lines' units.
    - Collected: the totals (shipping included) of the pop-up's orders: paid pledges' orders plus
      orders placed directly in the pop-up (flexible funding, or after an all-or-nothing pre-sale
      was funded). Refunds made since are shown apart, not deducted.
    - Collection rate: collected ÷ pledged, in money. Direct orders count as collected, so it can
      pass 100%.
    - Drop rate: dropped pledges ÷ pledges that reached charging and finished or wait for a retry
      (paid, dropped, failed, retrying).
    - Per product: units and the lines' amounts (goods only, no shipping), pledged and collected.
    - Backers by source: distinct e-mails among the pledged pledges, per Pledge.source ("" and
      "direct" are both shown as Direct).
    """
    now = now or timezone.now()
    standing = pledges_standing(popup=popup)
    pledges = Pledge.objects.filter(popup=popup).order_by()

    by_status = {
        row["status"]: row
        for row in pledges.values("status").annotate(
            count=Count("pk"),
            total=Sum("amount"),
            standing_count=Count("pk", filter=standing),
            standing_total=Sum("amount", filter=standing),
        )
    }
    zero = Decimal("0.00")
    statuses = []
    for status, label in Pledge.Status.choices:
        row = by_status.get(status, {})
        statuses.append(
            StatusCount(
                status=status,
                label=label,
                pledges=row.get("count", 0),
                amount=row.get("total") or zero,
            )
        )

    def count(*names: str) -> int:
        return sum(by_status.get(name, {}).get("count", 0) for name in names)

    S = Pledge.Status
    cancelled = by_status.get(S.CANCELLED, {})
    line_rows = (
        PledgeLine.objects.filter(pledge__popup=popup)
        .filter(pledges_standing(popup=popup, prefix="pledge__"))
        .order_by()
        .values("terms_id")
        .annotate(units=Sum("quantity"), amount=Sum(F("quantity") * F("unit_price")))
    )
    pledged_lines = {row["terms_id"]: row for row in line_rows}
    orders = popup_orders(popup=popup)
    order_totals = orders.aggregate(
        count=Count("pk"),
        amount=Sum("total_incl_tax"),
        from_pledges=Sum("total_incl_tax", filter=Q(pledge__isnull=False)),
    )
    ordered_lines = {
        row["product_id"]: row
        for row in OrderLine.objects.filter(order__in=orders.values("pk"))
        .order_by()
        .values("product_id")
        .annotate(units=Sum("quantity"), amount=Sum("line_price_incl_tax"))
    }
    refunded = PaymentSource.objects.filter(order__in=orders.values("pk")).aggregate(
        amount=Sum("amount_refunded")
    )
    products = [
        ProductDemand(
            terms=terms,
            units_pledged=pledged_lines.get(terms.pk, {}).get("units") or 0,
            amount_pledged=pledged_lines.get(terms.pk, {}).get("amount") or zero,
            units_collected=ordered_lines.get(terms.product_id, {}).get("units") or 0,
            amount_collected=ordered_lines.get(terms.product_id, {}).get("amount") or zero,
        )
        for terms in PopUpProduct.objects.filter(popup=popup)
        .select_related("product", "product__parent")
        .order_by("display_order", "pk")
    ]
    direct = Q(source="") | Q(source__iexact="direct")
    sources = [
        SourceFigures(
            source=row["origin"],
            backers=row["backers"],
            pledges=row["pledges"],
            amount_pledged=row["pledged"] or zero,
            amount_paid=row["paid"] or zero,
        )
        for row in pledges.filter(standing)
        .annotate(origin=Case(When(direct, then=Value("")), default=F("source")))
        .values("origin")
        .annotate(
            backers=Count(Lower("email"), distinct=True),
            pledges=Count("pk"),
            pledged=Sum("amount"),
            paid=Sum("amount", filter=Q(status=S.PAID)),
        )
        .order_by("-pledged", "origin")
    ]
    progress = presale_progress(popup=popup)
    return PresaleReport(
        popup=popup,
        progress=progress,
        outcome=presale_outcome_now(popup=popup, goal_met=progress.goal_met, now=now),
        currency=settings.OSCAR_DEFAULT_CURRENCY,
        pledges=sum(row["standing_count"] for row in by_status.values()),
        amount_pledged=sum((row["standing_total"] or zero for row in by_status.values()), zero),
        units_pledged=sum(row["units"] for row in pledged_lines.values()),
        orders=order_totals["count"],
        amount_collected=order_totals["amount"] or zero,
        amount_collected_from_pledges=order_totals["from_pledges"] or zero,
        units_collected=sum(row["units"] for row in ordered_lines.values()),
        amount_refunded=refunded["amount"] or zero,
        reached_charging=count(S.PAID, S.DROPPED, S.FAILED, S.RETRYING),
        dropped=count(S.DROPPED),
        cancelled_by_backers=cancelled.get("count", 0) - cancelled.get("standing_count", 0),
        statuses=statuses,
        products=products,
        sources=sources,
        days=_cumulative_days(pledges.filter(standing), popup=popup, now=now),
    )


def _cumulative_days(pledges: QuerySet, *, popup: PopUp, now: datetime) -> list:
    """The amount pledged by the end of each day (store time), from the first pledge's day until
    today or the closing day, whichever comes first; days without pledges repeat the day before."""
    zone = ZoneInfo(settings.TIME_ZONE)
    per_day = dict(
        pledges.annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day")
        .annotate(amount=Sum("amount"))
        .order_by("day")
        .values_list("day", "amount")
    )
    if not per_day:
        return []
    first = min(per_day)
    last = max(max(per_day), min(now, popup.closes_at).astimezone(zone).date())
    days, total = [], Decimal("0.00")
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        total += per_day.get(day, Decimal("0.00"))
        days.append((day, total))
    return days


def presale_report_pledges(*, popup: PopUp) -> QuerySet:
    """The pop-up's pledges, newest first, with their order, units and event history prefetched."""
    units = (
        PledgeLine.objects.filter(pledge=OuterRef("pk"))
        .order_by()
        .values("pledge")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    return (
        Pledge.objects.filter(popup=popup)
        .select_related("order")
        .annotate(units=Coalesce(Subquery(units), 0))
        .prefetch_related("events")
        .order_by("-created_at", "-pk")
    )


def presale_report_rows(*, popup: PopUp) -> Iterator[tuple]:
    """One tuple per pledge for the CSV export, oldest first, read in chunks from the database."""
    units = (
        PledgeLine.objects.filter(pledge=OuterRef("pk"))
        .order_by()
        .values("pledge")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    return (
        Pledge.objects.filter(popup=popup)
        .annotate(units=Coalesce(Subquery(units), 0))
        .order_by("pk")
        .values_list(
            "pk",
            "created_at",
            "email",
            "source",
            "status",
            "amount",
            "currency",
            "units",
            "attempts",
            "failure_code",
            "next_retry_at",
            "paid_at",
            "order__number",
        )
        .iterator(chunk_size=2000)
    )


def price_notes(
    *, popup: PopUp, strategy, product_ids: Iterable[int] | None = None, young: bool = False
) -> list[str]:
    """What the merchant should know of the pop-up prices (of `product_ids`, else all): a price
    above the regular price, a reduction the page cannot show as one, and with `young`, one shown
    against a history shorter than the rule's days (popup.core.reductions)."""
    wanted = None if product_ids is None else set(product_ids)
    rule = popup_settings.POPUP_PRIOR_PRICE_RULE
    notes = []
    for item in popup_storefront(popup=popup, strategy=strategy).items:
        if item.terms is None or item.terms.price is None or item.price is None:
            continue
        if wanted is not None and item.product.pk not in wanted:
            continue
        words = {
            "product": item.title,
            "price": currency(item.price, item.currency),
            "regular": currency(item.regular_price, item.currency),
        }
        if item.regular_price is not None and item.terms.price > item.regular_price:
            notes.append(
                _(
                    "%(product)s: its pop-up price, %(price)s, is above its regular price, "
                    "%(regular)s. Shoppers will pay more in the pop-up than in the shop: check it "
                    "is meant."
                )
                % words
            )
            continue
        reduction = item.reduction
        if not rule or reduction is None or item.regular_price is None:
            continue
        if item.price >= item.regular_price:
            continue
        if reduction.prior_price is None:
            notes.append(
                _(
                    "%(product)s: no price of it is recorded from before this offer started, so "
                    "%(price)s is shown as a plain price, not as a reduction."
                )
                % words
            )
        elif not item.is_discounted:
            notes.append(
                ngettext(
                    "%(product)s: %(price)s is not below %(prior)s, its lowest price in the "
                    "%(days)d day before this offer started, so it is shown as a plain price, not "
                    "as a reduction.",
                    "%(product)s: %(price)s is not below %(prior)s, its lowest price in the "
                    "%(days)d days before this offer started, so it is shown as a plain price, not "
                    "as a reduction.",
                    popup_settings.POPUP_PRIOR_PRICE_DAYS,
                )
                % {
                    **words,
                    "prior": currency(reduction.prior_price, item.currency),
                    "days": popup_settings.POPUP_PRIOR_PRICE_DAYS,
                }
            )
        elif young and reduction.is_young:
            notes.append(
                ngettext(
                    "%(product)s: its price history covers %(days)d day before this offer "
                    "started; the struck-through price, %(prior)s, is the lowest of that day.",
                    "%(product)s: its price history covers %(days)d days before this offer "
                    "started; the struck-through price, %(prior)s, is the lowest of those days.",
                    reduction.history_days,
                )
                % {
                    **words,
                    "prior": currency(reduction.prior_price, item.currency),
                    "days": reduction.history_days,
                }
            )
    return notes
