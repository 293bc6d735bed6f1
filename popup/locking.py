"""Row locks, always taken in primary-key order: two writers locking the same rows in the same order
wait for each other instead of deadlocking. Every writer of stock, terms or pledges locks through here.
"""

from collections.abc import Iterable

from django.db.models import QuerySet
from oscar.core.loading import get_model

from popup.models import PopUpProduct

StockRecord = get_model("partner", "StockRecord")


def rows_locked(queryset: QuerySet, *, of: tuple[str, ...] = (), skip_locked: bool = False) -> list:
    """The queryset's rows, locked FOR UPDATE in primary-key order (inside a transaction)."""
    return list(queryset.select_for_update(of=of, skip_locked=skip_locked).order_by("pk"))


def terms_locked(ids: Iterable[int]) -> dict[int, PopUpProduct]:
    """The pop-up terms rows with these ids, locked, by id."""
    rows = rows_locked(PopUpProduct.objects.filter(pk__in=set(ids)))
    return {terms.pk: terms for terms in rows}


def stock_records_locked(product_ids: Iterable[int]) -> list:
    """The stock records of these products, locked (not their products), with their product classes."""
    records = StockRecord.objects.filter(product_id__in=set(product_ids)).select_related(
        "product__product_class", "product__parent__product_class"
    )
    return rows_locked(records, of=("self",))
