"""Oscar prices for a pop-up's basket: the store's own strategy, with the pop-up's prices on top."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from oscar.core.loading import get_class

PurchaseInfo = get_class("partner.strategy", "PurchaseInfo")
FixedPrice = get_class("partner.prices", "FixedPrice")
Available = get_class("partner.availability", "Available")

CENT = Decimal("0.01")


class PopUpPricing:
    """Wraps the store's strategy so an Oscar basket and order carry the pop-up's prices.

    Availability is the pop-up's business (stock holds), so every product it prices is available;
    a pop-up price is taken as the price the shopper pays, tax included.
    """

    def __init__(self, strategy, *, prices: dict[int, Decimal]):
        self.strategy = strategy
        self.prices = prices  # product id -> price to charge

    def __getattr__(self, name):
        return getattr(self.strategy, name)

    def fetch_for_product(self, product, stockrecord=None):
        info = self.strategy.fetch_for_product(product, stockrecord)
        price = self.prices.get(product.pk)
        if price is None:
            return info
        currency = info.price.currency if info.price.exists else settings.OSCAR_DEFAULT_CURRENCY
        return PurchaseInfo(
            price=FixedPrice(currency, price, tax=Decimal("0")),
            availability=Available(),
            stockrecord=info.stockrecord,
        )

    def fetch_for_line(self, line, stockrecord=None):
        return self.fetch_for_product(line.product, stockrecord or line.stockrecord)


def ambassador_discount(basket) -> Decimal:
    """The percentage off the basket's ambassador gives their audience (0 without one)."""
    placement = basket.placement
    if placement is None or placement.ambassador is None or not placement.ambassador.is_active:
        return Decimal("0")
    return placement.ambassador.discount_percent


def price_discounted(price: Decimal, percent: Decimal) -> Decimal:
    """`price` less `percent` per cent, to the cent, rounded half up."""
    if not percent:
        return price
    return (price * (100 - percent) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
