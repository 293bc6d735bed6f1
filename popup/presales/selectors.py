"""What a pre-sale stands at: its progress towards the goal, and its outcome as the merchant sees it."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import F, Sum
from django.db.models.functions import Lower
from django.utils import timezone
from oscar.core.loading import get_model

from popup.models import Pledge, PledgeLine, PopUp

OrderLine = get_model("order", "Line")


@dataclass(frozen=True)
class PresaleProgress:
    """How far a pre-sale is towards its goal: orders placed, plus pledges still standing."""

    units: int
    amount: Decimal
    backers: int
    goal_units: int | None
    goal_amount: Decimal | None

    @property
    def percent(self) -> int:
        reached, goal = (
            (self.units, self.goal_units) if self.goal_units else (self.amount, self.goal_amount)
        )
        return int(100 * reached / goal) if goal else 0

    @property
    def goal_met(self) -> bool:
        return self.percent >= 100


def presale_progress(*, popup: PopUp) -> PresaleProgress:
    """Units, money and backers the pre-sale has so far: orders, and pledges not cancelled or dropped.

    Three queries, whatever its size. A paid pledge is counted once, by its order.
    """
    ordered = OrderLine.objects.filter(order__popup_basket__popup=popup)
    totals = ordered.aggregate(units=Sum("quantity"), amount=Sum("line_price_incl_tax"))
    pledged_lines = PledgeLine.objects.filter(pledge__popup=popup, pledge__status__in=Pledge.ACTIVE)
    pledged = pledged_lines.aggregate(
        units=Sum("quantity"), amount=Sum(F("quantity") * F("unit_price"))
    )
    # Counted by e-mail across orders and standing pledges (UNION drops the duplicates).
    backers = (
        ordered.order_by()
        .values(backer=Lower("order__guest_email"))
        .union(
            Pledge.objects.filter(popup=popup, status__in=Pledge.ACTIVE)
            .order_by()
            .values(backer=Lower("email"))
        )
        .count()
    )
    return PresaleProgress(
        units=(totals["units"] or 0) + (pledged["units"] or 0),
        amount=(totals["amount"] or Decimal("0.00")) + (pledged["amount"] or Decimal("0.00")),
        backers=backers,
        goal_units=popup.presale_goal_units,
        goal_amount=popup.presale_goal_amount,
    )


def is_all_or_nothing(popup: PopUp) -> bool:
    return (
        popup.kind == PopUp.Kind.PRESALE and popup.presale_funding == PopUp.Funding.ALL_OR_NOTHING
    )


def presale_outcome_now(*, popup: PopUp, goal_met: bool, now: datetime | None = None) -> str:
    """The pre-sale's outcome as the merchant sees it: "" while open, else funded or not funded.

    All or nothing: what settlement decided. Flexible: decided by the goal once the pop-up closes.
    """
    if is_all_or_nothing(popup):
        return popup.presale_outcome
    if (now or timezone.now()) < popup.closes_at:
        return PopUp.Outcome.OPEN
    return PopUp.Outcome.FUNDED if goal_met else PopUp.Outcome.NOT_FUNDED
