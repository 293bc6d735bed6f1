"""All-or-nothing pre-sales: backers' pledges, their lines and every step of their life."""

import secrets

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from popup.models.core import PopUp, PopUpBasket, PopUpProduct


def new_pledge_token() -> str:
    return secrets.token_urlsafe(32)


class Pledge(models.Model):
    """A backer's promise to buy in an all-or-nothing pre-sale: a saved card, charged only if funded.

    Every change of `status` goes through popup.presales.pledges, under a row lock, and leaves a
    PledgeEvent: the row is saved before and after each call to Stripe, so a worker that dies
    mid-charge leaves a pledge that the next settlement run can finish from Stripe's own record.
    """

    class Status(models.TextChoices):
        PLEDGED = "pledged", _("Pledged")
        CHARGING = "charging", _("Charging")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Payment failed")
        RETRYING = "retrying", _("Retrying")
        DROPPED = "dropped", _("Dropped")
        CANCELLED = "cancelled", _("Cancelled")

    # Pledges that still count towards the goal, hold their units, and may yet be charged.
    ACTIVE = (Status.PLEDGED, Status.CHARGING, Status.FAILED, Status.RETRYING)

    popup = models.ForeignKey(PopUp, on_delete=models.PROTECT, related_name="pledges")
    basket = models.OneToOneField(
        PopUpBasket, on_delete=models.PROTECT, related_name="pledge", null=True, blank=True
    )
    token = models.CharField(max_length=64, unique=True, default=new_pledge_token, editable=False)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PLEDGED, db_index=True
    )
    email = models.EmailField()
    # The language of the basket it was pledged from: the backer's e-mails speak it.
    language = models.CharField(max_length=16, blank=True, default="", editable=False)
    # The address as the per-customer limit compares it (popup.checkout.customers.email_key).
    email_key = models.CharField(max_length=320, blank=True, default="", db_index=True)
    shipping = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=120, blank=True, default="")
    currency = models.CharField(max_length=3)
    # What the backer agreed to pay: the lines at their pledged prices, plus shipping.
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    shipping_charge = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    setup_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    payment_method_id = models.CharField(max_length=255, blank=True)
    card_label = models.CharField(max_length=60, blank=True)
    # Charging: the attempt under way (its number names its idempotency key) and its PaymentIntent.
    attempts = models.PositiveIntegerField(default=0)
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    charging_until = models.DateTimeField(null=True, blank=True)
    # Settlement has queued a charge task for it: not queued again before then, unless it is lost.
    charge_queued_until = models.DateTimeField(null=True, blank=True)
    first_failed_at = models.DateTimeField(null=True, blank=True)
    next_retry_at = models.DateTimeField(null=True, blank=True, db_index=True)
    failure_code = models.CharField(max_length=80, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    order = models.OneToOneField(
        "order.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="pledge"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("pledge")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="pledge_amount_positive"),
            models.CheckConstraint(
                condition=~models.Q(status="paid") | models.Q(order__isnull=False),
                name="pledge_paid_has_order",
            ),
        ]

    def __str__(self) -> str:
        return f"Pledge {self.pk} ({self.get_status_display()}) in {self.popup}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def can_be_changed(self) -> bool:
        """The backer may change or cancel it: charging has not started."""
        return self.status == self.Status.PLEDGED and self.popup.takes_pledges

    @property
    def needs_backer(self) -> bool:
        """A charge failed: the backer can pay or change the card from the recovery link."""
        return self.status in (self.Status.FAILED, self.Status.RETRYING)


class PledgeLine(models.Model):
    pledge = models.ForeignKey(Pledge, on_delete=models.CASCADE, related_name="lines")
    terms = models.ForeignKey(PopUpProduct, on_delete=models.PROTECT, related_name="pledge_lines")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["terms__display_order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["pledge", "terms"], name="pledge_line_once"),
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="pledge_line_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.terms.product_id} at {self.unit_price}"

    @property
    def total(self):
        return self.unit_price * self.quantity


class PledgeEvent(models.Model):
    """One step in a pledge's life, kept for the audit: who or what moved it, and why."""

    pledge = models.ForeignKey(Pledge, on_delete=models.CASCADE, related_name="events")
    status_from = models.CharField(max_length=16, blank=True)
    status_to = models.CharField(max_length=16)
    # In English, the message's msgid, and its figures apart: each reader gets it in their language.
    note = models.CharField(max_length=255, blank=True)
    note_args = models.JSONField(default=dict, blank=True)
    payment_intent_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.status_from or '·'} → {self.status_to}: {self.note}"

    @property
    def note_text(self) -> str:
        """The note in the active language, its figures in place."""
        text = gettext(self.note) if self.note else ""
        return text % self.note_args if self.note_args else text
