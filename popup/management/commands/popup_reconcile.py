"""manage.py popup_reconcile: finish now what faults left half-done (see the settle task)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from popup.checkout.services import checkout_authorisations_settle
from popup.presales.tasks import presales_sweep


class Command(BaseCommand):
    help = (
        "Turn the card authorisations nobody came back for into their orders (or cancel them), "
        "capture orders whose capture failed, and settle the pre-sales due. The beat does the same "
        "every few minutes; safe to run at any time, on several machines at once."
    )

    def handle(self, *args, **options):
        settled = checkout_authorisations_settle()
        presales = presales_sweep()
        self.stdout.write(
            _(
                "Authorisations ordered or captured: %(ordered)d; cancelled: %(released)d. "
                "Pre-sales queued for settlement: %(presales)d."
            )
            % {"ordered": settled.ordered, "released": settled.released, "presales": presales}
        )
