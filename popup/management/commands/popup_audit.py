"""manage.py popup_audit: check that the pop-ups' units, orders and payments agree (see popup.audit)."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from popup.audit.checks import AUDIT_DAYS
from popup.audit.runs import audit_run


class Command(BaseCommand):
    help = (
        "Check the pop-ups' units, orders, pledges and payments agree; print each breach and exit 1 "
        "on any. The run is kept: a clean one clears the Pop-ups dashboard's banner."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=AUDIT_DAYS, help="payments of how many days to check"
        )
        parser.add_argument(
            "--grace-minutes",
            type=int,
            default=None,
            help="how long what was just started may take to settle (0: everything now; by "
            "default POPUP_SETTLE_AFTER_MINUTES + 40)",
        )

    def handle(self, *args, days: int, grace_minutes: int | None, **options):
        grace = None if grace_minutes is None else timedelta(minutes=grace_minutes)
        run = audit_run(days=days, grace=grace)
        if run.error:
            raise CommandError(
                _("The audit could not run: %(error)s") % {"error": run.error}, returncode=1
            )
        for notice in run.notices:
            self.stdout.write(_("notice  %(check)s: %(message)s") % notice)
        for breach in run.breaches:
            self.stdout.write(self.style.ERROR(_("BREACH  %(check)s: %(message)s") % breach))
        summary = _(
            "%(breaches)d breaches, %(notices)d notices, %(payments)d payments checked."
        ) % {
            "breaches": len(run.breaches),
            "notices": len(run.notices),
            "payments": run.payments_checked,
        }
        if run.breaches:
            raise CommandError(summary, returncode=1)
        self.stdout.write(self.style.SUCCESS(summary))
