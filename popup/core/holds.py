"""Stock holds: units a shopper's basket reserves for a few minutes. They never oversell.

Every change of a hold locks the product's pop-up terms row (SELECT … FOR UPDATE), so two shoppers
racing for the last unit are served one after the other, and counts the other baskets' holds that have
not expired. An expired hold counts for nothing without any job having run.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Q, prefetch_related_objects
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from oscar.core.loading import get_class

from popup.analytics.counters import rate_count
from popup.analytics.stats import day_stats_add
from popup.conf import popup_settings
from popup.core.pushes import live_changed
from popup.core.selectors import (
    BasketSummary,
    basket_in,
    basket_priced,
    popup_product_ids,
    popup_products_kept,
    popup_terms_products,
    product_units_left,
    storefront_item,
)
from popup.errors import Refusal
from popup.http.client_ip import address_key
from popup.locking import terms_locked
from popup.models import Hold, Placement, PopUp, PopUpBasket, PopUpProduct, page_on_origins

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


def basket_create(
    *,
    popup: PopUp,
    source: str = "",
    address: str = "",
    return_url: str = "",
    language: str = "",
) -> PopUpBasket:
    """A new empty basket in this pop-up, with a fresh unguessable token.

    `source` says where the shopper came from (the embedding site, a utm_source): any text, kept
    short and printable, for the merchant's reports only. `return_url`: the page that embedded the
    pop-up, kept only when it is on one of the pop-up's allowed embed origins (a link back to any
    other site would be an open door for phishing). `language`: the one the shopper sees the pop-up
    in, for the checkout and the e-mails. `address` is the client's (client_ip):
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
    return PopUpBasket.objects.create(
        popup=popup,
        source=source,
        address_key=key,
        return_url=page_on_origins(url=return_url, origins=popup.embed_origins),
        language=language,
    )


def _refuse_unless_open(popup: PopUp, now: datetime) -> None:
    state = popup.state_at(now, units_left=None)
    if state == PopUp.State.COMING_SOON:
        opens = date_format(timezone.localtime(popup.opens_at), "j F, H:i")
        raise HoldRefused(_("This pop-up opens on %(when)s.") % {"when": opens}, code="not_open")
    if state != PopUp.State.LIVE:
        raise HoldRefused(_("This pop-up has closed."), code="closed")


def _holds_of(basket: PopUpBasket, now: datetime) -> tuple[list[Hold], int]:
    """The basket's holds with their terms, in its lines' order, and the units its client address
    holds in the pop-up's other baskets at `now` (for the per-address cap), in one read."""
    rows = Hold.objects.filter(basket=basket)
    if popup_settings.POPUP_UNITS_HELD_PER_ADDRESS is not None and basket.address_key:
        address = Q(popup=basket.popup_id, address_key=basket.address_key)
        rows = Hold.objects.filter(basket__in=PopUpBasket.objects.filter(Q(pk=basket.pk) | address))
    rows = rows.select_related("terms")
    holds, address_held = [], 0
    for hold in rows:
        if hold.basket_id == basket.pk:
            holds.append(hold)
        elif hold.reserved_until > now:
            address_held += hold.quantity
    holds.sort(key=_line_order)
    return holds, address_held


def _line_order(hold: Hold) -> tuple[int, int]:
    return hold.terms.display_order, hold.pk


def _refuse_beyond_limits(
    basket: PopUpBasket, product_id: int, quantity: int, *, holds, address_held: int, now
) -> None:
    """The shopper's own limits, from the basket's `holds` and the units `address_held` in the
    pop-up's other baskets from the same client address:

    - the pop-up's per-customer limit over the basket's lines;
    - no client address holds more than POPUP_UNITS_HELD_PER_ADDRESS units of the pop-up at once,
      whichever of its baskets hold them. Letting units go is always allowed.
    """
    popup = basket.popup
    active = [hold for hold in holds if hold.reserved_until > now]
    line = sum(hold.quantity for hold in active if hold.terms.product_id == product_id)
    others = sum(hold.quantity for hold in active if hold.terms.product_id != product_id)
    if popup.per_customer_limit is not None:
        allowed = popup.per_customer_limit - others
        if quantity > allowed:
            raise HoldRefused(
                ngettext(
                    "You can buy %(limit)d unit of this pop-up in all.",
                    "You can buy %(limit)d units of this pop-up in all.",
                    popup.per_customer_limit,
                )
                % {"limit": popup.per_customer_limit},
                code="limit",
                available=max(0, allowed),
            )
    cap = popup_settings.POPUP_UNITS_HELD_PER_ADDRESS
    if cap is None or not basket.address_key or quantity <= line:
        return
    held = address_held + others
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


@dataclass(frozen=True)
class HoldChange:
    """A basket after hold_set: its summary, the pop-up's state by the clock, and the units left
    of the products whose figure the change knows (the one held: units no one else holds now)."""

    summary: BasketSummary
    state: PopUp.State
    units_left: dict[int, int | None]


def hold_set(
    *,
    basket: PopUpBasket,
    product_id: int,
    quantity: int,
    now: datetime | None = None,
    strategy=None,
) -> HoldChange:
    """Make the basket hold exactly `quantity` units of a product (0 lets them go), or refuse.

    Never holds a unit that is sold or held by another basket, nor more than the per-customer limit.
    Each change restarts the timer of the basket's active holds. The product's terms row, which
    every shopper of the product waits for, is locked for as little as can be (see _hold_change).
    """
    with transaction.atomic():
        return _hold_change(
            basket=basket, product_id=product_id, quantity=quantity, now=now, strategy=strategy
        )


@transaction.atomic
def hold_set_in(
    *, slug: str, token: str, user=None, product_id: int, quantity: int, strategy=None
) -> HoldChange:
    """hold_set for the open basket with this token in the pop-up with this slug, as basket_in
    finds it (404 otherwise), read and locked in one statement: the basket API's hold."""
    basket = basket_in(slug=slug, token=token, user=user, for_update=True)
    return _hold_change(
        basket=basket, product_id=product_id, quantity=quantity, strategy=strategy, locked=True
    )


def _hold_change(
    *,
    basket: PopUpBasket,
    product_id: int,
    quantity: int,
    now: datetime | None = None,
    strategy=None,
    locked: bool = False,
) -> HoldChange:
    """hold_set's work, inside the caller's transaction; `locked`: the caller read the basket FOR
    UPDATE in it, so it is as it stands."""
    now = now or timezone.now()
    popup = basket.popup
    strategy = strategy or Selector().strategy()
    # The basket row first (checkout locks it too), then the product's terms: always this order.
    if not locked:  # read again under the lock, what may have changed since the caller read it
        status, unlocked, placement_id = (
            PopUpBasket.objects.select_for_update()
            .values_list("status", "unlocked", "placement_id")
            .get(pk=basket.pk)
        )
        basket.status, basket.unlocked = status, unlocked
        if placement_id != basket.placement_id:
            placements = Placement.objects.select_related("ambassador").filter(pk=placement_id)
            basket.placement = placements.first() if placement_id else None
    if basket.status != PopUpBasket.Status.OPEN:
        raise HoldRefused(_("This basket has already been checked out."), code="checked_out")
    if not 0 <= quantity <= MAX_UNITS_PER_LINE:
        raise HoldRefused(_("Choose between 0 and %d units.") % MAX_UNITS_PER_LINE, code="quantity")
    holds, address_held = _holds_of(basket, now)

    if quantity == 0:
        Hold.objects.filter(basket=basket, terms__product_id=product_id).delete()
        live_changed(popup_id=popup.pk)
        holds = [hold for hold in holds if hold.terms.product_id != product_id]
        products = popup_terms_products(
            popup=popup, product_ids={product_id, *_products_of(holds)}, now=now
        )
        items = [_item(popup, product, strategy, basket) for product in products]
        return HoldChange(
            summary=basket_priced(basket=basket, holds=holds, items=items, now=now),
            state=popup.state_at(now, units_left=None),
            units_left={item.product.pk: item.units_left for item in items},
        )

    # First what the catalogue, this basket and its address decide, without the product's lock.
    _refuse_unless_open(popup, now)
    if product_id not in popup_product_ids(popup):
        raise HoldRefused(_("This product is not sold in this pop-up."), code="unknown_product")
    wanted = {product_id, *_products_of(holds)}
    kept = popup_products_kept(popup, wanted)
    if product_id not in kept:  # a product of the pop-up's range without terms of its own yet
        PopUpProduct.objects.get_or_create(popup=popup, product_id=product_id)
        kept = popup_products_kept(popup, wanted)  # read again: the new terms outdated it
    products = {pk: product for pk, (product, _terms_id) in kept.items()}
    prefetch_related_objects(list(products.values()), "stockrecords")  # as they are now
    items = {}  # the basket's other lines, priced by their terms as read with its holds
    for hold in holds:
        product = products.get(hold.terms.product_id)
        if product is not None and hold.terms.product_id != product_id:
            hold.terms.units_held = 0  # their units left are not part of the answer
            product.popup_terms_here = [hold.terms]
            items[product.pk] = _item(popup, product, strategy, basket)
    _refuse_beyond_limits(
        basket, product_id, quantity, holds=holds, address_held=address_held, now=now
    )
    reserved_until = now + timedelta(minutes=popup.hold_minutes)
    restarted = [
        hold for hold in holds if hold.reserved_until > now and hold.terms.product_id != product_id
    ]
    if restarted:  # the basket's other lines restart their timer (undone if this one is refused)
        Hold.objects.filter(pk__in=[hold.pk for hold in restarted]).update(
            reserved_until=reserved_until
        )
        for hold in restarted:
            hold.reserved_until = reserved_until

    # Then the product's row, which every shopper of the product waits for: locked for three
    # statements, the units held by the others (counted once the lock is ours), this hold, commit.
    # Its price and units left come from the row as locked.
    terms_id = kept[product_id][1]
    terms = terms_locked([terms_id]).get(terms_id)
    if terms is None:  # taken out of the pop-up a moment ago
        raise HoldRefused(_("This product is not sold in this pop-up."), code="unknown_product")
    terms.units_held = _units_held_by_others(terms.pk, basket.pk, now)
    products[product_id].popup_terms_here = [terms]
    item = items[product_id] = _item(popup, products[product_id], strategy, basket)
    if item.price is None:
        raise HoldRefused(_("This product is not on sale yet."), code="no_price")
    left = item.units_left
    if left is not None and quantity > left:
        unheld = product_units_left(item.product, terms, item.stockrecord, kind=popup.kind, held=0)
        if left == 0 and unheld:  # in other baskets: those not bought come back
            message = _(
                "All in other shoppers' baskets for now: units they do not buy come back within "
                "%(minutes)d minutes."
            ) % {"minutes": popup.hold_minutes}
        elif left == 0:
            message = _("Sold out: every unit is sold.")
        else:
            message = _("Only %(n)d left.") % {"n": left}
        raise HoldRefused(message, code="not_enough", available=left)
    hold = Hold(basket=basket, terms=terms, quantity=quantity, reserved_until=reserved_until)
    hold.pk = _hold_upsert(hold, now)
    live_changed(popup_id=popup.pk)
    holds = [each for each in holds if each.terms.product_id != product_id] + [hold]
    holds.sort(key=_line_order)
    return HoldChange(
        summary=basket_priced(basket=basket, holds=holds, items=items.values(), now=now),
        state=PopUp.State.LIVE,
        units_left={product_id: None if left is None else left - quantity},
    )


def basket_contested(*, summary: BasketSummary) -> bool:
    """Whether the basket holds the last units of a product: none left for anyone else (its summary
    priced with items that count every basket's holds, as basket_summary does), so whoever comes
    next waits for them. Its hold is then a limit the sale cannot do without (WCAG 2.2.1's
    essential exception)."""
    return any(line.is_active and line.item.units_left == 0 for line in summary.lines)


@transaction.atomic
def hold_extend_in(*, slug: str, token: str, user=None, strategy=None) -> HoldChange:
    """The shopper needs more time ("I need more time"): the basket's active holds restart their
    timer, a whole hold period from now (never shortened: a payment under way holds them longer),
    at most POPUP_HOLD_EXTENSIONS times, and only while no one else could have those units
    (basket_contested); else HoldRefused.

    The basket, then its products' terms, are locked as a hold change locks them, so no shopper
    takes the last unit between the check and the new timer.
    """
    now = timezone.now()
    basket = basket_in(slug=slug, token=token, user=user, for_update=True)
    popup = basket.popup
    _refuse_unless_open(popup, now)
    holds = _holds_of(basket, now)[0]
    active = [hold for hold in holds if hold.reserved_until > now]
    if not active:
        raise HoldRefused(
            _("Your hold has lapsed: add the items again to hold them."), code="lapsed"
        )
    limit = popup_settings.POPUP_HOLD_EXTENSIONS
    if basket.hold_extensions >= limit:
        raise HoldRefused(
            _(
                "You have had more time %(n)d times, the most there is: check out before the "
                "timer ends to keep your items."
            )
            % {"n": limit},
            code="extensions_used",
        )
    terms_locked([hold.terms_id for hold in active])
    products = popup_terms_products(popup=popup, product_ids=_products_of(holds), now=now)
    strategy = strategy or Selector().strategy()
    items = [_item(popup, product, strategy, basket) for product in products]
    summary = basket_priced(basket=basket, holds=holds, items=items, now=now)
    if basket_contested(summary=summary):
        raise HoldRefused(
            _(
                "These are the last units, so the hold cannot be extended: check out before the "
                "timer ends to keep them."
            ),
            code="contested",
        )
    until = now + timedelta(minutes=popup.hold_minutes)
    extended = Hold.objects.filter(
        pk__in=[hold.pk for hold in active], reserved_until__lt=until
    ).update(reserved_until=until)
    if extended:  # counted only when it gave time (a payment's hold is longer already)
        live_changed(popup_id=popup.pk)  # its units come back later
        PopUpBasket.objects.filter(pk=basket.pk).update(hold_extensions=F("hold_extensions") + 1)
        basket.hold_extensions += 1
    for hold in active:
        hold.reserved_until = max(hold.reserved_until, until)
    return HoldChange(
        summary=basket_priced(basket=basket, holds=holds, items=items, now=now),
        state=PopUp.State.LIVE,
        units_left={item.product.pk: item.units_left for item in items},
    )


# The two statements between the product's lock and the commit, written out: every shopper of the
# product waits for them, and Django's query compiler would cost more than PostgreSQL's work here
# (bench/drop_profile.py). Plain SQL that SQLite (3.35 and newer) runs too.


def _units_held_by_others(terms_id: int, basket_id: int, now: datetime) -> int:
    """The units of these terms in the other baskets' holds still active at `now`."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(SUM(quantity), 0) FROM {_table(Hold)} "
            "WHERE terms_id = %s AND basket_id <> %s AND reserved_until > %s",
            [terms_id, basket_id, connection.ops.adapt_datetimefield_value(now)],
        )
        return cursor.fetchone()[0]


def _hold_upsert(hold: Hold, now: datetime) -> int:
    """Insert the hold, or set the quantity and timer of the basket's hold of its terms; its id."""
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(Hold)} "
            "(basket_id, terms_id, quantity, reserved_until, created_at) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (basket_id, terms_id) DO UPDATE "
            "SET quantity = excluded.quantity, reserved_until = excluded.reserved_until "
            "RETURNING id",
            [
                hold.basket_id,
                hold.terms_id,
                hold.quantity,
                adapt(hold.reserved_until),
                adapt(now),
            ],
        )
        return cursor.fetchone()[0]


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _products_of(holds) -> set[int]:
    return {hold.terms.product_id for hold in holds}


def _item(popup: PopUp, product, strategy, basket: PopUpBasket):
    return storefront_item(
        popup=popup, product=product, strategy=strategy, unlocked=basket.unlocked
    )


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
