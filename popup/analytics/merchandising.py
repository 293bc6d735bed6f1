"""Acting on what a drop taught: restock it, reprice its slow movers, relaunch it as a new draft, or
graduate its products to the permanent catalogue. The drop report suggests each with its numbers
(popup.analytics.suggestions); these services apply them, checking every number again.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from oscar.core.loading import get_model

from popup.core.popups import popup_product_terms_sync, popup_slug_suggest
from popup.core.pushes import live_changed
from popup.core.reductions import popup_prices_record
from popup.locking import rows_locked, stock_records_locked
from popup.models import PopUp, PopUpProduct
from popup.presales.selectors import presale_outcome_now, presale_progress

Product = get_model("catalogue", "Product")
StockRecord = get_model("partner", "StockRecord")

RELAUNCH_AFTER = timedelta(days=7)


def _locked_terms(popup: PopUp, product_ids) -> dict[int, PopUpProduct]:
    """The pop-up's terms of these products, locked in primary-key order (as holds lock them)."""
    terms = rows_locked(
        PopUpProduct.objects.filter(popup=popup, product_id__in=list(product_ids)).select_related(
            "product"
        ),
        of=("self",),
    )
    found = {term.product_id: term for term in terms}
    if len(found) != len(set(product_ids)):
        raise ValidationError(_("Some of these products are not in this pop-up."))
    return found


def _refuse_if_closed(popup: PopUp, now: datetime) -> None:
    if now >= popup.closes_at:
        raise ValidationError(_("This pop-up has closed: relaunch it instead."))


@transaction.atomic
def popup_restock(
    *, popup: PopUp, units: Mapping[int, int], now: datetime | None = None
) -> list[PopUpProduct]:
    """Offer this many units of each product in the open pop-up; never fewer than already sold."""
    _refuse_if_closed(popup, now or timezone.now())
    terms = _locked_terms(popup, units)
    errors = []
    for product_id, offered in units.items():
        term = terms[product_id]
        if offered < term.units_sold:
            errors.append(
                ngettext(
                    "%(product)s: %(sold)d unit is already sold; offer at least that many.",
                    "%(product)s: %(sold)d units are already sold; offer at least that many.",
                    term.units_sold,
                )
                % {"product": term.product.get_title(), "sold": term.units_sold}
            )
        term.units_offered = offered
    if errors:
        raise ValidationError(errors)
    PopUpProduct.objects.bulk_update(terms.values(), ["units_offered"])
    live_changed(popup_id=popup.pk)  # a bulk update sends no signal
    return list(terms.values())


def restock_beyond_stock(*, terms: list[PopUpProduct]) -> list[str]:
    """Products whose new cap asks for more units than their stock records hold free, in words."""
    free = {}
    for record in StockRecord.objects.filter(product_id__in=[term.product_id for term in terms]):
        free[record.product_id] = free.get(record.product_id, 0) + record.net_stock_level
    return [
        ngettext(
            "%(product)s: the pop-up may sell %(wanted)d more, but stock has %(free)d free unit.",
            "%(product)s: the pop-up may sell %(wanted)d more, but stock has %(free)d free units.",
            free.get(term.product_id, 0),
        )
        % {
            "product": term.product.get_title(),
            "wanted": term.units_offered - term.units_sold,
            "free": free.get(term.product_id, 0),
        }
        for term in terms
        if term.units_offered - term.units_sold > free.get(term.product_id, 0)
    ]


@transaction.atomic
def popup_reprice(
    *, popup: PopUp, prices: Mapping[int, Decimal], now: datetime | None = None
) -> list[PopUpProduct]:
    """Set the pop-up price of each product in the open pop-up (baskets priced from now on)."""
    _refuse_if_closed(popup, now or timezone.now())
    if any(price < 0 for price in prices.values()):
        raise ValidationError(_("A price cannot be negative."))
    terms = _locked_terms(popup, prices)
    for product_id, price in prices.items():
        terms[product_id].price = price
    PopUpProduct.objects.bulk_update(terms.values(), ["price"])
    popup_prices_record(terms=terms.values())
    return list(terms.values())


# What a relaunch starts afresh instead of copying.
_NOT_COPIED = {
    "id",
    "title",
    "slug",
    "is_published",
    "archived_at",
    "owns_range",  # the copy sells the same range: it is not the copy's own
    "opens_at",
    "closes_at",
    "presale_outcome",
    "presale_settled_at",
    "graduated_at",
    "opening_announced_at",
    "relaunched_from",
    "created_at",
    "updated_at",
}


@transaction.atomic
def popup_relaunch(
    *, popup: PopUp, units: Mapping[int, int | None], now: datetime | None = None
) -> PopUp:
    """A draft copy of the pop-up, opening in a week for as long as the original ran, offering
    `units` of each product (None: no cap) at the original's pop-up prices."""
    now = now or timezone.now()
    if any(offered is not None and offered < 0 for offered in units.values()):
        raise ValidationError(_("A quantity cannot be negative."))
    suffix = _(" (relaunch)")
    title = popup.title.removesuffix(suffix) + suffix  # a relaunch of a relaunch: said once
    title = title[: PopUp._meta.get_field("title").max_length]
    opens_at = (now + RELAUNCH_AFTER).replace(minute=0, second=0, microsecond=0)
    copy = PopUp(
        **{
            field.attname: getattr(popup, field.attname)
            for field in PopUp._meta.concrete_fields
            if field.name not in _NOT_COPIED
        },
        title=title,
        slug=popup_slug_suggest(title=title),
        is_published=False,
        opens_at=opens_at,
        closes_at=opens_at + (popup.closes_at - popup.opens_at),
        relaunched_from=popup,
    )
    copy.save()
    popup_product_terms_sync(popup=copy)
    originals = {term.product_id: term for term in popup.product_terms.all()}
    terms = list(copy.product_terms.all())
    for term in terms:
        original = originals.get(term.product_id)
        if original is not None:
            term.price = original.price
            term.display_order = original.display_order
            term.units_offered = units.get(term.product_id, original.units_offered)
    PopUpProduct.objects.bulk_update(terms, ["price", "display_order", "units_offered"])
    popup_prices_record(terms=terms)
    return copy


@transaction.atomic
def popup_graduate(*, popup: PopUp, stock: int | None, now: datetime | None = None) -> PopUp:
    """Make the pop-up's products regular, public catalogue products; once only. A pre-sale must be
    funded first.

    With `stock`, each of their stock records offers that many units to new customers, on top of
    the units already allocated to orders (the pop-up's own orders among them).
    """
    now = now or timezone.now()
    popup = PopUp.objects.select_for_update().get(pk=popup.pk)
    if popup.graduated_at is not None:
        return popup
    if popup.kind == PopUp.Kind.PRESALE:
        goal_met = presale_progress(popup=popup).goal_met
        if presale_outcome_now(popup=popup, goal_met=goal_met, now=now) != PopUp.Outcome.FUNDED:
            raise ValidationError(
                _("Only a funded pre-sale can graduate: its goal met, and settled or closed.")
            )
    product_ids = list(popup.product_terms.values_list("product_id", flat=True))
    products = Product.objects.filter(Q(pk__in=product_ids) | Q(children__in=product_ids))
    # Parents too: Oscar lists a variant only under a public parent.
    Product.objects.filter(pk__in=products.values("pk")).update(is_public=True, date_updated=now)
    if stock is not None:
        for record in stock_records_locked(product_ids):
            record.num_in_stock = (record.num_allocated or 0) + stock
            # Saved one by one: back-in-stock alerts go out from the save signal.
            record.save(update_fields=["num_in_stock", "date_updated"])
    popup.graduated_at = now
    popup.save(update_fields=["graduated_at", "updated_at"])
    return popup
