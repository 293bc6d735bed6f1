"""What to do next with a pop-up, read off its drop report, each with the numbers behind it.

- Restock: a product that sold out should offer what it sold plus the demand it turned away (its
  waitlist and its share of the refused add-to-basket attempts) times the conversion this pop-up
  showed (paid orders per basket).
- Relaunch: a sold-out or closed pop-up can run again, as a draft clone with those quantities.
- Graduate: products that sold through (or a funded pre-sale) can join the permanent catalogue.
- Reprice: a product selling at less than half the pace its window needs can be made cheaper.

Every suggestion maps to one service the dashboard applies in one click, with numbers the merchant
can change first.
"""

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import localize
from django.utils.translation import gettext as _
from oscar.templatetags.currency_filters import currency

from popup.analytics.drop_report import DropReport, ProductSales
from popup.models import PopUp

# Without any basket counted yet, demand is assumed to convert like this (the page says so).
ASSUMED_CONVERSION = Decimal("0.25")
GRADUATE_SELL_THROUGH = Decimal(80)  # %
# Reprice when at least this much of the window has passed and sales run below half the pace.
REPRICE_AFTER = Decimal("0.25")
REPRICE_CUT = Decimal("0.15")


@dataclass(frozen=True)
class Proposal:
    """One product's number in a suggestion: units to offer, or a new price."""

    product_id: int
    title: str
    value: int | Decimal | None  # None: no cap
    why: str


@dataclass(frozen=True)
class Suggestion:
    action: str  # restock, relaunch, graduate, reprice: the one-click action that applies it
    title: str
    reasons: list[str]
    proposals: list[Proposal] = field(default_factory=list)


def _conversion(report: DropReport) -> tuple[Decimal, bool]:
    """The pop-up's paid orders per basket, or the assumed rate; and whether it was measured."""
    measured = report.conversion
    return (measured, True) if measured is not None else (ASSUMED_CONVERSION, False)


def restock_units(report: DropReport) -> dict[int, int]:
    """Units each sold-out product should offer: sold + turned-away demand × conversion."""
    conversion, _measured = _conversion(report)
    sold_out = [product for product in report.products if product.sold_out]
    sold_out_units = sum(product.sold for product in sold_out)
    units = {}
    for product in sold_out:
        # The refused attempts are counted per pop-up: shared by the sold-out products by sales.
        share = report.unmet_attempts * product.sold / sold_out_units if sold_out_units else 0
        turned_away = product.waitlist + Decimal(share)
        units[product.product_id] = product.sold + math.ceil(turned_away * conversion)
    return units


def _restock_reason(report: DropReport, product: ProductSales, units: int) -> str:
    return _(
        "%(units)d = %(sold)d sold + (%(waitlist)d on the waitlist + its share of %(unmet)d "
        "refused add-to-basket attempts) × %(conversion)s%% conversion"
    ) % {
        "units": units,
        "sold": product.sold,
        "waitlist": product.waitlist,
        "unmet": report.unmet_attempts,
        "conversion": localize((_conversion(report)[0] * 100).quantize(Decimal("0.1"))),
    }


def _relaunch_units(product: ProductSales) -> int | None:
    """What a product that did not sell out offers next time: what it sold, or its old cap if it
    sold nothing; None (no cap) if it had none."""
    if product.offered is None:
        return None
    return product.sold or product.offered


def _slow_movers(report: DropReport) -> list[tuple[ProductSales, Decimal]]:
    """Products selling at under half the pace needed to sell through by closing, with the sold
    units projected at closing."""
    if report.elapsed < REPRICE_AFTER or report.now >= report.popup.closes_at:
        return []
    slow = []
    for product in report.products:
        if product.offered and product.sell_through is not None:
            needed_by_now = report.elapsed * 100
            if product.sell_through < needed_by_now / 2:
                slow.append((product, (product.sold / report.elapsed).quantize(Decimal("1"))))
    return slow


def _cheaper(price: Decimal) -> Decimal:
    return (price * (1 - REPRICE_CUT)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def drop_suggestions(*, report: DropReport, regular_prices: dict[int, Decimal]) -> list[Suggestion]:
    """The suggestions that apply to this pop-up now, most pressing first.

    `regular_prices` gives the price of products without a pop-up price (from the store's strategy).
    """
    popup, suggestions = report.popup, []
    closed = report.now >= popup.closes_at
    conversion, measured = _conversion(report)
    conversion_note = (
        _("Conversion measured in this pop-up: %(orders)d paid orders from %(baskets)d baskets.")
        % {"orders": report.orders, "baskets": report.baskets}
        if measured
        else _("No basket counted yet: a conversion of %(rate)s%% is assumed.")
        % {"rate": localize((conversion * 100).quantize(Decimal("1")))}
    )
    restock = restock_units(report)
    by_id = {product.product_id: product for product in report.products}
    restock_proposals = [
        Proposal(
            product_id,
            by_id[product_id].title,
            units,
            _restock_reason(report, by_id[product_id], units),
        )
        for product_id, units in restock.items()
    ]
    if restock and not closed:
        suggestions.append(
            Suggestion(
                action="restock",
                title=_("Restock what sold out"),
                reasons=[conversion_note],
                proposals=restock_proposals,
            )
        )
    if closed or report.sold_out_at:
        relaunch = [
            Proposal(
                product.product_id,
                product.title,
                restock.get(product.product_id, _relaunch_units(product)),
                _restock_reason(report, product, restock[product.product_id])
                if product.product_id in restock
                else _("%(sold)d sold of %(offered)s offered")
                % {"sold": product.sold, "offered": product.offered or _("no cap")},
            )
            for product in report.products
        ]
        suggestions.append(
            Suggestion(
                action="relaunch",
                title=_("Relaunch as a new draft"),
                reasons=[
                    _(
                        "A copy of this pop-up, unpublished, opening in a week for as long as this one ran, with these quantities."
                    ),
                    conversion_note,
                ],
                proposals=relaunch,
            )
        )
    graduate_reasons = _graduate_reasons(report)
    if graduate_reasons:
        suggestions.append(
            Suggestion(
                action="graduate",
                title=_("Graduate to the permanent catalogue"),
                reasons=graduate_reasons,
            )
        )
    slow = _slow_movers(report)
    if slow:
        proposals = []
        for product, projected in slow:
            current = (
                product.price
                if product.price is not None
                else regular_prices.get(product.product_id)
            )
            if current:
                proposals.append(
                    Proposal(
                        product.product_id,
                        product.title,
                        _cheaper(current),
                        _(
                            "%(sold)d of %(offered)d sold with %(elapsed)s%% of the time gone: "
                            "about %(projected)s by closing at this pace; %(cut)s%% off %(price)s"
                        )
                        % {
                            "sold": product.sold,
                            "offered": product.offered,
                            "elapsed": localize((report.elapsed * 100).quantize(Decimal("1"))),
                            "projected": localize(projected),
                            "cut": localize((REPRICE_CUT * 100).quantize(Decimal("1"))),
                            "price": currency(current, report.currency),
                        },
                    )
                )
        if proposals:
            suggestions.append(
                Suggestion(
                    action="reprice",
                    title=_("Reprice slow movers"),
                    reasons=[
                        _(
                            "Prices change in this pop-up only, at once: every basket not yet at payment gets them."
                        )
                    ],
                    proposals=proposals,
                )
            )
    return suggestions


def _graduate_reasons(report: DropReport) -> list[str]:
    popup = report.popup
    if popup.graduated_at is not None:
        return []
    if popup.kind == PopUp.Kind.PRESALE:
        if popup.presale_outcome != PopUp.Outcome.FUNDED:
            return []
        return [_("The pre-sale is funded: its products can be sold from the catalogue.")]
    if report.sell_through is not None and report.sell_through >= GRADUATE_SELL_THROUGH:
        return [
            _("%(rate)s%% sell-through (%(sold)d of %(offered)d units): demand goes beyond a drop.")
            % {
                "rate": localize(report.sell_through),
                "sold": report.units_sold,
                "offered": report.units_offered,
            }
        ]
    return []
