"""Honest reductions: what each product was offered at, and the prior price a reduction is shown
against (the EU's Price Indication Directive 98/6/EC, art. 6a, as the Omnibus Directive wrote it).

- Every price a product is offered at is recorded (PriceRecord): the regular price as the store's
  default strategy gives it (never a visitor's: a strategy may price per request), whenever a stock
  record's price is saved, a pop-up price is set for the product, or the hourly snapshot of every
  product finds it changed (a bulk `update()` sends no signal: such a change is in the history
  within the hour); and each pop-up price as it is set, bulk changes included.
- A pop-up's reduction of a product starts when its pop-up price starts to apply: when the pop-up
  opens, or when a pop-up price is set in an open pop-up that had none. Changing the pop-up price
  during the promotion starts nothing new: the prior price stays frozen for the promotion.
- The prior price is the lowest price the product was offered at to the public in the
  POPUP_PRIOR_PRICE_DAYS before that start: its regular prices, and the prices of every pop-up
  ever published and open to all (not event-only) while it was open, whether it was unpublished,
  archived or deleted since (a deleted one keeps its window on its records).
- With less history than that (a new product, or a store that installed the plugin recently), the
  lowest price of the history there is before the start counts; with none at all, no reduction is
  shown, only the price.
- Event and ambassador prices are given to some shoppers, not announced to the public: they are
  never shown as reductions (popup.core.selectors.StorefrontItem.is_discounted).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from oscar.core.loading import get_class, get_model

from popup.conf import popup_settings
from popup.models import PopUp, PopUpProduct, PriceRecord

Product = get_model("catalogue", "Product")
PurchaseInfo = get_class("partner.strategy", "PurchaseInfo")
Selector = get_class("partner.strategy", "Selector")

REGULAR = PriceRecord.Offer.REGULAR
POPUP = PriceRecord.Offer.POPUP


@dataclass(frozen=True)
class Reduction:
    """A pop-up price as a promotion: since when, and the prior price it may be shown against."""

    started_at: datetime
    prior_price: Decimal | None  # None: no price known before the start, so no reduction shown
    history_days: int  # days of history before the start, up to the rule's days

    @property
    def is_young(self) -> bool:
        """The product's history before the start is shorter than the rule's days."""
        return self.history_days < popup_settings.POPUP_PRIOR_PRICE_DAYS


def regular_price(info: "PurchaseInfo") -> tuple[Decimal | None, str]:
    """The regular price and currency of a product from the strategy's PurchaseInfo (tax included
    when the strategy knows it); (None, the store's currency) when it has no price."""
    if not info.price.exists:
        return None, settings.OSCAR_DEFAULT_CURRENCY
    policy = info.price
    return (policy.incl_tax if policy.is_tax_known else policy.excl_tax), policy.currency


def _latest(product_ids: Iterable[int], *, offer: str, popup_id: int | None = None) -> dict:
    """The latest record of each product's offer, by product id."""
    records = PriceRecord.objects.filter(product_id__in=list(product_ids), offer=offer)
    if offer == POPUP:
        records = records.filter(popup_id=popup_id)
    # Histories are short: the last of each product's rows, by time, wins.
    return {record.product_id: record for record in records.order_by("since", "pk")}


def regular_prices_observe(
    *, seen: dict[int, tuple[Decimal | None, str]], now: datetime | None = None
) -> int:
    """Record each product's regular price `seen` (product id → (price, currency)) where it differs
    from the history's latest; how many were recorded. Safe to call again with the same prices."""
    now = now or timezone.now()
    latest = _latest(seen, offer=REGULAR)
    rows = [
        PriceRecord(product_id=pk, offer=REGULAR, price=price, currency=currency, since=now)
        for pk, (price, currency) in seen.items()
        if pk not in latest or (latest[pk].price, latest[pk].currency) != (price, currency)
    ]
    PriceRecord.objects.bulk_create(rows)
    return len(rows)


def regular_prices_record(*, products: Iterable, strategy=None, now: datetime | None = None) -> int:
    """Record the regular price the store's strategy gives each product, where it changed."""
    strategy = strategy or Selector().strategy()
    seen = {product.pk: regular_price(strategy.fetch_for_product(product)) for product in products}
    return regular_prices_observe(seen=seen, now=now)


def popup_prices_record(
    *, terms: Iterable[PopUpProduct], now: datetime | None = None, strategy=None
) -> int:
    """Record each pop-up price in `terms` (one pop-up's) where it changed, with those products'
    regular prices first where they changed (so a reduction has the price before it)."""
    terms = list(terms)
    if not terms:
        return 0
    now = now or timezone.now()
    popup_id = terms[0].popup_id
    latest = _latest([term.product_id for term in terms], offer=POPUP, popup_id=popup_id)
    changed = [
        term
        for term in terms
        if (latest[term.product_id].price if term.product_id in latest else None) != term.price
    ]
    if not changed:
        return 0
    # The regular price as it stands, first: a promotion starting now compares with it.
    products = Product.objects.filter(pk__in={term.product_id for term in changed})
    regular_prices_record(
        products=products.prefetch_related("stockrecords"), strategy=strategy, now=now
    )
    PriceRecord.objects.bulk_create(
        PriceRecord(
            product_id=term.product_id, offer=POPUP, popup_id=popup_id, price=term.price, since=now
        )
        for term in changed
    )
    return len(changed)


def _lowest_in(
    spans: Iterable[tuple[datetime, datetime | None, Decimal | None]],
    start: datetime,
    end: datetime,
    *,
    closed: bool,
) -> Decimal | None:
    """The lowest price of the spans (from, until or None, price) that meet [start, end), or
    [start, end] when `closed`."""
    lowest = None
    for since, until, price in spans:
        if price is None or (until is not None and until <= start):
            continue
        if since > end or (since == end and not closed):
            continue
        lowest = price if lowest is None else min(lowest, price)
    return lowest


def _spans(records: list[PriceRecord]) -> list[tuple[datetime, datetime | None, Decimal | None]]:
    """One offer's records as spans: each price until the next record."""
    return [
        (record.since, records[i + 1].since if i + 1 < len(records) else None, record.price)
        for i, record in enumerate(records)
    ]


INSTANT = timedelta(microseconds=1)


def _offer_spans(
    offer: list[PriceRecord], *, popup: PopUp, own_start: datetime
) -> list[tuple[datetime, datetime | None, Decimal | None]]:
    """When one pop-up's prices applied to the public, as spans: while it was open, if it was ever
    published and not event-only; of `popup` itself, only before `own_start` (its promotion). A
    deleted pop-up's: within the window kept on its records (else at the moment each was set)."""
    first = offer[0]
    if first.popup_id is None:
        if first.public_from is None:
            return [(record.since, record.since + INSTANT, record.price) for record in offer]
        opens, closes = first.public_from, first.public_until
    elif first.popup.first_published_at is None or first.popup.event_only:
        return []
    else:
        opens, closes = first.popup.opens_at, first.popup.closes_at
    spans = _spans(offer)
    if first.popup_id == popup.pk:
        spans = [
            (since, own_start if until is None else min(until, own_start), price)
            for since, until, price in spans
            if since < own_start
        ]
    clipped = []
    for since, until, price in spans:
        since, until = max(since, opens), closes if until is None else min(until, closes)
        if since < until:
            clipped.append((since, until, price))
    return clipped


def _reduction(*, popup: PopUp, records: list[PriceRecord], days: int) -> Reduction | None:
    """The reduction of one product in `popup`, from that product's records (all offers, by time);
    None when the pop-up has no price of its own for it."""
    own = [record for record in records if record.offer == POPUP and record.popup_id == popup.pk]
    if not own or own[-1].price is None:
        return None
    streak = len(own) - 1
    while streak > 0 and own[streak - 1].price is not None:
        streak -= 1
    own_start = own[streak].since
    started_at = max(own_start, popup.opens_at)
    window_start = started_at - timedelta(days=days)

    regular = [record for record in records if record.offer == REGULAR]
    # The regular price in force as the promotion starts counts: the window is closed there.
    known = [_lowest_in(_spans(regular), window_start, started_at, closed=True)]
    offers = defaultdict(list)
    for record in records:
        if record.offer == POPUP:
            offers[record.popup_id or f"deleted {record.pk}"].append(record)
    for offer in offers.values():
        spans = _offer_spans(offer, popup=popup, own_start=own_start)
        known.append(_lowest_in(spans, window_start, started_at, closed=False))
    known = [price for price in known if price is not None]
    first = min((record.since for record in records if record.since <= started_at), default=None)
    return Reduction(
        started_at=started_at,
        prior_price=min(known) if known else None,
        history_days=0 if first is None else min(days, (started_at - first).days),
    )


def popup_reductions(*, popup: PopUp) -> dict[int, Reduction]:
    """Each product with a pop-up price in `popup`, by id: its reduction (one query of history)."""
    days = popup_settings.POPUP_PRIOR_PRICE_DAYS
    priced = PopUpProduct.objects.filter(popup=popup, price__isnull=False).values("product_id")
    by_product = defaultdict(list)
    records = (
        PriceRecord.objects.filter(product_id__in=priced)
        .select_related("popup")
        .only(
            "product_id",
            "offer",
            "popup_id",
            "price",
            "currency",
            "since",
            "public_from",
            "public_until",
            "popup__opens_at",
            "popup__closes_at",
            "popup__first_published_at",
            "popup__event_only",
        )
        .order_by("since", "pk")
    )
    for record in records:
        by_product[record.product_id].append(record)
    reductions = {}
    for product_id, history in by_product.items():
        reduction = _reduction(popup=popup, records=history, days=days)
        if reduction is not None:
            reductions[product_id] = reduction
    return reductions


def price_history_snapshot(*, chunk: int = 500) -> int:
    """Record the regular price of every product with a stock record where it changed (hourly: a
    bulk update of prices sends no signal, and any product may join a pop-up later); how many were
    recorded."""
    strategy = Selector().strategy()
    priced = Product.objects.filter(stockrecords__isnull=False).distinct().order_by("pk")
    ids = list(priced.values_list("pk", flat=True))
    recorded = 0
    for start in range(0, len(ids), chunk):
        products = Product.objects.filter(pk__in=ids[start : start + chunk]).prefetch_related(
            "stockrecords"
        )
        recorded += regular_prices_record(products=products, strategy=strategy)
    return recorded
