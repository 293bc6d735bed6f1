"""Stock holds: units a shopper's basket reserves for a few minutes. They never oversell.

Every change of a hold locks the product's pop-up terms row (SELECT … FOR UPDATE), so two shoppers
racing for the last unit are served one after the other, and counts the other baskets' holds that have
not expired. An expired hold counts for nothing without any job having run.
"""

from collections import Counter
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from oscar.core.loading import get_class

from popup.analytics.counters import rate_count
from popup.analytics.stats import day_stats_add
from popup.conf import popup_settings
from popup.core.selectors import (
    popup_product_ids,
    popup_terms_products,
    product_units_left,
    storefront_item,
)
from popup.errors import Refusal
from popup.http.client_ip import address_key
from popup.locking import terms_locked
from popup.models import Hold, PopUp, PopUpBasket, PopUpProduct

Selector = get_class("partner.strategy", "Selector")

MAX_UNITS_PER_LINE = 99


class HoldRefused(Refusal):
    """Why the units cannot be held, in words for the shopper; `available` when stock is short."""

    def __init__(
        self, message: str, code: str, *, available: int | None = None, status: int | None = None
    ) -> None:
        super().__init__(message, code, available=available, status=status)
        self.available = available


HOUR = 3600


def basket_create(*, popup: PopUp, source: str = "", address: str = "") -> PopUpBasket:
    """A new empty basket in this pop-up, with a fresh unguessable token.

    `source` says where the shopper came from (the embedding site, a utm_source): any text, kept
    short and printable, for the merchant's reports only. `address` is the client's (client_ip):
    it may open POPUP_BASKETS_PER_ADDRESS_PER_HOUR baskets per pop-up, else Refusal (429).
    """
    source = "".join(ch for ch in str(source) if ch.isprintable()).strip()[:120]
    key = address_key(address)
    limit = popup_settings.POPUP_BASKETS_PER_ADDRESS_PER_HOUR
    if (
        key
        and limit is not None
        and rate_count(f"popup-baskets:{popup.pk}:{key}", window=HOUR) > limit
    ):
        raise Refusal(
            _("Too many baskets from your connection. Please try again in an hour."),
            "rate_limited",
            status=429,
        )
    return PopUpBasket.objects.create(popup=popup, source=source, address_key=key)


def _refuse_unless_open(popup: PopUp, now: datetime) -> None:
    state = popup.state_at(now, units_left=None)
    if state == PopUp.State.COMING_SOON:
        opens = date_format(timezone.localtime(popup.opens_at), "j F, H:i")
        raise HoldRefused(_("This pop-up opens on %(when)s.") % {"when": opens}, code="not_open")
    if state != PopUp.State.LIVE:
        raise HoldRefused(_("This pop-up has closed."), code="closed")


def _refuse_beyond_limits(basket: PopUpBasket, terms, quantity: int, active) -> None:
    """The shopper's own limits, in one aggregate:

    - the pop-up's per-customer limit over the basket's lines;
    - no client address holds more than POPUP_UNITS_HELD_PER_ADDRESS units of the pop-up at once,
      whichever of its baskets hold them. Letting units go is always allowed.
    """
    popup = basket.popup
    cap = popup_settings.POPUP_UNITS_HELD_PER_ADDRESS
    by_address = cap is not None and bool(basket.address_key)
    if popup.per_customer_limit is None and not by_address:
        return
    this_line = Q(basket=basket, terms=terms)
    mine = Q(basket=basket)
    address = Q(basket__popup=popup, basket__address_key=basket.address_key) if by_address else mine
    figures = active.filter(mine | address).aggregate(
        line=Sum("quantity", filter=this_line),
        basket_others=Sum("quantity", filter=mine & ~this_line),
        address_others=Sum("quantity", filter=address & ~this_line),
    )
    if popup.per_customer_limit is not None:
        allowed = popup.per_customer_limit - (figures["basket_others"] or 0)
        if quantity > allowed:
            raise HoldRefused(
                _("You can buy %(limit)d units of this pop-up in all.")
                % {"limit": popup.per_customer_limit},
                code="limit",
                available=max(0, allowed),
            )
    if not by_address or quantity <= (figures["line"] or 0):
        return
    held = figures["address_others"] or 0
    if held + quantity > cap:
        raise HoldRefused(
            _(
                "Too many units are already held from your connection. Check out, or let some "
                "go, first."
            ),
            code="address_limit",
            available=max(0, cap - held),
            status=429,
        )


@transaction.atomic
def hold_set(
    *, basket: PopUpBasket, product_id: int, quantity: int, now: datetime | None = None
) -> Hold | None:
    """Make the basket hold exactly `quantity` units of a product (0 lets them go), or refuse.

    Never holds a unit that is sold or held by another basket, nor more than the per-customer limit.
    Each change restarts the timer of the basket's active holds. The product's terms row, which
    every shopper of the product waits for, is locked for as little as can be (see below).
    """
    now = now or timezone.now()
    popup = basket.popup
    # The basket row first (checkout locks it too), then the product's terms: always this order.
    basket = PopUpBasket.objects.select_for_update().get(pk=basket.pk)
    basket.popup = popup
    if basket.status != PopUpBasket.Status.OPEN:
        raise HoldRefused(_("This basket has already been checked out."), code="checked_out")
    if not 0 <= quantity <= MAX_UNITS_PER_LINE:
        raise HoldRefused(_("Choose between 0 and %d units.") % MAX_UNITS_PER_LINE, code="quantity")

    if quantity == 0:
        Hold.objects.filter(basket=basket, terms__product_id=product_id).delete()
        return None

    # First what the catalogue, this basket and its address decide, without the product's lock.
    _refuse_unless_open(popup, now)
    if product_id not in popup_product_ids(popup):
        raise HoldRefused(_("This product is not sold in this pop-up."), code="unknown_product")
    found = popup_terms_products(popup=popup, product_ids=[product_id], now=now, held=False)
    if not found:  # a product of the pop-up's range without terms of its own yet
        PopUpProduct.objects.get_or_create(popup=popup, product_id=product_id)
        found = popup_terms_products(popup=popup, product_ids=[product_id], now=now, held=False)
    (product,) = found
    terms = product.popup_terms_here[0]
    terms.units_held = 0
    item = storefront_item(popup=popup, product=product, strategy=Selector().strategy())
    if item.price is None:
        raise HoldRefused(_("This product is not on sale yet."), code="no_price")
    active = Hold.objects.active(now)
    _refuse_beyond_limits(basket, terms, quantity, active)
    reserved_until = now + timedelta(minutes=popup.hold_minutes)
    # The basket's other lines restart their timer (undone with the rest if this one is refused).
    active.filter(basket=basket).exclude(terms=terms).update(reserved_until=reserved_until)

    # Then the product's row, which every shopper of the product waits for: locked for three
    # statements, the units held by the others (counted once the lock is ours), this hold, commit.
    terms = terms_locked([terms.pk])[terms.pk]
    terms.units_held = (
        active.filter(terms=terms).exclude(basket=basket).aggregate(units=Sum("quantity"))["units"]
        or 0
    )
    left = product_units_left(product, terms, item.stockrecord, kind=popup.kind)
    if left is not None and quantity > left:
        message = (
            _("Sold out: every unit is sold or in someone's basket.")
            if left == 0
            else _("Only %(n)d left.") % {"n": left}
        )
        raise HoldRefused(message, code="not_enough", available=left)
    (hold,) = Hold.objects.bulk_create(
        [Hold(basket=basket, terms=terms, quantity=quantity, reserved_until=reserved_until)],
        update_conflicts=True,
        unique_fields=["basket", "terms"],
        update_fields=["quantity", "reserved_until"],
    )
    return hold


@transaction.atomic
def holds_delete_expired(*, older_than: timedelta = timedelta(hours=1)) -> int:
    """Delete hold rows expired for a while (they already reserve nothing); returns how many.

    Each basket whose holds lapsed is counted in its pop-up's `holds_expired` for the day they
    lapsed: a basket that checked out has no holds left to expire. Rows locked by a concurrent run
    are skipped, so no basket is counted twice.
    """
    expired = list(
        Hold.objects.select_for_update(skip_locked=True, of=("self",))
        .lapsed(timezone.now() - older_than)
        .values_list("pk", "basket_id", "basket__popup_id", "reserved_until")
    )
    first_lapse = {}
    for _pk, basket_id, popup_id, until in expired:
        key = (popup_id, basket_id)
        first_lapse[key] = min(until, first_lapse.get(key, until))
    lapsed = Counter(
        (popup_id, timezone.localdate(until))
        for (popup_id, _basket_id), until in first_lapse.items()
    )
    deleted, _by_model = Hold.objects.filter(pk__in=[row[0] for row in expired]).delete()
    for (popup_id, day), count in lapsed.items():
        day_stats_add(popup_id=popup_id, day=day, event="holds_expired", count=count)
    return deleted
