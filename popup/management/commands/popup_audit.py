"""manage.py popup_audit: check that the pop-ups' units, orders and payments agree (see popup.audit)."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from popup.audit.checks import AUDIT_DAYS, AUDIT_GRACE
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
            default=int(AUDIT_GRACE.total_seconds() // 60),
            help="how long what was just started may take to settle (0: everything now)",
        )

    def handle(self, *args, days: int, grace_minutes: int, **options):
        run = audit_run(days=days, grace=timedelta(minutes=grace_minutes))
        if run.error:
            raise CommandError(f"The audit could not run: {run.error}", returncode=1)
        for notice in run.notices:
            self.stdout.write(f"notice  {notice['check']}: {notice['message']}")
        for breach in run.breaches:
            self.stdout.write(self.style.ERROR(f"BREACH  {breach['check']}: {breach['message']}"))
        summary = (
            f"{len(run.breaches)} breaches, {len(run.notices)} notices, "
            f"{run.payments_checked} payments checked."
        )
        if run.breaches:
            raise CommandError(summary, returncode=1)
        self.stdout.write(self.style.SUCCESS(summary))
