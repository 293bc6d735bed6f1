"""Reads for the dashboard: pop-ups with the state and units left a shopper would see now."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from oscar.core.loading import get_model

from ..models import PopUp, PopUpProduct
from ..selectors import popup_storefront

Product = get_model("catalogue", "Product")

# States that the schedule alone decides, as a filter on published pop-ups.
_TIME_ONLY_STATES = {
    PopUp.State.COMING_SOON: lambda now: Q(opens_at__gt=now),
    PopUp.State.CLOSED: lambda now: Q(closes_at__lte=now),
}


@dataclass(frozen=True)
class PopUpRow:
    popup: PopUp
    state: PopUp.State
    units_left: int | None  # None: nothing caps it


def popup_dashboard_queryset(*, query: str = "", kind: str = "", state: str = "", now: datetime):
    """Pop-ups matching the filters, narrowed in SQL; live and sold out still need their stock."""
    popups = PopUp.objects.select_related("range").order_by("-opens_at", "-pk")
    if query:
        popups = popups.filter(Q(title__icontains=query) | Q(slug__icontains=query))
    if kind:
        popups = popups.filter(kind=kind)
    if state == PopUp.State.DRAFT:
        popups = popups.filter(is_published=False)
    elif state in _TIME_ONLY_STATES:
        popups = popups.filter(_TIME_ONLY_STATES[state](now), is_published=True)
    elif state in (PopUp.State.LIVE, PopUp.State.SOLD_OUT):
        popups = popups.filter(is_published=True, opens_at__lte=now, closes_at__gt=now)
    return popups


def popup_dashboard_rows(
    *, popups: Iterable[PopUp], strategy=None, now: datetime
) -> list[PopUpRow]:
    """Each pop-up with its state and units left, computed by the storefront selector itself so
    the dashboard never disagrees with the public page (a fixed number of queries per pop-up;
    none for closed ones, whose state the clock alone decides and whose units are no longer sold)."""
    rows = []
    for popup in popups:
        if popup.is_published and popup.closes_at <= now:
            rows.append(PopUpRow(popup=popup, state=PopUp.State.CLOSED, units_left=None))
            continue
        storefront = popup_storefront(popup=popup, strategy=strategy, now=now)
        rows.append(PopUpRow(popup=popup, state=storefront.state, units_left=storefront.units_left))
    return rows


def popup_terms_queryset(*, popup: PopUp) -> QuerySet:
    """The terms rows of the products the pop-up's range sells now, in display order."""
    return (
        PopUpProduct.objects.filter(
            popup=popup,
            product__in=popup.range.all_products().exclude(structure=Product.PARENT).values("pk"),
        )
        .select_related("product", "product__parent", "product__product_class")
        .order_by("display_order", "pk")
    )
