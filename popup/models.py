import secrets
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

# Path segments under /popup/ that belong to the plugin itself, never to a pop-up.
RESERVED_SLUGS = frozenset(
    {
        "embed",
        "embed.js",
        "oembed",
        "stripe",
        "static",
        "api",
        "checkout",
        "pledge",
        "review",
        "vote",
        "p",
        "feeds",
        "ambassador",
    }
)


def validate_slug_not_reserved(value: str) -> None:
    if value in RESERVED_SLUGS:
        raise ValidationError(
            _("“%(slug)s” is reserved, choose another slug."), params={"slug": value}
        )


def parse_origins(text: str) -> list[str]:
    """Origins one per line (or comma separated), normalised to scheme://host[:port]."""
    origins = []
    for raw in text.replace(",", "\n").splitlines():
        raw = raw.strip().rstrip("/")
        if raw:
            origins.append(raw.lower())
    return origins


def validate_origins(text: str) -> None:
    errors = []
    for origin in parse_origins(text):
        parts = urlsplit(origin)
        host = parts.hostname or ""
        valid_host = host and all(label for label in host.removeprefix("*.").split("."))
        if parts.scheme not in ("http", "https") or not valid_host or parts.path or parts.query:
            errors.append(origin)
    if errors:
        raise ValidationError(
            _("Not an origin: %(bad)s. Write scheme and host only, e.g. https://www.example.com"),
            params={"bad": ", ".join(errors)},
        )


class PopUp(models.Model):
    """A time-boxed storefront publishing a slice (an Oscar Range) of the catalogue."""

    class Kind(models.TextChoices):
        LIMITED = "limited", _("Limited series")
        PRESALE = "presale", _("Pre-sale")
        CLEARANCE = "clearance", _("Clearance")
        SEASONAL = "seasonal", _("Seasonal offer")

    class Funding(models.TextChoices):
        FLEXIBLE = "flexible", _("Flexible: backers pay when they order")
        ALL_OR_NOTHING = (
            "all_or_nothing",
            _("All or nothing: cards are charged only if the goal is met"),
        )

    class ChargeWhen(models.TextChoices):
        GOAL = "goal", _("As soon as the goal is reached")
        DEADLINE = "deadline", _("At the deadline (when the pop-up closes)")

    class Outcome(models.TextChoices):
        OPEN = "", _("Not settled")
        FUNDED = "funded", _("Funded")
        NOT_FUNDED = "not_funded", _("Not funded")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        COMING_SOON = "coming_soon", _("Coming soon")
        LIVE = "live", _("Live")
        SOLD_OUT = "sold_out", _("Sold out")
        CLOSED = "closed", _("Closed")

    title = models.CharField(_("title"), max_length=120)
    slug = models.SlugField(
        _("slug"), max_length=80, unique=True, validators=[validate_slug_not_reserved]
    )
    tagline = models.CharField(_("tagline"), max_length=160, blank=True)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.LIMITED)
    hero_image = models.ImageField(_("hero image"), upload_to="popup/hero/", blank=True)
    accent_colour = models.CharField(
        _("accent colour"),
        max_length=7,
        default="#c2410c",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #c2410c."))],
    )
    range = models.ForeignKey(
        "offer.Range",
        on_delete=models.PROTECT,
        related_name="popups",
        verbose_name=_("products (range)"),
    )
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    is_published = models.BooleanField(
        _("published"), default=False, help_text=_("Drafts are visible to staff only.")
    )
    per_customer_limit = models.PositiveSmallIntegerField(
        _("units per customer"), null=True, blank=True, help_text=_("Empty means no limit.")
    )
    # Pre-sales: a goal (units or money) to reach by the time the pop-up closes, and a ship date.
    presale_goal_units = models.PositiveIntegerField(
        _("goal (units)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    presale_goal_amount = models.DecimalField(
        _("goal (amount)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
    )
    presale_ships_on = models.DateField(_("expected ship date"), null=True, blank=True)
    presale_funding = models.CharField(
        _("funding"), max_length=16, choices=Funding.choices, default=Funding.FLEXIBLE
    )
    presale_charge_when = models.CharField(
        _("charge pledges"),
        max_length=16,
        choices=ChargeWhen.choices,
        default=ChargeWhen.DEADLINE,
        help_text=_("All or nothing only: when saved cards are charged once the goal is met."),
    )
    # Set once by settlement: funded (pledges are being charged) or not funded (all cancelled).
    presale_outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.OPEN, blank=True
    )
    presale_settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    graduated_at = models.DateTimeField(_("graduated at"), null=True, blank=True)
    # When its waitlist was told the drop is open (popup.tasks.popup_openings_announce), once.
    opening_announced_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The pop-up this one was cloned from by the drop report's "relaunch", to compare the two.
    relaunched_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="relaunches"
    )
    hold_minutes = models.PositiveSmallIntegerField(
        _("hold minutes"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("How long units in a shopper's basket stay reserved for them."),
    )
    allowed_embed_origins = models.TextField(
        _("allowed embed origins"),
        blank=True,
        validators=[validate_origins],
        help_text=_(
            "One origin per line, e.g. https://linktr.ee or https://*.myblog.com. "
            "Only these pages can frame the pop-up."
        ),
    )
    messenger_username = models.CharField(
        _("Messenger page username"),
        max_length=80,
        blank=True,
        validators=[RegexValidator(r"^[A-Za-z0-9.]+$", _("Letters, digits and dots only."))],
    )
    whatsapp_number = models.CharField(
        _("WhatsApp number"),
        max_length=20,
        blank=True,
        validators=[
            RegexValidator(r"^\+?[1-9][0-9]{6,14}$", _("International format, e.g. +33612345678."))
        ],
    )
    instagram_username = models.CharField(
        _("Instagram username"),
        max_length=30,
        blank=True,
        validators=[RegexValidator(r"^[A-Za-z0-9._]+$", _("Letters, digits, dots, underscores."))],
    )
    # Events: a code given out at a venue reveals an event-only pop-up and its event prices.
    unlock_code = models.CharField(
        _("unlock code"),
        max_length=40,
        blank=True,
        validators=[RegexValidator(r"^[A-Za-z0-9-]+$", _("Letters, digits and dashes only."))],
        help_text=_("Shoppers who enter it see event prices (and the pop-up, if event-only)."),
    )
    event_only = models.BooleanField(
        _("event only"),
        default=False,
        help_text=_("Hidden from anyone without the unlock code: not listed, not in feeds."),
    )
    ship_to_countries = models.CharField(
        _("ships only to"),
        max_length=400,
        blank=True,
        validators=[
            RegexValidator(
                r"^\s*([A-Za-z]{2}\s*(,\s*[A-Za-z]{2}\s*)*)?$",
                _("Two-letter country codes separated by commas, e.g. FR, BE, LU."),
            )
        ],
        help_text=_("Two-letter country codes, comma separated. Empty: wherever the store ships."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opens_at"]
        verbose_name = _("pop-up")
        verbose_name_plural = _("pop-ups")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")),
                name="popup_closes_after_opening",
            ),
            models.CheckConstraint(
                condition=models.Q(presale_goal_units__isnull=True)
                | models.Q(presale_goal_amount__isnull=True),
                name="popup_one_presale_goal",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("popup:detail", kwargs={"slug": self.slug})

    def get_embed_url(self) -> str:
        return reverse("popup:embed", kwargs={"slug": self.slug})

    def clean(self) -> None:
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": _("The pop-up must close after it opens.")})
        if self.presale_goal_units and self.presale_goal_amount:
            raise ValidationError(
                {"presale_goal_amount": _("Set a goal in units or in money, not both.")}
            )
        if self.kind == self.Kind.PRESALE and not (
            self.presale_goal_units or self.presale_goal_amount
        ):
            raise ValidationError({"presale_goal_units": _("A pre-sale needs a goal.")})
        if self.event_only and not self.unlock_code:
            raise ValidationError({"unlock_code": _("An event-only pop-up needs an unlock code.")})

    @property
    def shipping_countries(self) -> list[str]:
        """The ISO 3166-1 codes it ships to, upper case; empty: no restriction of its own."""
        return [code.strip().upper() for code in self.ship_to_countries.split(",") if code.strip()]

    def unlocks_with(self, code: str) -> bool:
        return bool(self.unlock_code) and secrets.compare_digest(
            code.strip().upper(), self.unlock_code.upper()
        )

    @property
    def embed_origins(self) -> list[str]:
        return parse_origins(self.allowed_embed_origins)

    @property
    def takes_pledges(self) -> bool:
        """Shoppers pledge a saved card instead of paying: an all-or-nothing pre-sale not yet funded."""
        return (
            self.kind == self.Kind.PRESALE
            and self.presale_funding == self.Funding.ALL_OR_NOTHING
            and self.presale_outcome == self.Outcome.OPEN
        )

    def state_at(self, now, *, units_left: int | None) -> "PopUp.State":
        """The state at `now`, from the schedule and the units left (None: not capped)."""
        if not self.is_published:
            return self.State.DRAFT
        if now < self.opens_at:
            return self.State.COMING_SOON
        if now >= self.closes_at:
            return self.State.CLOSED
        if units_left is not None and units_left <= 0:
            return self.State.SOLD_OUT
        return self.State.LIVE

    @property
    def whatsapp_url(self) -> str:
        return f"https://wa.me/{self.whatsapp_number.lstrip('+')}" if self.whatsapp_number else ""

    def whatsapp_message_url(self, text: str) -> str:
        """A wa.me link that opens a chat with the shop, `text` already typed in."""
        return f"{self.whatsapp_url}?{urlencode({'text': text})}" if self.whatsapp_number else ""

    @property
    def messenger_url(self) -> str:
        return f"https://m.me/{self.messenger_username}" if self.messenger_username else ""

    def messenger_ref_url(self, ref: str) -> str:
        """An m.me link whose `ref` the page's Messenger inbox receives (which pop-up, which placement)."""
        return f"{self.messenger_url}?{urlencode({'ref': ref})}" if self.messenger_username else ""

    @property
    def instagram_url(self) -> str:
        return f"https://ig.me/m/{self.instagram_username}" if self.instagram_username else ""


class PopUpProduct(models.Model):
    """A product's terms in one pop-up: the units offered there, its pop-up price, its place."""

    popup = models.ForeignKey(PopUp, on_delete=models.CASCADE, related_name="product_terms")
    product = models.ForeignKey(
        "catalogue.Product", on_delete=models.CASCADE, related_name="popup_terms"
    )
    units_offered = models.PositiveIntegerField(
        _("units offered"),
        null=True,
        blank=True,
        help_text=_("A cap for this pop-up, apart from warehouse stock. Empty: stock only."),
    )
    units_sold = models.PositiveIntegerField(_("units sold"), default=0, editable=False)
    price = models.DecimalField(
        _("pop-up price"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Empty: the regular price."),
    )
    event_price = models.DecimalField(
        _("event price"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("The price for shoppers who entered the pop-up's unlock code."),
    )
    display_order = models.PositiveSmallIntegerField(_("display order"), default=0)

    class Meta:
        ordering = ["display_order", "pk"]
        verbose_name = _("pop-up product")
        constraints = [
            models.UniqueConstraint(fields=["popup", "product"], name="popup_product_once"),
            # The last line of defence against overselling a pop-up's cap.
            models.CheckConstraint(
                condition=models.Q(units_offered__isnull=True)
                | models.Q(units_sold__lte=models.F("units_offered")),
                name="popup_product_sold_within_offer",
            ),
            models.CheckConstraint(
                condition=models.Q(price__isnull=True) | models.Q(price__gte=0),
                name="popup_product_price_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(event_price__isnull=True) | models.Q(event_price__gte=0),
                name="popup_product_event_price_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} in {self.popup}"

    def clean(self) -> None:
        if self.units_offered is not None and self.units_offered < self.units_sold:
            raise ValidationError(
                {
                    "units_offered": _("%(sold)s units are already sold; offer at least that many.")
                    % {"sold": self.units_sold}
                }
            )


def new_basket_token() -> str:
    return secrets.token_urlsafe(32)


class PopUpBasket(models.Model):
    """A shopper's basket in one pop-up, known by a token the iframe keeps instead of a cookie."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ORDERED = "ordered", _("Ordered")
        PLEDGED = "pledged", _("Pledged")

    popup = models.ForeignKey(PopUp, on_delete=models.CASCADE, related_name="baskets")
    token = models.CharField(max_length=64, unique=True, default=new_basket_token, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    # Checkout: who pays, where it ships, and the payment under way. Saved before Stripe is called.
    email = models.EmailField(blank=True)
    shipping = models.JSONField(default=dict, blank=True)
    payment_attempts = models.PositiveIntegerField(default=0)
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    order = models.OneToOneField(
        "order.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="popup_basket",
    )
    # Where the shopper came from: the page that embedded the pop-up, or a campaign's utm_source.
    source = models.CharField(max_length=120, blank=True, default="")
    # The placement (and through it the ambassador) the shopper arrived by, and the landing URL's
    # utm_* parameters (keys without the prefix). Set when the basket is made, never changed after
    # the checkout started.
    placement = models.ForeignKey(
        "Placement", on_delete=models.SET_NULL, null=True, blank=True, related_name="baskets"
    )
    utm = models.JSONField(default=dict, blank=True)
    # Entered the pop-up's unlock code: event prices apply.
    unlocked = models.BooleanField(default=False)
    # When the shopper first reached the checkout page: counted once per basket, whatever reloads.
    checkout_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("pop-up basket")

    def __str__(self) -> str:
        return f"Basket {self.pk} in {self.popup}"


class Hold(models.Model):
    """Units of one pop-up product reserved for one basket until `reserved_until`.

    An expired hold reserves nothing: every query that counts holds filters on `reserved_until`,
    so no job has to run for units to come back. A periodic task only deletes old rows.
    """

    basket = models.ForeignKey(PopUpBasket, on_delete=models.CASCADE, related_name="holds")
    terms = models.ForeignKey(PopUpProduct, on_delete=models.CASCADE, related_name="holds")
    quantity = models.PositiveIntegerField()
    reserved_until = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("stock hold")
        constraints = [
            models.UniqueConstraint(fields=["basket", "terms"], name="hold_once_per_basket"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="hold_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.terms.product_id} until {self.reserved_until:%H:%M:%S}"


def new_pledge_token() -> str:
    return secrets.token_urlsafe(32)


class Pledge(models.Model):
    """A backer's promise to buy in an all-or-nothing pre-sale: a saved card, charged only if funded.

    Every change of `status` goes through popup.services.pledges, under a row lock, and leaves a
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
    note = models.CharField(max_length=255, blank=True)
    payment_intent_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.status_from or '·'} → {self.status_to}: {self.note}"


class Question(models.Model):
    """A shopper's public question about a pop-up (or one of its products), and the merchant's answer.

    Nothing a shopper writes is shown before staff answer it: an answer publishes the question.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for an answer")
        PUBLISHED = "published", _("Answered and shown")
        HIDDEN = "hidden", _("Hidden")
        SPAM = "spam", _("Held as spam")

    popup = models.ForeignKey(PopUp, on_delete=models.CASCADE, related_name="questions")
    product = models.ForeignKey(
        "catalogue.Product", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    name = models.CharField(_("name"), max_length=60, blank=True)
    email = models.EmailField(_("e-mail"))
    body = models.TextField(_("question"), max_length=1000)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    answer = models.TextField(_("answer"), max_length=2000, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("question")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="published") | models.Q(answered_at__isnull=False),
                name="question_published_is_answered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.body[:40]} ({self.get_status_display()})"

    @property
    def answer_time(self):
        return self.answered_at - self.created_at if self.answered_at else None


class Idea(models.Model):
    """A shopper's suggestion in the pop-up's idea box ("a sage-green version!"), with its votes.

    Shown at once, unless it looks like spam; the merchant sets its status, and when it ships
    everyone who voted for it is told.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        UNDER_REVIEW = "under_review", _("Under review")
        PLANNED = "planned", _("Planned")
        DONE = "done", _("Done")
        DECLINED = "declined", _("Declined")
        HIDDEN = "hidden", _("Hidden")
        SPAM = "spam", _("Held as spam")

    SHOWN = (Status.OPEN, Status.UNDER_REVIEW, Status.PLANNED, Status.DONE, Status.DECLINED)

    popup = models.ForeignKey(PopUp, on_delete=models.CASCADE, related_name="ideas")
    title = models.CharField(_("idea"), max_length=120)
    body = models.TextField(_("details"), max_length=1000, blank=True)
    name = models.CharField(_("name"), max_length=60, blank=True)
    email = models.EmailField(_("e-mail"))
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    # Kept in step with IdeaVote rows by F() updates, so the board sorts without counting.
    votes = models.PositiveIntegerField(default=0)
    shipped_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-votes", "-created_at", "-pk"]
        verbose_name = _("idea")

    def __str__(self) -> str:
        return self.title


class IdeaVote(models.Model):
    """One person's vote for an idea: one per e-mail address, whatever its letter case."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="idea_votes")
    email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)
    # When this voter was told the idea shipped: each voter is told once.
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("idea", Lower("email"), name="idea_vote_once_per_email"),
        ]

    def __str__(self) -> str:
        return f"Vote for {self.idea_id}"


def new_review_token() -> str:
    return secrets.token_urlsafe(32)


class ReviewInvite(models.Model):
    """A buyer's invitation, sent some days after a pop-up order, to review what they bought.

    The token in the e-mailed link is the credential: no account is needed, and every review made
    through it is from someone who really bought the product (the "verified buyer" badge).
    """

    order = models.OneToOneField(
        "order.Order", on_delete=models.CASCADE, related_name="review_invite"
    )
    popup = models.ForeignKey(PopUp, on_delete=models.CASCADE, related_name="review_invites")
    token = models.CharField(max_length=64, unique=True, default=new_review_token, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Review invite for order {self.order_id}"


class VerifiedReview(models.Model):
    """An Oscar product review written through a ReviewInvite: by a buyer of that product."""

    invite = models.ForeignKey(ReviewInvite, on_delete=models.CASCADE, related_name="reviews")
    product = models.ForeignKey("catalogue.Product", on_delete=models.CASCADE, related_name="+")
    review = models.OneToOneField(
        "reviews.ProductReview", on_delete=models.CASCADE, related_name="popup_verified"
    )
    # Optional ratings of one aspect each, 1 to 5 stars, beside Oscar's overall score.
    quality = models.PositiveSmallIntegerField(_("quality"), null=True, blank=True)
    value = models.PositiveSmallIntegerField(_("value for money"), null=True, blank=True)
    as_described = models.PositiveSmallIntegerField(_("as described"), null=True, blank=True)

    ASPECTS = ("quality", "value", "as_described")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["invite", "product"], name="verified_review_once"),
        ]

    def __str__(self) -> str:
        return f"Verified review {self.review_id}"


class Poll(models.Model):
    """A question to the pop-up's audience ("Which colour next?"), one confirmed vote per person."""

    popup = models.ForeignKey(PopUp, on_delete=models.CASCADE, related_name="polls")
    question = models.CharField(_("question"), max_length=200)
    is_open = models.BooleanField(_("open for votes"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("poll")

    def __str__(self) -> str:
        return self.question


class PollOption(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options")
    label = models.CharField(_("option"), max_length=120)
    # Confirmed votes, kept in step by F() updates when a vote is confirmed.
    votes = models.PositiveIntegerField(default=0)
    display_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["display_order", "pk"]

    def __str__(self) -> str:
        return self.label


def new_vote_token() -> str:
    return secrets.token_urlsafe(24)


class PollVote(models.Model):
    """A vote, counted once its e-mail address is confirmed: one per person and poll."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="poll_votes")
    option = models.ForeignKey(PollOption, on_delete=models.CASCADE, related_name="poll_votes")
    email = models.EmailField()
    token = models.CharField(max_length=64, unique=True, default=new_vote_token, editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("poll", Lower("email"), name="poll_vote_once_per_email"),
        ]

    def __str__(self) -> str:
        return f"Vote in poll {self.poll_id}"


class PopUpDayStats(models.Model):
    """A pop-up's first-party funnel for one day: page views, baskets, checkouts, unmet demand.

    Counted without any third-party analytics: popup.services.stats counts in Redis during the
    day and a beat task adds the counts here.
    """

    popup = models.ForeignKey(PopUp, on_delete=models.CASCADE, related_name="day_stats")
    day = models.DateField()
    views = models.PositiveIntegerField(default=0)
    embed_views = models.PositiveIntegerField(default=0)
    baskets = models.PositiveIntegerField(default=0)
    checkouts = models.PositiveIntegerField(default=0)
    # Add-to-basket attempts refused because there were not enough units left.
    unmet = models.PositiveIntegerField(default=0)
    # Baskets whose holds lapsed without a checkout (counted when the expired rows are tidied away).
    holds_expired = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["popup", "day"], name="popup_day_stats_once"),
        ]

    def __str__(self) -> str:
        return f"{self.popup_id} on {self.day}"


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
    """

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
    # Short-link clicks and page views through it (popup.services.stats counts, then adds here).
    clicks = models.PositiveIntegerField(default=0, editable=False)
    views = models.PositiveIntegerField(default=0, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
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


class OutgoingEmail(models.Model):
    """One e-mail of the plugin, recorded before it is handed to the mail server: sent once per key.

    `key` names the message ("pledge_pledged:42"); popup.services.emails sends it under this row's
    lock and sets `sent_at` in the same transaction, so a task run twice, or redelivered after a
    crash, sends nothing more. A failed attempt is counted, with its error, and retried by the task.
    """

    key = models.CharField(max_length=200, unique=True)
    # The CommunicationEventType's code it is sent as, without the language (POPUP_PLEDGE_PLEDGED).
    code = models.CharField(max_length=128)
    to = models.CharField(max_length=254)
    language = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("outgoing e-mail")

    def __str__(self) -> str:
        return f"{self.code} to {self.to} ({'sent' if self.sent_at else 'not sent'})"


class RateCounter(models.Model):
    """How often a key (an address, an e-mail) was used in one window, for rate limits in a store
    without Redis: every process and machine counts on the same row (popup.counters)."""

    key = models.CharField(max_length=255)
    window_start = models.DateTimeField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key", "window_start"], name="popup_rate_counter_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.count} since {self.window_start:%Y-%m-%d %H:%M}"
