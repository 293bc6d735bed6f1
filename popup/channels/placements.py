"""Placements and ambassadors: where a pop-up is placed, who sells it, and what each brought in.

Attribution is first-party and rides on the basket: the placement a shopper arrived by is stored on
their PopUpBasket, so a checkout counts once whatever the page reloads, and an order is attributed
exactly once, inside the transaction that places it.
"""

import hashlib
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from oscar.core.loading import get_class

from popup.analytics.counters import rate_count
from popup.analytics.stats import placement_count, stat_count
from popup.feedback.shopper_input import Refused, email_or_none, ip_key, limit_reached, over_limit
from popup.models import Ambassador, Commission, Placement, PopUp, PopUpBasket
from popup.notifications.tasks import ambassador_invite_email_send
from popup.payments import DISPUTE_LOST
from popup.queueing import task_queue_on_commit

EventHandler = get_class("order.processing", "EventHandler")

UTM_KEYS = ("source", "medium", "campaign", "term", "content")
UTM_MAX_LENGTH = 120
# What an ad platform adds to the links it sends shoppers by (Meta: its click id, and where the
# cart was filled: facebook, instagram or meta_shops), kept as PopUpBasket.ad_click.
AD_CLICK_KEYS = {"fbclid": 255, "cart_origin": 40}
CENT = Decimal("0.01")
AD_CLICK_IN_NOTE = re.compile(r"fbclid=\S+")


def utm_clean(raw) -> dict[str, str]:
    """The five utm_* values (keys without the prefix), printable text of 120 characters at most."""
    if not isinstance(raw, dict):
        return {}
    clean = {}
    for key in UTM_KEYS:
        value = raw.get(key)
        if isinstance(value, str):
            value = "".join(ch for ch in value if ch.isprintable()).strip()[:UTM_MAX_LENGTH]
            if value:
                clean[key] = value
    return clean


def ad_click_clean(raw) -> dict[str, str]:
    """fbclid and cart_origin from a landing URL's query: printable text, each cut to its length."""
    clean = {}
    for key, limit in AD_CLICK_KEYS.items():
        value = raw.get(key) if hasattr(raw, "get") else None
        if isinstance(value, str):
            value = "".join(ch for ch in value if ch.isprintable() and not ch.isspace())[:limit]
            if value:
                clean[key] = value
    return clean


def placement_find(*, popup: PopUp, code) -> Placement | None:
    """The pop-up's active placement with that code, or None for anything else."""
    if not isinstance(code, str) or not code or len(code) > 12:
        return None
    return (
        Placement.objects.select_related("ambassador")
        .filter(popup=popup, code=code, is_active=True)
        .first()
    )


def placement_create(
    *,
    popup: PopUp,
    name: str,
    ambassador: Ambassador | None = None,
    landing_url: str = "",
    channel: str = "",
) -> Placement:
    """A new placement with its own short code; an ambassador, and a channel (Placement.Channel),
    has one placement per pop-up, returned when it exists. `landing_url`: where the placement's
    link sits (a bio, a post), the way back after paying."""

    def existing() -> Placement | None:
        if ambassador is not None:
            return Placement.objects.filter(popup=popup, ambassador=ambassador).first()
        if channel:
            return Placement.objects.filter(popup=popup, channel=channel).first()
        return None

    if (found := existing()) is not None:
        return found
    for _attempt in range(5):  # eight characters of 31: a collision is rare, never fatal
        try:
            with transaction.atomic():
                return Placement.objects.create(
                    popup=popup,
                    name=name,
                    ambassador=ambassador,
                    landing_url=landing_url,
                    channel=channel,
                )
        except IntegrityError:  # the code taken, or the same one made a moment ago
            if (found := existing()) is not None:
                return found
    raise RuntimeError("Could not find a free placement code.")


def channel_placement_get(*, popup: PopUp, channel: str, create: bool = True) -> Placement | None:
    """The pop-up's placement for a channel (Placement.Channel), made the first time when `create`,
    named in the store's language (the merchant may rename it; a switched-off one stays off)."""
    if not create:
        return Placement.objects.filter(popup=popup, channel=channel).first()
    with translation.override(settings.LANGUAGE_CODE):
        name = str(Placement.Channel(channel).label)
    return placement_create(popup=popup, name=name, channel=channel)


@dataclass(frozen=True)
class Arrival:
    """How the shopper arrived at the pop-up page: by which placement, campaign and code."""

    placement: Placement | None = None
    unlock_code: str = ""  # the pop-up's unlock code, when the shopper gave it
    code_refused: bool = False  # a code was given that opens nothing here
    utm: dict = field(default_factory=dict)

    @property
    def unlocked(self) -> bool:
        return bool(self.unlock_code)

    @property
    def placement_code(self) -> str:
        return self.placement.code if self.placement is not None else ""

    @property
    def ambassador(self) -> Ambassador | None:
        return self.placement.ambassador if self.placement is not None else None


# Wrong codes an IP address may try in an hour. Right codes are never counted, so a crowd on an
# event's Wi-Fi (one address) is not locked out; past the limit every code is refused, the right one
# too, so guessing stops there.
WRONG_CODES_PER_HOUR = 30


def _code_key(client_ip: str) -> str:
    return f"popup-code:{ip_key(client_ip)}"


def _codes_exhausted(client_ip: str) -> bool:
    return limit_reached(_code_key(client_ip), WRONG_CODES_PER_HOUR)


def _wrong_code_count(client_ip: str, code: str) -> None:
    """Count a wrong code against the address, once an hour per code: a page reloaded, or a
    checkout link's page then its form, are one try; guessing is a new code each time."""
    digest = hashlib.sha256(code.strip().upper().encode()).hexdigest()[:16]
    if rate_count(f"popup-code-seen:{ip_key(client_ip)}:{digest}", window=3600) == 1:
        over_limit(_code_key(client_ip), WRONG_CODES_PER_HOUR)


def unlock_try(*, popup: PopUp, code: str, client_ip: str) -> bool:
    """Whether `code` unlocks the pop-up, counting a wrong one against the address's hourly tries."""
    if not code or _codes_exhausted(client_ip):
        return False
    if popup.unlocks_with(code):
        return True
    _wrong_code_count(client_ip, code)
    return False


@dataclass(frozen=True)
class Coupon:
    """What a code given with a link (a checkout link's coupon) opens: the pop-ups among those it
    names that it unlocks, or an ambassador; `refused` when it opens nothing (or the address has
    tried too many)."""

    code: str = ""
    unlocks: frozenset[int] = frozenset()
    ambassador: Ambassador | None = None
    refused: bool = False


def coupon_read(*, popups, code: str, client_ip: str) -> Coupon:
    """The code as an unlock code of one of `popups`, else as an active ambassador's code. Only a
    code that opens nothing counts against the address's hourly tries (see unlock_try)."""
    code = "".join(ch for ch in code or "" if ch.isprintable()).strip()[:40]
    if not code:
        return Coupon()
    if _codes_exhausted(client_ip):
        return Coupon(code=code, refused=True)
    unlocks = frozenset(popup.pk for popup in popups if popup.unlocks_with(code))
    if unlocks:
        return Coupon(code=code, unlocks=unlocks)
    ambassador = Ambassador.objects.filter(code=code.upper(), is_active=True).first()
    if ambassador is not None:
        return Coupon(code=code, ambassador=ambassador)
    _wrong_code_count(client_ip, code)
    return Coupon(code=code, refused=True)


def ambassador_placement_get(
    *, popup: PopUp, ambassador: Ambassador, create: bool = True
) -> Placement | None:
    """The ambassador's placement for this pop-up (made if new when `create`, named in the store's
    language), None when it is switched off."""
    if create:
        with translation.override(settings.LANGUAGE_CODE):
            name = _("Ambassador: %(name)s") % {"name": ambassador.name}
        placement = placement_create(popup=popup, name=name, ambassador=ambassador)
    else:
        placement = Placement.objects.filter(popup=popup, ambassador=ambassador).first()
    # An ambassador's placement switched off here gives nothing, like an unknown code.
    return placement if placement is not None and placement.is_active else None


def _ambassador_placement(*, popup: PopUp, code: str) -> Placement | None:
    """The active placement for this pop-up of the active ambassador with `code` (made if new)."""
    ambassador = Ambassador.objects.filter(code=code.upper(), is_active=True).first()
    if ambassador is None:
        return None
    return ambassador_placement_get(popup=popup, ambassador=ambassador)


def arrival_record(*, popup: PopUp, query, client_ip: str = "", count: bool = True) -> Arrival:
    """Record an arrival from the landing URL: ?pl=<placement>, ?code=<unlock or ambassador code>, utm_*.

    A valid ambassador code attributes the visit to the ambassador's placement for this pop-up
    (made the first time). Only codes that open nothing count against the address's hourly
    tries (see unlock_try). `count`: count a view for the placement.
    """
    utm = utm_clean({key: query.get(f"utm_{key}") for key in UTM_KEYS})
    placement = placement_find(popup=popup, code=query.get("pl"))
    code = (query.get("code") or "").strip()[:40]
    unlock_code, refused = "", False
    if code:
        if _codes_exhausted(client_ip):
            refused = True
        elif popup.unlocks_with(code):
            unlock_code = popup.unlock_code
        elif (chosen := _ambassador_placement(popup=popup, code=code)) is not None:
            placement = chosen
        else:
            _wrong_code_count(client_ip, code)
            refused = True
    if placement is not None and count:
        placement_count(placement_id=placement.pk, event="views")
    return Arrival(placement=placement, unlock_code=unlock_code, code_refused=refused, utm=utm)


def basket_attribute(
    *, basket: PopUpBasket, placement_code="", utm=None, unlocked: bool = False, ad_click=None
) -> bool:
    """Attribute the basket to the placement and campaign the shopper last arrived by.

    The last arrival wins until the checkout starts; from then on the basket's attribution is fixed,
    so the amount being paid and the commission it earns cannot change under the payment.
    `unlocked`: the shopper gave the unlock code (see unlock_try), so event prices apply.
    `ad_click`: the landing URL's query, for its fbclid and cart_origin (ad_click_clean).
    Returns whether anything changed.
    """
    placement = placement_find(popup=basket.popup, code=placement_code)
    utm = utm_clean(utm)
    ad_click = ad_click_clean(ad_click or {})
    changes = {}
    if placement is not None and placement.pk != basket.placement_id:
        changes["placement"] = placement
    if utm and utm != basket.utm:
        changes["utm"] = utm
    if ad_click and ad_click != basket.ad_click:
        changes["ad_click"] = ad_click
    if unlocked and not basket.unlocked:
        changes["unlocked"] = True
    if not changes:
        return False
    updated = PopUpBasket.objects.filter(
        pk=basket.pk, status=PopUpBasket.Status.OPEN, checkout_at__isnull=True
    ).update(**changes, updated_at=timezone.now())
    if updated:
        for field, value in changes.items():
            setattr(basket, field, value)
    return bool(updated)


def basket_checkout_mark(*, basket: PopUpBasket) -> bool:
    """Record that the basket reached the checkout page, which freezes its attribution; True only
    the first time, whoever asks (the pop-up's checkout is counted then)."""
    now = timezone.now()
    marked = PopUpBasket.objects.filter(pk=basket.pk, checkout_at__isnull=True).update(
        checkout_at=now
    )
    if marked:
        basket.checkout_at = now
        stat_count(popup_id=basket.popup_id, event="checkouts")
    return bool(marked)


def basket_checkout_start(*, basket: PopUpBasket) -> None:
    """A payment starts: the basket reaches the checkout now if no page marked it before (a shopper
    paying through the API alone), so its attribution is frozen from here. The caller holds the
    basket's row lock and saves it (one UPDATE of the row, not two: a second UPDATE in the same
    transaction makes PostgreSQL check its foreign keys at commit, locking the pop-up's row); the
    checkout is counted once the transaction commits."""
    if basket.checkout_at is None:
        basket.checkout_at = timezone.now()
        transaction.on_commit(partial(stat_count, popup_id=basket.popup_id, event="checkouts"))


def payment_metadata(basket: PopUpBasket) -> dict[str, str]:
    """What Stripe keeps about the basket's origin, next to the payment (values are strings)."""
    metadata = {"popup_basket": str(basket.pk), "popup": basket.popup.slug}
    placement = basket.placement
    if placement is not None:
        metadata["popup_placement"] = placement.code
        metadata["popup_placement_name"] = placement.name[:500]
        if placement.ambassador_id:
            metadata["popup_ambassador"] = str(placement.ambassador_id)
    for key, value in basket.utm.items():
        metadata[f"utm_{key}"] = value
    metadata.update(basket.ad_click)  # fbclid, cart_origin: what a conversion report matches on
    return metadata


def order_attribute(*, basket: PopUpBasket, order) -> Commission | None:
    """Note the order's origin on the Oscar order and, for an ambassador, fix their commission.

    Called inside the transaction that places the order; an order is attributed once (the
    commission's order is unique), whatever retries or webhooks call it again.
    """
    placement = basket.placement
    parts = []
    if placement is not None:
        parts.append(
            _("Placement: %(name)s (%(code)s).") % {"name": placement.name, "code": placement.code}
        )
    if basket.utm:
        parts.append(
            "UTM: " + ", ".join(f"utm_{key}={value}" for key, value in sorted(basket.utm.items()))
        )
    if basket.ad_click:
        parts.append(
            _("Ad click: %(values)s.")
            % {
                "values": ", ".join(
                    f"{key}={value}" for key, value in sorted(basket.ad_click.items())
                )
            }
        )
    if parts and not order.notes.filter(message__startswith=parts[0]).exists():
        EventHandler().create_note(order, " ".join(parts), note_type="System")
    ambassador = placement.ambassador if placement is not None else None
    if ambassador is None or not ambassador.is_active:
        return None
    basis = order.basket_total_incl_tax
    amount = (basis * ambassador.commission_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    commission, _created = Commission.objects.get_or_create(
        order=order,
        defaults={
            "ambassador": ambassador,
            "placement": placement,
            "basis": basis,
            "rate": ambassador.commission_percent,
            "amount": amount,
            "currency": order.currency,
        },
    )
    return commission


def order_note_without_ad_click(text: str) -> str:
    """An order's note without the ad click id order_attribute wrote in it (the shopper's
    erasure, the retention of baskets' data)."""
    return AD_CLICK_IN_NOTE.sub("fbclid=…", text)


def ambassador_code_valid(code: str) -> str:
    code = (code or "").strip().upper()
    if not code or len(code) > 20 or not code.isalnum() or not code.isascii():
        raise Refused(_("A code is capital letters and digits, 20 at most."), code="bad_code")
    return code


@transaction.atomic
def ambassador_invite(
    *,
    popup: PopUp,
    name: str,
    email: str,
    kind: str = Ambassador.Kind.FAN,
    code: str = "",
    discount_percent: Decimal = Decimal("0"),
    commission_percent: Decimal = Decimal("10"),
) -> Placement:
    """Make (or find, by e-mail) the ambassador and their placement for the pop-up; e-mail them.

    An ambassador already known keeps their code and terms: changing those is an edit, not an
    invitation. Returns their placement for this pop-up.
    """
    email = email_or_none(email)
    if email is None:
        raise Refused(_("Enter a valid e-mail address."), code="bad_email")
    ambassador = Ambassador.objects.filter(email__iexact=email).first()
    if ambassador is None:
        code = ambassador_code_valid(code or _code_from(name))
        if Ambassador.objects.filter(code=code).exists():
            raise Refused(
                _("The code %(code)s is taken; choose another.") % {"code": code}, code="taken"
            )
        try:
            with transaction.atomic():
                ambassador = Ambassador.objects.create(
                    name=name.strip()[:80] or email,
                    email=email,
                    kind=kind,
                    code=code,
                    discount_percent=discount_percent,
                    commission_percent=commission_percent,
                )
        except IntegrityError as error:  # the same code or address, invited a moment ago
            raise Refused(
                _("That code or address was just taken; check the ambassadors list."),
                code="taken",
            ) from error
    placement = placement_create(
        popup=popup,
        name=_("Ambassador: %(name)s") % {"name": ambassador.name},
        ambassador=ambassador,
    )
    Ambassador.objects.filter(pk=ambassador.pk).update(invited_at=timezone.now())
    task_queue_on_commit(ambassador_invite_email_send, ambassador.pk, placement.pk)
    return placement


def _code_from(name: str) -> str:
    letters = "".join(ch for ch in name.upper() if ch.isascii() and ch.isalnum())[:12]
    return letters or "FRIEND"


@transaction.atomic
def commission_refund_apply(*, order) -> Commission | None:
    """Withdraw the commission on what was refunded of the order (or lost to a chargeback), while
    it is not paid yet.

    Recomputed from the order's totals each time, so it can run for every refund, twice or out of
    order. A commission already paid stays as paid (settle a refund after it by hand).
    """
    commission = (
        Commission.objects.select_for_update().filter(order=order, paid_at__isnull=True).first()
    )
    if commission is None:
        return None
    refunded = sum((source.amount_refunded for source in order.sources.all()), Decimal("0"))
    charged_back = order.payment_events.filter(event_type__name=DISPUTE_LOST).aggregate(
        amount=Sum("amount")
    )["amount"]
    refunded += charged_back or 0
    goods = min(refunded, commission.basis)
    withdrawn = (goods * commission.rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    Commission.objects.filter(pk=commission.pk).update(refunded=min(withdrawn, commission.amount))
    commission.refresh_from_db()
    return commission


@transaction.atomic
def commissions_mark_paid(*, ambassador: Ambassador, reference: str = "") -> tuple[int, Decimal]:
    """Mark every commission due to the ambassador as paid now; returns how many and how much.

    The rows are locked first, so two clicks on "mark paid" cannot both count the same commission.
    """
    due = list(
        Commission.objects.select_for_update()
        .filter(ambassador=ambassador, paid_at__isnull=True)
        .order_by("pk")
        .values_list("pk", F("amount") - F("refunded"))
    )
    if not due:
        return 0, Decimal("0")
    Commission.objects.filter(pk__in=[pk for pk, _amount in due]).update(
        paid_at=timezone.now(), paid_reference=reference.strip()[:120]
    )
    return len(due), sum((amount for _pk, amount in due), Decimal("0"))
