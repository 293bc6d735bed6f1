"""The pop-up, the products it offers on its own terms, its anonymous baskets and their holds."""

import secrets
from functools import cache
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# Path segments under the plugin's prefix kept for it, besides the first segments of its URLs.
RESERVED_SLUGS = frozenset({"static", "api", "embed", "stream"})  # stream: popup.stream


@cache  # the URLs are fixed for the life of the process
def reserved_slugs() -> frozenset[str]:
    """Slugs a pop-up cannot have: the first path segment of every fixed URL the plugin (with its
    installed integrations) serves, as popup.site_urls mounts them, and RESERVED_SLUGS."""
    from django.urls import URLResolver

    from popup import site_urls

    def first_segments(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from first_segments(pattern.url_patterns)
                continue
            text = str(pattern.pattern).lstrip("^")
            first = text.split("/", 1)[0].rstrip("$")
            if first and not any(mark in first for mark in "<(?[\\"):
                yield first.replace("\\.", ".")

    return RESERVED_SLUGS | frozenset(first_segments(site_urls.urlpatterns))


def validate_slug_not_reserved(value: str) -> None:
    if value in reserved_slugs():
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


def origin_cut(text: str) -> str:
    """The origin of a pasted page address (https://www.instagram.com/atelier.nord →
    https://www.instagram.com); anything else as it is, for validate_origins to judge."""
    try:
        parts = urlsplit(text.strip())
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # not a port number, a broken IPv6 address
        return text
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return text
    return f"{parts.scheme}://{parts.hostname}{port}"


def page_on_origins(*, url: str, origins: list[str]) -> str:
    """The address of a page on one of `origins` (parse_origins's, as a browser reads them in
    frame-ancestors: https://*.myblog.com covers the blog's subdomains), rebuilt from the parts
    that were checked, without its query; "" for a page anywhere else, and for an address that a
    browser could read otherwise than Python does (a backslash, a space or control character,
    user info before the host, an IPv6 host) or longer than 500 characters."""
    if len(url) > 500 or not url.isprintable() or any(ch in url for ch in "\\ "):
        return ""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return ""
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host or ":" in host or "@" in parts.netloc:
        return ""
    for origin in origins:
        allowed_scheme, _, allowed_host = origin.partition("://")
        if allowed_scheme == parts.scheme and (
            allowed_host == host + port
            or (allowed_host.startswith("*.") and (host + port).endswith(allowed_host[1:]))
        ):
            return urlunsplit((parts.scheme, host + port, parts.path or "/", "", ""))
    return ""


def validate_origins(text: str) -> None:
    errors = []
    for origin in parse_origins(text):
        try:
            parts = urlsplit(origin)
            port_ok = parts.port is None or parts.port > 0
        except ValueError:  # not a number, out of range, a broken IPv6 address
            errors.append(origin)
            continue
        host = parts.hostname or ""
        valid_host = host and all(label for label in host.removeprefix("*.").split("."))
        if (
            parts.scheme not in ("http", "https")
            or not (valid_host and port_ok)
            or parts.path
            or parts.query
        ):
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
    # The range was made for this pop-up (from the products picked in the dashboard): deleting the
    # pop-up deletes it too, unless an offer or another pop-up uses it.
    owns_range = models.BooleanField(default=False, editable=False)
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    is_published = models.BooleanField(
        _("published"), default=False, help_text=_("Drafts are visible to staff only.")
    )
    # Set instead of deleting a pop-up that orders, pledges or payments went through: unpublished
    # (hidden from shoppers like a draft) and listed apart in the dashboard. Publishing clears it.
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True, editable=False)
    # When it was first published: its prices were offered to the public from then on, whatever
    # happens to it later (popup.core.reductions). Set by popup.receivers.
    first_published_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The language its page speaks to a shopper whose browser asks for none the store offers, and
    # to link previews (popup.core.languages); empty: the store's default.
    language = models.CharField(
        _("default language"),
        max_length=16,
        blank=True,
        default="",
        help_text=_(
            "The pop-up speaks each shopper's language when the store offers it; this one otherwise."
        ),
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
        # As bytes: compare_digest refuses str with letters beyond ASCII ("ÉTÉ").
        return bool(self.unlock_code) and secrets.compare_digest(
            code.strip().upper().encode(), self.unlock_code.upper().encode()
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
        OPEN = "open", pgettext_lazy("basket status", "Open")
        ORDERED = "ordered", _("Ordered")
        PLEDGED = "pledged", _("Pledged")

    popup = models.ForeignKey(PopUp, on_delete=models.CASCADE, related_name="baskets")
    token = models.CharField(max_length=64, unique=True, default=new_basket_token, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    # Checkout: who pays, where it ships, and the payment under way. Saved before Stripe is called.
    email = models.EmailField(blank=True)
    # The address as the per-customer limit compares it (popup.checkout.customers.email_key).
    email_key = models.CharField(max_length=320, blank=True, default="")
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
    # Who opened it, as popup.http.client_ip.address_key: for the per-address caps, never shown.
    address_key = models.CharField(max_length=32, blank=True, default="", editable=False)
    # The placement (and through it the ambassador) the shopper arrived by, and the landing URL's
    # utm_* parameters (keys without the prefix). Set when the basket is made, never changed after
    # the checkout started.
    placement = models.ForeignKey(
        "Placement", on_delete=models.SET_NULL, null=True, blank=True, related_name="baskets"
    )
    utm = models.JSONField(default=dict, blank=True)
    # An ad platform's click: Meta's fbclid and cart_origin (facebook, instagram, meta_shops), kept
    # for the merchant's conversion reports like utm_*, and erased with the shopper's other data.
    ad_click = models.JSONField(default=dict, blank=True)
    # Entered the pop-up's unlock code: event prices apply.
    unlocked = models.BooleanField(default=False)
    # When the shopper first reached the checkout page: counted once per basket, whatever reloads.
    checkout_at = models.DateTimeField(null=True, blank=True)
    # How often the shopper asked for more time on the hold (popup.core.holds.hold_extend_in).
    hold_extensions = models.PositiveSmallIntegerField(default=0)
    # The page that embedded the pop-up, as its loader told it (one of the pop-up's allowed embed
    # origins): the shopper's way back after paying. In-app browsers hide the real referrer.
    return_url = models.URLField(max_length=500, blank=True, default="", editable=False)
    # The language the shopper saw the pop-up in: the checkout and the e-mails speak it.
    language = models.CharField(max_length=16, blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("pop-up basket")
        indexes = [
            models.Index(fields=["popup", "email_key"], name="popup_basket_customer"),
            models.Index(fields=["popup", "address_key"], name="popup_basket_address"),
        ]

    def __str__(self) -> str:
        return f"Basket {self.pk} in {self.popup}"


def holds_active_q(now, *, through: str = "") -> models.Q:
    """The condition for holds still reserving units at `now`; `through` names the path to them
    from another model, e.g. "holds__" from PopUpProduct."""
    return models.Q(**{f"{through}reserved_until__gt": now})


class HoldQuerySet(models.QuerySet):
    def active(self, now) -> "HoldQuerySet":
        """The holds that still reserve their units at `now`."""
        return self.filter(holds_active_q(now))

    def lapsed(self, now) -> "HoldQuerySet":
        """The holds that reserve nothing any more (kept until a tidy deletes them)."""
        return self.exclude(holds_active_q(now))


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

    objects = HoldQuerySet.as_manager()

    class Meta:
        verbose_name = _("stock hold")
        constraints = [
            models.UniqueConstraint(fields=["basket", "terms"], name="hold_once_per_basket"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="hold_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.terms.product_id} until {self.reserved_until:%H:%M:%S}"
