"""The drop report: what a pop-up sold, how fast, what people wanted and could not get, and what
they think.

Every figure is an aggregate in SQL or a bounded sample: the report makes the same number of queries
whatever the number of orders, reviews, votes or questions (bench/report.py checks it at 10,000
orders). The funnel comes from the first-party counters (popup.analytics.stats, flushed every minute).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Avg, Count, Max, Sum
from django.db.models.functions import TruncDay, TruncHour
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext
from oscar.core.loading import get_model
from oscar.templatetags.currency_filters import currency

from popup.analytics.charts import Bar, LineChart, bars, cumulative_chart
from popup.channels.selectors import channel_figures
from popup.feedback.selectors import AnswerSpeed, answer_speed, popup_polls
from popup.models import (
    Hold,
    Idea,
    Placement,
    Poll,
    PopUp,
    PopUpBasket,
    PopUpDayStats,
    PopUpProduct,
    Question,
    VerifiedReview,
)
from popup.templatetags.popup_tags import duration_short

Order = get_model("order", "Order")
OrderLine = get_model("order", "Line")
ProductAlert = get_model("customer", "ProductAlert")
ProductReview = get_model("reviews", "ProductReview")

# Up to three days of selling the sales chart goes hour by hour; longer drops, day by day.
HOURLY_UP_TO = timedelta(days=3)
TOP_IDEAS = 10
OPEN_QUESTIONS = 10


def _rate(part, whole) -> Decimal | None:
    return (Decimal(100) * part / whole).quantize(Decimal("0.1")) if whole else None


# What the merchant reads for each step of the funnel.
FUNNEL_LABELS = {
    "views": _("Views (page and embeds)"),
    "baskets": _("Baskets"),
    "checkouts": _("Checkouts"),
    "orders": _("Paid orders"),
}


@dataclass(frozen=True)
class FunnelStep:
    key: str  # views, baskets, checkouts, orders
    count: int
    rate: Decimal | None  # % of the step before

    @property
    def label(self) -> str:
        return str(FUNNEL_LABELS[self.key])


@dataclass(frozen=True)
class ProductSales:
    product_id: int
    title: str
    offered: int | None
    sold: int
    revenue: Decimal
    waitlist: int
    price: Decimal | None  # the pop-up price; None: the regular price

    @property
    def sell_through(self) -> Decimal | None:
        return _rate(self.sold, self.offered) if self.offered else None

    @property
    def sold_out(self) -> bool:
        return self.offered is not None and self.sold >= self.offered


@dataclass(frozen=True)
class PlacementSales:
    """What came through one placement (a post, an ambassador, the Meta shop…), from its counters
    and the baskets' rows; `placement` None: the baskets that came through none."""

    placement: Placement | None
    arrivals: int | None  # page views through it (None: not counted without a placement)
    baskets: int
    orders: int
    revenue: Decimal

    @property
    def name(self) -> str:
        return self.placement.name if self.placement is not None else str(_("No placement"))


@dataclass(frozen=True)
class Ratings:
    """Verified buyers' reviews of the pop-up's products: how many of each score, and the aspects."""

    counts: dict[int, int]  # score (1–5) → reviews
    aspects: list[tuple[str, Decimal | None, int]]  # label, average, how many rated it

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def average(self) -> Decimal | None:
        if not self.total:
            return None
        points = sum(score * count for score, count in self.counts.items())
        return (Decimal(points) / self.total).quantize(Decimal("0.1"))

    @property
    def distribution(self) -> list[Bar]:
        return bars([(f"{score} ★", self.counts.get(score, 0)) for score in range(5, 0, -1)])


@dataclass(frozen=True)
class Questions:
    waiting: int
    answered: int
    held_as_spam: int
    oldest_waiting: list[Question]
    speed: AnswerSpeed


@dataclass(frozen=True)
class DropReport:
    popup: PopUp
    funnel: list[FunnelStep]
    products: list[ProductSales]
    placements: list[PlacementSales]
    orders: int
    revenue: Decimal
    units_sold: int
    units_offered: int | None
    sold_out_at: datetime | None
    hours_selling: Decimal
    unmet_attempts: int
    waitlist: int
    baskets: int
    holds_expired: int
    currency: str
    sales: list[tuple[datetime, Decimal]]  # units sold by each time, from the opening
    sales_by: str  # "hour" or "day"
    ratings: Ratings
    polls: list[Poll]
    ideas: list[Idea]
    questions: Questions
    now: datetime

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
    def hold_expiry_rate(self) -> Decimal | None:
        """% of baskets whose reserved units lapsed without a checkout."""
        return _rate(self.holds_expired, self.baskets)

    @property
    def conversion(self) -> Decimal | None:
        """Paid orders per basket started, as a fraction: how much of the demand turns into sales."""
        if not self.baskets:
            return None
        return min(Decimal(self.orders) / self.baskets, Decimal(1)).quantize(Decimal("0.001"))

    @property
    def lost_units(self) -> int | None:
        """Units it would have sold after selling out, at the rate it sold until then."""
        if not self.sold_out_at or not self.units_per_hour:
            return None
        end = min(self.now, self.popup.closes_at)
        hours_left = Decimal(max((end - self.sold_out_at).total_seconds(), 0) / 3600)
        return int(self.units_per_hour * hours_left)

    @property
    def elapsed(self) -> Decimal:
        """How much of the selling window has passed, from 0 to 1."""
        window = (self.popup.closes_at - self.popup.opens_at).total_seconds()
        passed = (min(self.now, self.popup.closes_at) - self.popup.opens_at).total_seconds()
        return Decimal(max(0, min(passed / window, 1))).quantize(Decimal("0.001"))

    @property
    def funnel_bars(self) -> list[Bar]:
        return bars([(step.label, step.count) for step in self.funnel])

    @property
    def sales_chart(self) -> LineChart | None:
        return cumulative_chart(self.sales)

    @property
    def poll_results(self) -> list[tuple[Poll, list[Bar]]]:
        return [
            (poll, bars([(option.label, option.votes) for option in poll.options.all()]))
            for poll in self.polls
        ]


def _sales_over_time(lines, popup: PopUp, now: datetime) -> tuple[list, str]:
    """Units sold by the end of each hour (drops up to three days) or day (store time), from zero
    at the opening to now or the closing, with no gap: the line's x axis is time."""
    end = min(now, popup.closes_at)
    by = "hour" if end - popup.opens_at <= HOURLY_UP_TO else "day"
    # Hours are real hours, stepped in UTC: a wall-clock hour can be missing or doubled when the
    # clocks change. Days are the store's days: wall-clock arithmetic (zoneinfo) keeps each bucket
    # at its local midnight across a change.
    if by == "hour":
        trunc, step = TruncHour("order__date_placed", tzinfo=UTC), timedelta(hours=1)
        start = popup.opens_at.astimezone(UTC)
    else:
        trunc, step = TruncDay("order__date_placed"), timedelta(days=1)
        start = timezone.localtime(popup.opens_at).replace(hour=0)
    sold = dict(
        lines.annotate(bucket=trunc)
        .order_by()
        .values("bucket")
        .annotate(units=Sum("quantity"))
        .values_list("bucket", "units")
    )
    sold = {bucket.astimezone(UTC): units for bucket, units in sold.items()}
    bucket = start.replace(minute=0, second=0, microsecond=0)
    running, sales = 0, [(popup.opens_at, Decimal(0))]
    while bucket < end:
        running += sold.get(bucket.astimezone(UTC), 0)
        sales.append((min(bucket + step, end), Decimal(running)))
        bucket += step
    return sales, by


def _ratings(popup: PopUp) -> Ratings:
    reviews = ProductReview.objects.filter(popup_verified__invite__popup=popup).exclude(
        status=ProductReview.REJECTED
    )
    counts = dict(
        reviews.order_by().values("score").annotate(n=Count("pk")).values_list("score", "n")
    )
    verified = VerifiedReview.objects.filter(invite__popup=popup).exclude(
        review__status=ProductReview.REJECTED
    )
    averages = verified.aggregate(
        **{f"{aspect}_avg": Avg(aspect) for aspect in VerifiedReview.ASPECTS},
        **{f"{aspect}_n": Count(aspect) for aspect in VerifiedReview.ASPECTS},
    )
    aspects = [
        (
            str(VerifiedReview._meta.get_field(aspect).verbose_name).capitalize(),
            None
            if averages[f"{aspect}_avg"] is None
            else Decimal(averages[f"{aspect}_avg"]).quantize(Decimal("0.1")),
            averages[f"{aspect}_n"],
        )
        for aspect in VerifiedReview.ASPECTS
    ]
    return Ratings(counts=counts, aspects=aspects)


def _questions(popup: PopUp, now: datetime) -> Questions:
    counts = dict(
        Question.objects.filter(popup=popup)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    waiting = Question.objects.filter(popup=popup, status=Question.Status.PENDING)
    return Questions(
        waiting=counts.get(Question.Status.PENDING, 0),
        answered=counts.get(Question.Status.PUBLISHED, 0),
        held_as_spam=counts.get(Question.Status.SPAM, 0),
        oldest_waiting=list(waiting.order_by("created_at", "pk")[:OPEN_QUESTIONS]),
        speed=answer_speed(popup=popup, now=now, days=3650),
    )


def _placement_sales(popup: PopUp) -> list[PlacementSales]:
    """Each of the pop-up's placements (their figures as the placements table counts them), and
    what came through none, by orders then revenue; as many queries however many there are."""
    placements = list(popup.placements.select_related("ambassador").order_by("pk"))
    if not placements:
        return []
    figures = channel_figures(by="placement", ids=[placement.pk for placement in placements])
    sales = [
        PlacementSales(
            placement=placement,
            arrivals=figures[placement.pk].views,
            baskets=figures[placement.pk].baskets,
            orders=figures[placement.pk].orders,
            revenue=figures[placement.pk].revenue,
        )
        for placement in placements
    ]
    direct = PopUpBasket.objects.filter(popup=popup, placement__isnull=True).aggregate(
        baskets=Count("pk"), orders=Count("order"), revenue=Sum("order__total_incl_tax")
    )
    if direct["baskets"]:
        sales.append(
            PlacementSales(
                placement=None,
                arrivals=None,
                baskets=direct["baskets"],
                orders=direct["orders"],
                revenue=direct["revenue"] or Decimal("0.00"),
            )
        )
    return sorted(sales, key=lambda row: (-row.orders, -row.revenue, -row.baskets))


def drop_report(*, popup: PopUp, now: datetime | None = None) -> DropReport:
    """Everything the merchant needs to judge a drop, counted now."""
    now = now or timezone.now()
    counters = PopUpDayStats.objects.filter(popup=popup).aggregate(
        views=Sum("views"),
        embed_views=Sum("embed_views"),
        baskets=Sum("baskets"),
        checkouts=Sum("checkouts"),
        unmet=Sum("unmet"),
        holds_expired=Sum("holds_expired"),
    )
    # Holds lapsed but not tidied away yet (that happens an hour later) count as expired already.
    lapsed_untidied = (
        Hold.objects.filter(basket__popup=popup)
        .lapsed(now)
        .aggregate(baskets=Count("basket", distinct=True))["baskets"]
    )
    orders = Order.objects.filter(popup_basket__popup=popup)
    totals = orders.aggregate(
        count=Count("pk"),
        revenue=Sum("total_incl_tax"),
        last=Max("date_placed"),
        currency=Max("currency"),
    )
    sold_lines = OrderLine.objects.filter(order__popup_basket__popup=popup)
    lines = {
        row["product_id"]: row
        for row in sold_lines.order_by()
        .values("product_id")
        .annotate(units=Sum("quantity"), revenue=Sum("line_price_incl_tax"))
    }
    terms = list(PopUpProduct.objects.filter(popup=popup).select_related("product"))
    waiting = dict(
        ProductAlert.objects.filter(
            product__in=[t.product_id for t in terms], date_created__gte=popup.created_at
        )
        .order_by()
        .values("product_id")
        .annotate(n=Count("pk"))
        .values_list("product_id", "n")
    )
    products = [
        ProductSales(
            product_id=t.product_id,
            title=t.product.get_title(),
            offered=t.units_offered,
            sold=(lines.get(t.product_id) or {}).get("units") or 0,
            revenue=(lines.get(t.product_id) or {}).get("revenue") or Decimal("0.00"),
            waitlist=waiting.get(t.product_id, 0),
            price=t.price,
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
        ("views", views),
        ("baskets", counters["baskets"] or 0),
        ("checkouts", counters["checkouts"] or 0),
        ("orders", totals["count"]),
    ]
    funnel = [
        FunnelStep(key, count, _rate(count, steps[number - 1][1]) if number else None)
        for number, (key, count) in enumerate(steps)
    ]
    sales, sales_by = _sales_over_time(sold_lines, popup, now)
    ideas = Idea.objects.filter(popup=popup, status__in=Idea.SHOWN)
    return DropReport(
        popup=popup,
        funnel=funnel,
        products=products,
        placements=_placement_sales(popup),
        orders=totals["count"],
        revenue=totals["revenue"] or Decimal("0.00"),
        units_sold=sum(product.sold for product in products),
        units_offered=sum(t.units_offered for t in capped) if len(capped) == len(terms) else None,
        sold_out_at=sold_out_at,
        hours_selling=hours,
        unmet_attempts=counters["unmet"] or 0,
        waitlist=sum(waiting.values()),
        baskets=counters["baskets"] or 0,
        holds_expired=(counters["holds_expired"] or 0) + lapsed_untidied,
        currency=totals["currency"] or settings.OSCAR_DEFAULT_CURRENCY,
        sales=sales,
        sales_by=sales_by,
        ratings=_ratings(popup),
        polls=popup_polls(popup=popup, limit=5),
        ideas=list(ideas.order_by("-votes", "-created_at", "-pk")[:TOP_IDEAS]),
        questions=_questions(popup, now),
        now=now,
    )


@dataclass(frozen=True)
class Figure:
    """One key figure of a report: `code` names it whatever the language (the comparison pairs two
    reports' figures by it), `label` is what the merchant reads, `text` its value, localised."""

    code: str
    label: str
    text: str


def percent_text(value: Decimal | None) -> str:
    """A percentage as the active language writes it ("12.5%", "12,5 %"); a dash for none."""
    if value is None:
        return "—"
    return pgettext("percentage", "%(value)s%%") % {"value": formats.localize(value)}


def drop_headline(report: DropReport) -> list[Figure]:
    """The report's key figures: the sales table's CSV and the comparison of two drops."""

    def money(amount):
        return currency(amount, report.currency) if amount is not None else "—"

    def number(value):
        return "—" if value is None else formats.localize(value)

    funnel = {step.key: step.count for step in report.funnel}
    figures = [
        ("views", _("Views"), number(funnel["views"])),
        ("baskets", _("Baskets"), number(report.baskets)),
        ("checkouts", _("Checkouts"), number(funnel["checkouts"])),
        ("orders", _("Paid orders"), number(report.orders)),
        (
            "conversion",
            _("Conversion (orders per basket)"),
            percent_text(_rate(report.orders, report.baskets)),
        ),
        ("revenue", _("Revenue"), money(report.revenue)),
        ("average_order", _("Average order"), money(report.aov)),
        ("units_sold", _("Units sold"), number(report.units_sold)),
        ("units_offered", _("Units offered"), number(report.units_offered)),
        ("sell_through", _("Sell-through"), percent_text(report.sell_through)),
        ("units_per_hour", _("Units per hour"), number(report.units_per_hour)),
        ("hours_to_sell_out", _("Hours to sell out"), number(report.hours_to_sell_out)),
        ("hold_expiry_rate", _("Hold expiry rate"), percent_text(report.hold_expiry_rate)),
        (
            "unmet_attempts",
            _("Add-to-basket attempts on sold-out items"),
            number(report.unmet_attempts),
        ),
        ("waitlist", _("Waitlist sign-ups"), number(report.waitlist)),
        ("lost_units", _("Lost sales (units, estimate)"), number(report.lost_units)),
        ("average_rating", _("Average rating"), number(report.ratings.average)),
        ("reviews", _("Reviews"), number(report.ratings.total)),
        ("questions_waiting", _("Questions waiting"), number(report.questions.waiting)),
        (
            "median_answer_time",
            _("Median answer time"),
            duration_short(report.questions.speed.median) or "—",
        ),
    ]
    return [Figure(code, str(label), text) for code, label, text in figures]
