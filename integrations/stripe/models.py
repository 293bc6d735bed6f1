from django.db import models
from django.utils.translation import gettext_lazy as _


class StripeEvent(models.Model):
    """A webhook event as Stripe sent it, stored once per Stripe id before anything trusts it."""

    stripe_id = models.CharField(_("Stripe id"), max_length=255, unique=True)
    type = models.CharField(_("type"), max_length=255, db_index=True)
    api_version = models.CharField(_("API version"), max_length=64, blank=True)
    livemode = models.BooleanField(_("live mode"), default=False)
    payload = models.JSONField(_("payload"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("processing attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")
        indexes = [
            models.Index(
                fields=["received_at"],
                name="popup_stripe_unprocessed",
                condition=models.Q(processed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_id}"

    @property
    def data_object(self) -> dict:
        """The Stripe object the event is about (payload.data.object)."""
        return self.payload.get("data", {}).get("object", {})
