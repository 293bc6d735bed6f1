"""The money audit: do the pop-ups' units, orders and payments agree, in our database and at the
payment provider?

    python manage.py popup_audit [--days 30] [--grace-minutes N]

Each breach is a promise broken (a unit sold twice, a shopper charged without an order, money held
on a card nobody will capture); `popup_audit` prints them and exits non-zero, the test suite runs it
after every race test, and a beat task runs it hourly and tells the staff. Notices (an open dispute)
need someone's attention but break nothing.

Payments are those of the last `days` days (the provider is asked for them); what is still moving is
given `grace` to settle: a payment started a minute ago may rightly wait for 3-D Secure.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from popup.checkout.services import settle_after
from popup.models import Pledge, PledgeLine, PopUpBasket, PopUpProduct
from popup.payments import DISPUTE_LOST, DISPUTE_OPENED, DISPUTE_WON, payment_gateway

Order = get_model("order", "Order")
OrderLine = get_model("order", "Line")
PaymentEvent = get_model("order", "PaymentEvent")
Source = get_model("payment", "Source")

AUDIT_DAYS = 30
# Beyond the settle delay: the task that settles runs every 15 minutes, and a pledge's charge is
# recorded within its lease.
AUDIT_MARGIN = timedelta(minutes=40)


def audit_grace() -> timedelta:
    """How long what was just started may take to settle before the audit holds it against us."""
    return settle_after() + AUDIT_MARGIN


@dataclass(frozen=True)
class Finding:
    check: str  # a short name, the same for every finding of one check
    message: str


@dataclass
class AuditReport:
    checked_at: datetime
    payments_checked: int = 0
    breaches: list[Finding] = field(default_factory=list)
    notices: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaches

    def breach(self, check: str, message: str) -> None:
        self.breaches.append(Finding(check, message))


def _when(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _popup_orders() -> dict[int, int]:
    """Order id -> pop-up id, for every order a pop-up placed (checkouts and pledges)."""
    by_basket = PopUpBasket.objects.filter(order__isnull=False).values_list("order_id", "popup_id")
    by_pledge = Pledge.objects.filter(order__isnull=False).values_list("order_id", "popup_id")
    return dict(by_basket) | dict(by_pledge)


def _check_units(report: AuditReport, orders: dict[int, int]) -> None:
    ordered = defaultdict(int)
    lines = OrderLine.objects.filter(order_id__in=orders).values("order_id", "product_id")
    for row in lines.annotate(units=Sum("quantity")):
        ordered[(orders[row["order_id"]], row["product_id"])] += row["units"]
    pledged = dict(
        PledgeLine.objects.filter(pledge__status__in=Pledge.ACTIVE)
        .values("terms_id")
        .annotate(units=Sum("quantity"))
        .values_list("terms_id", "units")
    )
    for terms in PopUpProduct.objects.select_related("popup", "product").order_by("pk"):
        name = f"{terms.popup.title} / {terms.product.get_title()}"
        if terms.units_offered is not None and terms.units_sold > terms.units_offered:
            report.breach(
                "oversold",
                _("%(name)s: %(sold)d units sold of %(offered)d offered.")
                % {"name": name, "sold": terms.units_sold, "offered": terms.units_offered},
            )
        accounted = ordered[(terms.popup_id, terms.product_id)] + pledged.get(terms.pk, 0)
        if terms.units_sold != accounted:
            report.breach(
                "units",
                _("%(name)s: %(sold)d units counted sold, %(accounted)d in orders and pledges.")
                % {"name": name, "sold": terms.units_sold, "accounted": accounted},
            )


def _check_orders(report: AuditReport, orders: dict[int, int], settled_by: datetime) -> None:
    shared = (
        Source.objects.filter(order_id__in=orders)
        .exclude(reference="")
        .values("reference")
        .annotate(orders=Count("order", distinct=True))
        .filter(orders__gt=1)
    )
    for row in shared:
        report.breach(
            "payment_shared",
            _("Payment %(payment)s is recorded on %(orders)d orders.")
            % {"payment": row["reference"], "orders": row["orders"]},
        )
    unpaid = (
        Order.objects.filter(pk__in=orders, date_placed__lte=settled_by)
        .annotate(debited=Sum("sources__amount_debited"))
        .filter(Q(debited__isnull=True) | Q(debited__lte=0))
        .order_by("number")
    )
    for order in unpaid:
        report.breach(
            "order_unpaid",
            _("Order %(number)s has no captured payment.") % {"number": order.number},
        )


def _check_payments(report: AuditReport, *, since: datetime, settled_by: datetime) -> None:
    ours = [
        payment
        for payment in payment_gateway().payments(created_after=since)
        if payment.metadata.get("popup_basket") or payment.metadata.get("popup_pledge")
    ]  # the store may take other payments: they are not the pop-ups' business
    recorded = {}
    for start in range(0, len(ours), 1000):
        ids = [payment.id for payment in ours[start : start + 1000]]
        recorded.update(
            Source.objects.filter(reference__in=ids).values_list("reference", "order__number")
        )
    report.payments_checked = len(ours)
    charges_by_pledge = Counter()
    for payment in ours:
        basket, pledge = payment.metadata.get("popup_basket"), payment.metadata.get("popup_pledge")
        created = datetime.fromtimestamp(payment.created, tz=UTC)
        if payment.is_paid:
            if payment.id not in recorded and created <= settled_by:
                report.breach(
                    "paid_without_order",
                    _("Payment %(payment)s was captured but no order records it.")
                    % {"payment": payment.id},
                )
            if pledge:
                charges_by_pledge[pledge] += 1
        elif payment.is_authorised and created <= settled_by:
            report.breach(
                "authorisation_hanging",
                _(
                    "Payment %(payment)s (basket %(basket)s) has been authorised since %(created)s, "
                    "neither captured nor cancelled."
                )
                % {"payment": payment.id, "basket": basket or "-", "created": _when(created)},
            )
        elif payment.id in recorded and created <= settled_by:
            report.breach(
                "order_payment_not_captured",
                _("Order %(number)s records payment %(payment)s, which is %(status)s.")
                % {"number": recorded[payment.id], "payment": payment.id, "status": payment.status},
            )
    for pledge, charges in sorted(charges_by_pledge.items()):
        if charges > 1:
            report.breach(
                "pledge_charged_twice",
                _("Pledge %(pledge)s was charged %(charges)d times.")
                % {"pledge": pledge, "charges": charges},
            )


def _check_pledges(report: AuditReport, settled_by: datetime) -> None:
    stuck = Pledge.objects.filter(
        status=Pledge.Status.PLEDGED, popup__presale_settled_at__lte=settled_by
    ).select_related("popup")
    for pledge in stuck.order_by("pk"):
        report.breach(
            "pledge_unsettled",
            _("Pledge %(pledge)d is still pledged, though “%(popup)s” settled on %(settled)s.")
            % {
                "pledge": pledge.pk,
                "popup": pledge.popup.title,
                "settled": _when(pledge.popup.presale_settled_at),
            },
        )


def _note_disputes(report: AuditReport, orders: dict[int, int]) -> None:
    events = PaymentEvent.objects.filter(
        order_id__in=orders, event_type__name__in=(DISPUTE_OPENED, DISPUTE_WON, DISPUTE_LOST)
    ).select_related("order", "event_type")
    closed = {event.reference for event in events if event.event_type.name != DISPUTE_OPENED}
    for event in events.order_by("date_created", "pk"):
        if event.event_type.name == DISPUTE_OPENED and event.reference not in closed:
            report.notices.append(
                Finding(
                    "dispute_open",
                    _(
                        "Order %(number)s: a dispute of %(amount)s %(currency)s is open "
                        "(%(dispute)s)."
                    )
                    % {
                        "number": event.order.number,
                        "amount": event.amount,
                        "currency": event.order.currency,
                        "dispute": event.reference,
                    },
                )
            )


def popup_audit(
    *, now: datetime | None = None, days: int = AUDIT_DAYS, grace: timedelta | None = None
) -> AuditReport:
    """Check the pop-ups' units, orders, pledges and payments agree; the report of what does not.

    What started less than `grace` before `now` may still be settling and is not held against it
    (the race tests pass no grace: everything must be settled when the racing stops).
    """
    now = now or timezone.now()
    settled_by = now - (audit_grace() if grace is None else grace)
    report = AuditReport(checked_at=now)
    orders = _popup_orders()
    _check_units(report, orders)
    _check_orders(report, orders, settled_by)
    _check_payments(report, since=now - timedelta(days=days), settled_by=settled_by)
    _check_pledges(report, settled_by)
    _note_disputes(report, orders)
    return report
