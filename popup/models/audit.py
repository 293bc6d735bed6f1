"""The money audit's runs (popup.audit): the latest one tells the dashboard whether all is well."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditRun(models.Model):
    """One run of popup_audit: what it checked and what it found, kept for 30 days."""

    checked_at = models.DateTimeField(_("checked at"), db_index=True)
    payments_checked = models.PositiveIntegerField(_("payments checked"), default=0)
    # [{"check": "authorisation_hanging", "message": "…"}, …]
    breaches = models.JSONField(_("breaches"), default=list, blank=True)
    notices = models.JSONField(_("notices"), default=list, blank=True)
    # The audit could not run to the end (the payment provider could not be reached): why.
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-checked_at", "-pk"]
        verbose_name = _("money audit run")

    def __str__(self) -> str:
        return f"Audit of {self.checked_at:%Y-%m-%d %H:%M}: {len(self.breaches)} breaches"

    @property
    def ok(self) -> bool:
        return not self.breaches and not self.error
