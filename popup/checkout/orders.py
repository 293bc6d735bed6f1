"""Placing the Oscar order of a pop-up purchase: the one place that calls Oscar's OrderCreator.

A checkout's order is placed once its card is authorised (then captured); a pledge's once its saved
card is charged. Both come here with a Quote (an Oscar basket frozen at the prices agreed, its
shipping and total) and the payment, inside the caller's transaction and row locks.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from oscar.core.loading import get_class, get_model

from popup.channels.placements import order_attribute
from popup.core.pricing import PopUpPricing
from popup.models import PopUp, PopUpBasket
from popup.notifications.tasks import order_placed_email_send
from popup.payments import Payment, payment_gateway
from popup.queueing import task_queue_on_commit

Basket = get_model("basket", "Basket")
Country = get_model("address", "Country")
Order = get_model("order", "Order")
ShippingAddress = get_model("order", "ShippingAddress")
OrderCreator = get_class("order.utils", "OrderCreator")
OrderNumberGenerator = get_class("order.utils", "OrderNumberGenerator")
EventHandler = get_class("order.processing", "EventHandler")


@dataclass(frozen=True)
class ShopperDetails:
    email: str
    first_name: str
    last_name: str
    line1: str
    line2: str
    city: str
    postcode: str
    country: str  # ISO 3166-1 alpha-2; empty when nothing needs shipping


@dataclass(frozen=True)
class Quote:
    basket: "Basket"  # an Oscar basket priced for the pop-up
    shipping_method: object
    shipping_charge: object
    total: object

    @property
    def amount(self) -> Decimal:
        return self.total.incl_tax

    @property
    def currency(self) -> str:
        return self.total.currency

    @property
    def prices(self) -> dict[int, Decimal]:
        """Product id -> the unit price charged, as the pop-up priced it."""
        return self.basket.strategy.prices


def oscar_basket_priced(lines, *, strategy) -> "Basket":
    """A frozen Oscar basket of (product, quantity, price) lines, priced at those prices."""
    prices = {product.pk: price for product, _quantity, price in lines}
    oscar_basket = Basket.objects.create()
    oscar_basket.strategy = PopUpPricing(strategy, prices=prices)
    for product, quantity, _price in lines:
        oscar_basket.add_product(product, quantity)
    oscar_basket.freeze()
    return oscar_basket


def shipping_address_of(details: ShopperDetails):
    return ShippingAddress(
        first_name=details.first_name,
        last_name=details.last_name,
        line1=details.line1,
        line2=details.line2,
        line4=details.city,
        postcode=details.postcode,
        country=Country.objects.get(iso_3166_1_a2=details.country),
    )


def preorder_note(popup: PopUp) -> str:
    if popup.presale_ships_on:
        return _("Pre-order from the pre-sale “%(title)s”: ships around %(date)s.") % {
            "title": popup.title,
            "date": date_format(popup.presale_ships_on, "F Y"),
        }
    return _("Pre-order from the pre-sale “%(title)s”: ship date to be announced.") % {
        "title": popup.title
    }


def order_place(
    *,
    quote: Quote,
    details: ShopperDetails,
    popup: PopUp,
    payment: Payment,
    paid: bool,
    basket: PopUpBasket | None = None,
) -> "Order":
    """Place the Oscar order of `quote`, record its payment (authorised, or `paid`) and its origin.

    Call it inside the transaction that turned the units into sold ones. The buyer's confirmation
    e-mail is queued for when that transaction commits.
    """
    address = None
    if quote.basket.is_shipping_required() and details.country:
        address = shipping_address_of(details)
        address.save()
    order = OrderCreator().place_order(
        basket=quote.basket,
        total=quote.total,
        shipping_method=quote.shipping_method,
        shipping_charge=quote.shipping_charge,
        shipping_address=address,
        order_number=OrderNumberGenerator().order_number(quote.basket),
        guest_email=details.email,
    )
    quote.basket.submit()
    if popup.kind == PopUp.Kind.PRESALE:
        EventHandler().create_note(order, preorder_note(popup))
    payment_gateway().record(order=order, payment=payment, paid=paid)
    if basket is not None:
        # The basket row in one UPDATE, its payment id included (checkout_complete may bring it).
        PopUpBasket.objects.filter(pk=basket.pk).update(
            order=order,
            status=PopUpBasket.Status.ORDERED,
            payment_intent_id=basket.payment_intent_id,
            updated_at=timezone.now(),
        )
        basket.order, basket.status = order, PopUpBasket.Status.ORDERED
        order_attribute(basket=basket, order=order)
    task_queue_on_commit(order_placed_email_send, order.pk)
    return order
