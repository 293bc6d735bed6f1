"""A pre-sale once the merchant takes over: settling it early and announcing the launch.

Pledges themselves (saving cards, charging, retrying) live in popup.presales.pledges; this module
only starts settlement there, and tells its paid backers of the launch, each exactly once. Graduating
a funded pre-sale's products is popup.analytics.merchandising.popup_graduate.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from popup.models import Pledge, PledgeEvent, PopUp
from popup.notifications.messages import LAUNCH_EMAIL_NOTE
from popup.notifications.tasks import pledge_email_send
from popup.presales.selectors import is_all_or_nothing, presale_progress
from popup.presales.tasks import presale_settle_run
from popup.queueing import task_queue_on_commit

Product = get_model("catalogue", "Product")
StockRecord = get_model("partner", "StockRecord")


def presales_to_settle(*, now: datetime | None = None) -> list[int]:
    """The all-or-nothing pre-sales with something to settle now: an outcome to decide (the deadline
    passed, or the goal may be met in one that charges then), or pledges of a funded one to charge."""
    now = now or timezone.now()
    undecided = Q(presale_outcome=PopUp.Outcome.OPEN) & (
        Q(closes_at__lte=now) | Q(presale_charge_when=PopUp.ChargeWhen.GOAL)
    )
    unfinished = Q(presale_outcome=PopUp.Outcome.FUNDED) & Q(pledges__status__in=Pledge.ACTIVE)
    popups = PopUp.objects.filter(
        Q(kind=PopUp.Kind.PRESALE, presale_funding=PopUp.Funding.ALL_OR_NOTHING)
        & (undecided | unfinished)
    ).distinct()
    return list(popups.values_list("pk", flat=True))


def presale_settle_queue(*, popup: PopUp, now: datetime | None = None) -> bool:
    """Queue the settlement of an all-or-nothing pre-sale now; returns whether its goal is met.

    Only while its outcome is open, and once it can be decided: the goal is met (the saved cards
    are charged at once, before the deadline) or the deadline passed. ValidationError otherwise.
    """
    now = now or timezone.now()
    if not is_all_or_nothing(popup):
        raise ValidationError(_("Only all-or-nothing pre-sales are settled: nothing to do here."))
    if popup.presale_outcome != PopUp.Outcome.OPEN:
        raise ValidationError(
            _("This pre-sale is already settled: %(outcome)s.")
            % {"outcome": popup.get_presale_outcome_display()}
        )
    goal_met = presale_progress(popup=popup).goal_met
    if not goal_met and now < popup.closes_at:
        raise ValidationError(
            _(
                "The goal is not met yet: pledges are charged once it is, or the pre-sale is "
                "settled at its deadline."
            )
        )
    task_queue_on_commit(presale_settle_run, popup.pk, early=True)
    return goal_met


@transaction.atomic
def presale_launch_notify(*, popup: PopUp) -> int:
    """Queue the launch e-mail to every paid backer of a graduated pre-sale who has not had it yet.

    Returns how many were queued. The task sends each e-mail once, under the pledge's lock, and
    records it as a PledgeEvent when sent: a second click, or a repeated message, sends nothing more.
    """
    popup = PopUp.objects.select_for_update().get(pk=popup.pk)
    if popup.graduated_at is None:
        raise ValidationError(
            _("Graduate the pre-sale first: the e-mail tells backers the product is in the shop.")
        )
    told = PledgeEvent.objects.filter(pledge=OuterRef("pk"), note=LAUNCH_EMAIL_NOTE)
    pledge_ids = list(
        Pledge.objects.filter(popup=popup, status=Pledge.Status.PAID)
        .filter(~Exists(told))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pledge_id in pledge_ids:
        task_queue_on_commit(pledge_email_send, pledge_id, "launched")
    return len(pledge_ids)
