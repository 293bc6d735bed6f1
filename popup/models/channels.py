"""Where shoppers come from: placements (one per post, page or QR poster) and ambassadors."""

import secrets

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from popup.models.core import PopUp


def new_placement_code() -> str:
    """Eight characters of an alphabet without look-alikes (0/O, 1/l/I): short, and typed from print."""
    alphabet = "23456789abcdefghjkmnpqrstuvwxyz"
    return "".join(secrets.choice(alphabet) for _ in range(8))


def new_ambassador_token() -> str:
    return secrets.token_urlsafe(32)


class Ambassador(models.Model):
    """A fan or a reseller who sells for the store: a code, an optional discount, a commission.

    They need no account: their private page is reached by an unguessable token in a link.
    """

    class Kind(models.TextChoices):
        FAN = "fan", _("Fan")
        RESELLER = "reseller", _("Reseller")

    name = models.CharField(_("name"), max_length=80)
    email = models.EmailField(_("e-mail"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.FAN)
    code = models.CharField(
        _("code"),
        max_length=20,
        validators=[RegexValidator(r"^[A-Z0-9]+$", _("Capital letters and digits only."))],
        help_text=_("Shoppers type it at checkout, e.g. SOPHIE10."),
    )
    discount_percent = models.DecimalField(
        _("discount for their audience (%)"),
        max_digits=5,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(90)],
    )
    commission_percent = models.DecimalField(
        _("commission (%)"),
        max_digits=5,
        decimal_places=2,
        default=10,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    token = models.CharField(
        max_length=64, unique=True, default=new_ambassador_token, editable=False
    )
    is_active = models.BooleanField(_("active"), default=True)
    invited_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("ambassador")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="ambassador_email_once"),
            models.UniqueConstraint(fields=["code"], name="ambassador_code_once"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("popup:ambassador", kwargs={"token": self.token})


class Placement(models.Model):
    """Where a pop-up is placed: a post, a bio link, a newsletter, an ambassador's page, a poster.

    Each has its own short link and embed snippet; what comes through it is counted first-party.
    A channel's placement (a Meta shop's checkout link, Google's) is made the first time a shopper
    arrives by it, one per pop-up.
    """

    class Channel(models.TextChoices):
        LINK = "", _("link")
        META_SHOP = "meta-shop", _("Meta shop")
        GOOGLE = "google", _("Google checkout link")

    popup = models.ForeignKey(PopUp, on_delete=models.CASCADE, related_name="placements")
    name = models.CharField(_("name"), max_length=80, help_text=_("e.g. Instagram bio"))
    code = models.CharField(max_length=12, unique=True, default=new_placement_code, editable=False)
    ambassador = models.ForeignKey(
        Ambassador,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="placements",
    )
    landing_url = models.URLField(
        _("where it is"),
        max_length=500,
        blank=True,
        help_text=_(
            "The post, bio or article the link sits on, e.g. https://www.instagram.com/atelier.nord."
            " Shoppers who pay inside an app's browser get a link back to it."
        ),
    )
    # Short-link clicks and page views through it (popup.analytics.stats counts, then adds here).
    clicks = models.PositiveIntegerField(default=0, editable=False)
    views = models.PositiveIntegerField(default=0, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, blank=True, default="", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("placement")
        constraints = [
            models.UniqueConstraint(
                fields=["popup", "ambassador"],
                condition=models.Q(ambassador__isnull=False),
                name="placement_one_per_ambassador_and_popup",
            ),
            models.UniqueConstraint(
                fields=["popup", "channel"],
                condition=~models.Q(channel=""),
                name="placement_one_per_channel_and_popup",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.popup})"

    def get_absolute_url(self) -> str:
        return reverse("popup:short-link", kwargs={"code": self.code})


class Commission(models.Model):
    """What an ambassador earned on one order, fixed when the order was placed."""

    ambassador = models.ForeignKey(Ambassador, on_delete=models.PROTECT, related_name="commissions")
    order = models.OneToOneField(
        "order.Order", on_delete=models.PROTECT, related_name="popup_commission"
    )
    placement = models.ForeignKey(Placement, on_delete=models.PROTECT, related_name="commissions")
    basis = models.DecimalField(max_digits=12, decimal_places=2)  # goods, tax incl., no shipping
    rate = models.DecimalField(max_digits=5, decimal_places=2)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    # Withdrawn because the order was refunded (its share of the refunded goods), while unpaid.
    refunded = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(max_length=3)
    paid_at = models.DateTimeField(null=True, blank=True, db_index=True)
    paid_reference = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("commission")

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} to {self.ambassador} on {self.order_id}"

    @property
    def earned(self):
        return self.amount - self.refunded
