"""Reads of pop-ups: what a shopper sees, computed at request time from the schedule and stock."""

from copy import copy
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from django.db.models import Min, Prefetch, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from oscar.core.loading import get_class, get_model

from popup.conf import popup_settings
from popup.core.pricing import ambassador_discount, price_discounted
from popup.core.reductions import Reduction, popup_reductions, regular_price
from popup.core.shells import catalogue_kept
from popup.models import (
    PopUp,
    PopUpBasket,
    PopUpProduct,
)
from popup.models.core import holds_active_q
from popup.presales.selectors import PresaleProgress, presale_progress

Product = get_model("catalogue", "Product")
ProductImage = get_model("catalogue", "ProductImage")
Selector = get_class("partner.strategy", "Selector")


@dataclass(frozen=True)
class StorefrontItem:
    product: "Product"
    terms: PopUpProduct | None
    price: Decimal | None
    regular_price: Decimal | None
    currency: str
    units_left: int | None  # None: nothing caps this product
    image: "ProductImage | None"
    stockrecord: object = None  # the one the strategy chose
    # None left, but only because shoppers' baskets hold them: when the first of those holds lapses.
    back_at: datetime | None = None
    # The pop-up price as a promotion (popup.core.reductions); None without a pop-up price, or
    # where the storefront was read without it.
    reduction: Reduction | None = None
    # The event price of a shopper who entered the unlock code: given, not announced.
    is_personal: bool = False
    # Whether the store's strategy knows the tax of the product: the price then includes it.
    tax_known: bool = True

    @property
    def title(self) -> str:
        return self.product.get_title()

    @property
    def prior_price(self) -> Decimal | None:
        """The price a reduction is shown against: the lowest of the days before it started, by
        the EU's rule (POPUP_PRIOR_PRICE_RULE), else the regular price; None: no reduction shown."""
        if self.is_personal:
            return None
        if not popup_settings.POPUP_PRIOR_PRICE_RULE:
            return self.regular_price
        return self.reduction.prior_price if self.reduction is not None else None

    @property
    def is_discounted(self) -> bool:
        prior = self.prior_price
        return self.price is not None and prior is not None and self.price < prior

    @property
    def percent_off(self) -> int:
        """Whole per cent off the prior price, rounded down (never more than it is)."""
        if not self.is_discounted:
            return 0
        return int((self.prior_price - self.price) * 100 // self.prior_price)

    @property
    def is_available(self) -> bool:
        return self.price is not None and (self.units_left is None or self.units_left > 0)


@dataclass(frozen=True)
class Storefront:
    popup: PopUp
    items: list[StorefrontItem]
    state: PopUp.State
    now: datetime
    presale: PresaleProgress | None = None

    @property
    def units_left(self) -> int | None:
        """Units left over the whole pop-up; None when some product has no cap."""
        lefts = [item.units_left for item in self.items if item.price is not None]
        if any(left is None for left in lefts):
            return None
        return sum(lefts)

    @property
    def countdown_target(self) -> datetime | None:
        if self.state == PopUp.State.COMING_SOON:
            return self.popup.opens_at
        if self.state in (PopUp.State.LIVE, PopUp.State.SOLD_OUT):
            return self.popup.closes_at
        return None

    @property
    def is_open(self) -> bool:
        return self.state == PopUp.State.LIVE

    @property
    def has_reductions(self) -> bool:
        return any(item.is_discounted for item in self.items)

    @property
    def prior_price_days(self) -> int:
        """The days a struck-through price looks back over; 0: it is the regular price."""
        rule = popup_settings.POPUP_PRIOR_PRICE_RULE
        return popup_settings.POPUP_PRIOR_PRICE_DAYS if rule else 0

    @property
    def tax_included(self) -> bool:
        return all(item.tax_known for item in self.items if item.price is not None)

    @property
    def lowest_price(self) -> StorefrontItem | None:
        priced = [item for item in self.items if item.price is not None]
        return min(priced, key=lambda item: item.price) if priced else None


def popup_get_visible(*, slug: str, user=None, event_only_too: bool = False) -> PopUp:
    """The pop-up with this slug if the user may see it: published, or any to staff. 404 otherwise.

    An event-only pop-up is a 404 too (staff excepted), unless `event_only_too`: the caller then
    checks the shopper's unlock code itself.
    """
    popup = PopUp.objects.select_related("range").filter(slug=slug).first()
    staff = user is not None and user.is_staff
    if popup is None or not (popup.is_published or staff):
        raise Http404("No such pop-up.")
    if popup.event_only and not (staff or event_only_too):
        raise Http404("No such pop-up.")
    return popup


def popup_terms_with_holds(*, now: datetime) -> QuerySet:
    """Pop-up terms annotated with `units_held`, the units in holds that have not expired at `now`,
    and `next_lapse`, when the first of those holds expires (None without any)."""
    active = holds_active_q(now, through="holds__")
    return PopUpProduct.objects.annotate(
        units_held=Coalesce(Sum("holds__quantity", filter=active), 0),
        next_lapse=Min("holds__reserved_until", filter=active),
    )


def _popup_slice(popup: PopUp) -> QuerySet:
    """The products the pop-up sells: its range's, public ones only except in a pre-sale (a product
    that does not exist yet is usually kept out of the catalogue, and the pre-sale is its only shop
    window until it graduates), and no parent products."""
    products = popup.range.all_products()
    if popup.kind != PopUp.Kind.PRESALE:
        products = products.filter(is_public=True)
    return products.exclude(structure=Product.PARENT)


def popup_product_ids(popup: PopUp) -> frozenset[int]:
    """The ids of the products the pop-up sells, kept by each process until the catalogue changes."""
    return catalogue_kept(
        f"popup-products:{popup.pk}:{popup.range_id}:{popup.kind}",
        lambda: frozenset(_popup_slice(popup).values_list("pk", flat=True)),
    )


def popup_products(*, popup: PopUp, now: datetime | None = None) -> QuerySet:
    """The products of the pop-up's slice, with everything the storefront needs prefetched."""
    terms = popup_terms_with_holds(now=now or timezone.now()).filter(popup=popup)
    images = ProductImage.objects.order_by("display_order", "pk")
    return (
        _popup_slice(popup)
        .select_related("product_class", "parent", "parent__product_class")
        .prefetch_related(
            Prefetch("popup_terms", queryset=terms, to_attr="popup_terms_here"),
            Prefetch("images", queryset=images, to_attr="ordered_images"),
            Prefetch("parent__images", queryset=images, to_attr="ordered_images"),
            "stockrecords",
        )
    )


def popup_terms_products(*, popup: PopUp, product_ids, now: datetime, held: bool = True) -> list:
    """The products of `product_ids` that the pop-up sells and has terms for, in two queries (for a
    basket's few lines, and a hold): each with its terms as `popup_terms_here` (their `units_held`
    counted unless `held` is False) and its stock records prefetched, as popup_products gives them,
    without images."""
    sold = popup_product_ids(popup).intersection(product_ids)
    terms = popup_terms_with_holds(now=now) if held else PopUpProduct.objects.all()
    terms = terms.filter(popup=popup, product_id__in=sold).select_related(
        "product__product_class", "product__parent__product_class"
    )
    products = []
    for row in terms.prefetch_related("product__stockrecords"):
        product = row.product
        product.popup_terms_here, product.ordered_images = [row], []
        products.append(product)
    return products


def popup_products_kept(popup: PopUp, product_ids) -> dict[int, tuple["Product", int]]:
    """The products of `product_ids` that the pop-up sells and has terms for, by id, each with the
    id of its terms: the product with its class and parent, as the catalogue has it, but no stock
    record. Read once per process while the catalogue stays the same (a hold reads no product);
    each product a copy of the process's own, this caller's to give attributes to."""
    kept = catalogue_kept(
        f"popup-terms-products:{popup.pk}:{popup.range_id}:{popup.kind}",
        lambda: {
            row.product_id: (row.product, row.pk)
            for row in PopUpProduct.objects.filter(
                popup=popup, product_id__in=popup_product_ids(popup)
            ).select_related("product__product_class", "product__parent__product_class")
        },
    )
    return {pk: (copy(kept[pk][0]), kept[pk][1]) for pk in product_ids if pk in kept}


def product_units_left(
    product, terms: PopUpProduct | None, stockrecord, *, kind: str, held: int | None = None
) -> int | None:
    """Units a shopper can still take: the pop-up's cap and the warehouse stock, less active holds.

    `terms` must carry `units_held` (see popup_terms_with_holds) unless `held` says how many units
    to count as held; None means nothing caps it.
    """
    caps = []
    if terms is not None and terms.units_offered is not None:
        caps.append(terms.units_offered - terms.units_sold)
    if product.get_product_class().track_stock:
        if stockrecord is not None:
            caps.append(stockrecord.net_stock_level)
        elif kind != PopUp.Kind.PRESALE:
            caps.append(0)  # nothing in the warehouse to ship
    if not caps:
        return None
    if held is None:
        held = terms.units_held if terms is not None else 0
    return max(0, min(caps) - held)


def storefront_item(
    *,
    popup: PopUp,
    product,
    strategy,
    unlocked: bool = False,
    reduction: Reduction | None = None,
) -> StorefrontItem:
    """One product as the pop-up sells it; `product` comes from popup_products (prefetched).

    `unlocked`: the shopper entered the pop-up's unlock code, so event prices apply. `reduction`:
    the pop-up price's, from popup_reductions (a struck-through price needs it).
    """
    terms = product.popup_terms_here[0] if product.popup_terms_here else None
    info = strategy.fetch_for_product(product)
    regular, currency = regular_price(info)
    popup_priced = terms is not None and terms.price is not None
    price = terms.price if popup_priced else regular
    personal = unlocked and terms is not None and terms.event_price is not None
    if personal:
        price = terms.event_price
    images = getattr(product, "ordered_images", [])
    if not images and product.parent_id:
        images = getattr(product.parent, "ordered_images", [])
    left = product_units_left(product, terms, info.stockrecord, kind=popup.kind)
    back_at = None
    if left == 0 and terms is not None and terms.units_held:
        unheld = product_units_left(product, terms, info.stockrecord, kind=popup.kind, held=0)
        back_at = getattr(terms, "next_lapse", None) if unheld else None
    return StorefrontItem(
        product=product,
        terms=terms,
        price=price,
        regular_price=regular,
        currency=currency,
        units_left=left,
        image=images[0] if images else None,
        stockrecord=info.stockrecord,
        back_at=back_at,
        reduction=reduction if popup_priced else None,
        is_personal=personal,
        # As the checkout says it (popup.checkout.services): the store's strategy decides.
        tax_known=not info.price.exists or info.price.is_tax_known,
    )


def storefront_items_reduced(*, popup: PopUp, items: list[StorefrontItem]) -> list[StorefrontItem]:
    """`items` with their pop-up prices' reductions (one read of the price history: only products
    with a pop-up price have one)."""
    reductions = popup_reductions(popup=popup)
    return [
        replace(item, reduction=reductions[item.product.pk])
        if item.product.pk in reductions
        else item
        for item in items
    ]


def popup_storefront(
    *,
    popup: PopUp,
    strategy=None,
    now: datetime | None = None,
    unlocked: bool = False,
    by_clock: bool = False,
    priced: bool = True,
) -> Storefront:
    """The pop-up as a shopper sees it now: items in display order with honest prices and units left.

    `by_clock`: the state by the clock alone, as a shared page shell has it (sold out is a live
    figure, not part of the page). `priced`: with each pop-up price's reduction (see
    popup.core.reductions); figures that show no price leave it out.
    """
    now = now or timezone.now()
    strategy = strategy or Selector().strategy()
    products = popup_products(popup=popup, now=now)
    items = [
        storefront_item(popup=popup, product=product, strategy=strategy, unlocked=unlocked)
        for product in products
    ]
    if priced:
        items = storefront_items_reduced(popup=popup, items=items)
    items.sort(key=lambda item: (item.terms.display_order if item.terms else 1000, item.title))
    units = (
        None
        if by_clock
        else Storefront(popup=popup, items=items, state=PopUp.State.DRAFT, now=now).units_left
    )
    return Storefront(
        popup=popup,
        items=items,
        state=popup.state_at(now, units_left=units),
        now=now,
        presale=presale_progress(popup=popup) if popup.kind == PopUp.Kind.PRESALE else None,
    )


@dataclass(frozen=True)
class BasketLine:
    item: StorefrontItem
    quantity: int
    reserved_until: datetime
    is_active: bool  # False once the hold expired: the units are no longer the shopper's

    @property
    def total(self) -> Decimal:
        return self.item.price * self.quantity


@dataclass(frozen=True)
class BasketSummary:
    basket: PopUpBasket
    lines: list[BasketLine]
    now: datetime

    @property
    def active_lines(self) -> list[BasketLine]:
        return [line for line in self.lines if line.is_active]

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.active_lines), Decimal("0.00"))

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.active_lines)

    @property
    def reserved_until(self) -> datetime | None:
        return min((line.reserved_until for line in self.active_lines), default=None)


def basket_get(*, popup: PopUp, token: str) -> PopUpBasket:
    """The pop-up's open basket with this token; 404 for an unknown token, another pop-up's basket,
    or a basket already ordered or pledged (the shopper's next visit starts a new one)."""
    baskets = PopUpBasket.objects.select_related("placement__ambassador").filter(
        popup=popup, token=token, status=PopUpBasket.Status.OPEN
    )
    basket = baskets.first() if token else None
    if basket is None:
        raise Http404("No such basket.")
    basket.popup = popup
    return basket


def basket_in(*, slug: str, token: str, user=None, for_update: bool = False) -> PopUpBasket:
    """basket_get by the pop-up's slug, with the pop-up as popup_get_visible lets the user see it
    (an event-only one only through an unlocked basket, or to staff); 404 otherwise. One query: the
    pop-up is this process's copy (popup_kept). `for_update`: the basket row locked (inside a
    transaction), as hold_set would lock it."""
    baskets = PopUpBasket.objects.select_related("placement__ambassador").filter(
        popup__slug=slug, token=token, status=PopUpBasket.Status.OPEN
    )
    if for_update:
        baskets = baskets.select_for_update(of=("self",))
    try:
        basket = baskets.get() if token else None
    except PopUpBasket.DoesNotExist:
        basket = None
    if basket is None:
        raise Http404("No such basket.")
    popup = basket.popup = popup_kept(basket.popup_id)
    if (not popup.is_published or (popup.event_only and not basket.unlocked)) and not (
        user is not None and user.is_staff
    ):
        raise Http404("No such pop-up.")
    return basket


def popup_kept(pk: int) -> PopUp:
    """The pop-up with its range, read once per process while the catalogue stays the same: its
    save outdates this copy at once in this process and within a second in the others (see
    shells.catalogue_kept). A copy, the caller's own."""
    return copy(
        catalogue_kept(f"popup:{pk}", lambda: PopUp.objects.select_related("range").get(pk=pk))
    )


def basket_summary(*, basket: PopUpBasket, strategy=None, now: datetime | None = None):
    """What the basket holds now, priced as the pop-up sells it to this basket; expired holds flagged.

    Returns a storefront of the basket's products only (state by the clock, units left as anyone
    sees them) and the summary (see basket_priced).
    """
    now = now or timezone.now()
    popup = basket.popup
    holds = list(basket.holds.select_related("terms").order_by("terms__display_order", "pk"))
    products = popup_terms_products(
        popup=popup, product_ids=[hold.terms.product_id for hold in holds], now=now
    )
    strategy = strategy or Selector().strategy()
    items = [
        storefront_item(popup=popup, product=product, strategy=strategy, unlocked=basket.unlocked)
        for product in products
    ]
    storefront = Storefront(
        popup=popup, items=items, state=popup.state_at(now, units_left=None), now=now
    )
    return storefront, basket_priced(basket=basket, holds=holds, items=items, now=now)


def basket_priced(*, basket: PopUpBasket, holds, items, now: datetime) -> BasketSummary:
    """The summary of the basket's `holds` (with their terms), given the storefront `items` of their
    products (priced with the basket's unlock): less the basket's ambassador discount, in the
    holds' order. A hold whose product the pop-up no longer sells is left out."""
    discount = ambassador_discount(basket)
    by_product = {
        item.product.pk: (
            replace(item, price=price_discounted(item.price, discount))
            if discount and item.price is not None
            else item
        )
        for item in items
    }
    lines = [
        BasketLine(
            item=by_product[hold.terms.product_id],
            quantity=hold.quantity,
            reserved_until=hold.reserved_until,
            is_active=hold.reserved_until > now,
        )
        for hold in holds
        if hold.terms.product_id in by_product
    ]
    return BasketSummary(basket=basket, lines=lines, now=now)


# Channels: placements and ambassadors ----------------------------------------------------------
