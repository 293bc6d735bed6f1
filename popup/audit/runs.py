"""The audit as the beat runs it: kept, shown on the Pop-ups dashboard, and e-mailed to ADMINS."""

import logging
from dataclasses import asdict
from datetime import datetime, timedelta

from django.core.mail import mail_admins
from django.utils import timezone
from django.utils.translation import gettext as _
from oscar.core.loading import get_class

from popup.audit.checks import AUDIT_DAYS, popup_audit
from popup.models import AuditRun

logger = logging.getLogger(__name__)

PaymentError = get_class("payment.exceptions", "PaymentError")

AUDIT_KEPT = timedelta(days=30)


def audit_run(
    *, now: datetime | None = None, days: int = AUDIT_DAYS, grace: timedelta | None = None
) -> AuditRun:
    """Run popup_audit and keep its findings; tell ADMINS when it finds something new."""
    now = now or timezone.now()
    previous = AuditRun.objects.first()
    try:
        report = popup_audit(now=now, days=days, grace=grace)
    except PaymentError as error:
        run = AuditRun.objects.create(checked_at=now, error=str(error))
    else:
        run = AuditRun.objects.create(
            checked_at=now,
            payments_checked=report.payments_checked,
            breaches=[asdict(finding) for finding in report.breaches],
            notices=[asdict(finding) for finding in report.notices],
        )
    AuditRun.objects.filter(checked_at__lt=now - AUDIT_KEPT).delete()
    already_told = previous is not None and (previous.breaches, previous.error) == (
        run.breaches,
        run.error,
    )
    if not run.ok and not already_told:
        _staff_tell(run)
    return run


def _staff_tell(run: AuditRun) -> None:
    if run.error:
        body = _("The money audit could not run: %(error)s") % {"error": run.error}
    else:
        lines = [f"- {breach['message']}" for breach in run.breaches]
        body = "\n".join(
            [
                _("The money audit found %(count)d problems:") % {"count": len(run.breaches)},
                "",
                *lines,
            ]
        )
    body += "\n\n" + _("Run `manage.py popup_audit` to check again once they are put right.")
    mail_admins(_("Pop-ups: the money audit found problems"), body)
    logger.error("popup_audit: %s", body)


def audit_latest() -> AuditRun | None:
    """The latest run, for the dashboard's banner."""
    return AuditRun.objects.first()
