"""manage.py popup_reconcile: finish now what faults left half-done (see the settle task)."""

import argparse
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from popup.checkout.services import checkout_authorisations_settle
from popup.payments import payment_gateway
from popup.presales.pledges import pledges_settle
from popup.presales.tasks import presales_sweep


def _minutes(value: str) -> int:
    try:
        minutes = int(value)
    except ValueError:
        minutes = -1
    if minutes < 0:
        raise argparse.ArgumentTypeError(_("Give a whole number of minutes, 0 or more."))
    return minutes


class Command(BaseCommand):
    help = (
        "Queue again the payment provider's webhooks stored but never processed, turn the card "
        "authorisations nobody came back for into their orders (or cancel them), capture orders "
        "whose capture failed, make the pledges of cards saved by backers who "
        "never came back, and settle the pre-sales due. The beat does the same "
        "every few minutes; safe to run at any time, on several machines at once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--grace-minutes",
            type=_minutes,
            default=None,
            help=_(
                "Leave alone the authorisations and saved cards younger than this (default: "
                "POPUP_SETTLE_AFTER_MINUTES), and the webhooks (default: the payment "
                "integration's, 2 minutes for Stripe). 0 after an outage, once the shop is back: a shopper "
                "still in 3-D Secure is never touched, and a checkout finishing meanwhile is "
                "finished once."
            ),
        )

    def handle(self, *args, **options):
        minutes = options["grace_minutes"]
        grace = None if minutes is None else timedelta(minutes=minutes)
        reports = payment_gateway().reports_requeue(older_than=grace)
        settled = checkout_authorisations_settle(grace=grace)
        pledged = pledges_settle(grace=grace)
        presales = presales_sweep()
        self.stdout.write(
            _(
                "Webhooks queued again: %(reports)d. "
                "Authorisations ordered or captured: %(ordered)d; cancelled: %(released)d. "
                "Pledges made from saved cards: %(pledged)d. "
                "Pre-sales queued for settlement: %(presales)d."
            )
            % {
                "reports": reports,
                "ordered": settled.ordered,
                "released": settled.released,
                "pledged": pledged,
                "presales": presales,
            }
        )
