"""Checkout: the units are secured before any money moves, and nobody pays for units they don't get.

1. checkout_pay: the holds are checked and stretched to cover the payment, the shopper's details
   saved, then the card is authorised: nothing is charged yet.
2. checkout_complete, once the authorisation is there (at once, after 3-D Secure, or from the payment
   provider's webhook, in any order, any number of times): under row locks the held units become
   sold units and one Oscar order is placed, then the payment is captured. If the units were lost
   meanwhile (a hold expired during 3-D Secure and someone else took them), the authorisation is
   cancelled instead: the shopper is told, and never charged.

Pledges (popup.presales.pledges) secure a basket the same way (basket_secure) before a card is saved.
"""

import logging
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from oscar.core.loading import get_class, get_model

from popup.channels.placements import basket_checkout_start, payment_metadata
from popup.checkout.customers import email_key
from popup.checkout.orders import (
    Quote,
    ShopperDetails,
    order_place,
    oscar_basket_priced,
    shipping_address_of,
)
from popup.conf import popup_settings
from popup.core.languages import language_of_basket
from popup.core.pushes import live_changed
from popup.core.selectors import basket_summary
from popup.errors import Refusal
from popup.locking import stock_records_locked, terms_locked
from popup.models import Hold, Pledge, PledgeLine, PopUpBasket, PopUpProduct
from popup.notifications.tasks import checkout_lost_email_send
from popup.payments import PaymentNotConfirmed, payment_gateway
from popup.queueing import task_queue

logger = logging.getLogger(__name__)

Basket = get_model("basket", "Basket")
Country = get_model("address", "Country")
Order = get_model("order", "Order")
OrderLine = get_model("order", "Line")
Source = get_model("payment", "Source")
OrderTotalCalculator = get_class("checkout.calculators", "OrderTotalCalculator")
Repository = get_class("shipping.repository", "Repository")
Selector = get_class("partner.strategy", "Selector")
PaymentError = get_class("payment.exceptions", "PaymentError")
UnableToTakePayment = get_class("payment.exceptions", "UnableToTakePayment")


class Told(str):
    """Why a payment went nowhere, in words that already tell the shopper nothing was charged."""


# Paying (with 3-D Secure) takes time: the holds are stretched to cover it when payment starts.
PAYMENT_MINUTES = 15
# Beyond this, a basket is more likely testing stolen cards, or keeping units held, than buying.
MAX_PAYMENT_ATTEMPTS = 5
# Each payment names the basket's attempt it was made for: only the latest attempt can become the order.
ATTEMPT_KEY = "popup_attempt"


class CheckoutRefused(Refusal):
    """Why this checkout (or pledge) cannot go on, in words for the shopper."""


@dataclass(frozen=True)
class PaymentStep:
    """Where a payment stands after checkout_pay: an order, or a 3-D Secure challenge to pass."""

    payment_intent_id: str
    status: str
    client_secret: str
    order: "Order | None" = None


def basket_holds(basket: PopUpBasket) -> list[Hold]:
    return list(basket.holds.select_related("terms__product").order_by("terms_id"))


def _units_held_by_others(basket: PopUpBasket, terms_ids, now: datetime) -> dict[int, int]:
    """Units other baskets hold now, per pop-up terms row: one query for all the lines."""
    others = Hold.objects.active(now).filter(terms_id__in=terms_ids).exclude(basket=basket)
    return dict(
        others.values("terms_id").annotate(units=Sum("quantity")).values_list("terms_id", "units")
    )


def units_short(*, basket: PopUpBasket, holds: list[Hold], now: datetime) -> list[str]:
    """Titles of the lines whose units this basket can no longer have; locks terms and stock rows."""
    terms_by_id = terms_locked(hold.terms_id for hold in holds)
    held_elsewhere = _units_held_by_others(basket, terms_by_id, now)
    hold_by_product = {terms_by_id[hold.terms_id].product_id: hold for hold in holds}
    short = []
    for hold in holds:
        terms = terms_by_id[hold.terms_id]
        if terms.units_offered is not None:
            free = terms.units_offered - terms.units_sold - held_elsewhere.get(terms.pk, 0)
            if hold.quantity > free:
                short.append(terms.product.get_title())
    for record in stock_records_locked(hold_by_product):
        if not record.product.get_product_class().track_stock:
            continue
        hold = hold_by_product[record.product_id]
        free = (record.net_stock_level or 0) - held_elsewhere.get(hold.terms_id, 0)
        if hold.quantity > free:
            short.append(record.product.get_title())
    return sorted(set(short))


def units_pledged(*, popup, email: str) -> int:
    """Units the customer of `email` has pledged in the pop-up and not cancelled (one query)."""
    pledged = PledgeLine.objects.filter(
        pledge__popup=popup, pledge__email_key=email_key(email), pledge__status__in=Pledge.ACTIVE
    )
    return pledged.aggregate(units=Sum("quantity"))["units"] or 0


@dataclass(frozen=True)
class CustomerUnits:
    """What one customer already has of a pop-up, besides the basket being paid for."""

    bought: int
    pledged: int
    paying: int  # held by their other baskets whose payment has started

    @property
    def total(self) -> int:
        return self.bought + self.pledged + self.paying


def customer_units(*, basket: PopUpBasket, email: str, paying_at: datetime | None) -> CustomerUnits:
    """The units the customer of `email` has in the basket's pop-up outside `basket`: bought,
    pledged and, when `paying_at` is given, held at that time by their other baskets in payment."""
    key = email_key(email)
    others = PopUpBasket.objects.filter(popup=basket.popup_id, email_key=key).exclude(pk=basket.pk)
    bought = OrderLine.objects.filter(order__popup_basket__in=others).aggregate(
        units=Sum("quantity")
    )["units"]
    paying = 0
    if paying_at is not None:
        paying_baskets = others.filter(order__isnull=True, payment_attempts__gt=0)
        paying = (
            Hold.objects.active(paying_at)
            .filter(basket__in=paying_baskets)
            .aggregate(units=Sum("quantity"))["units"]
        )
    return CustomerUnits(
        bought=bought or 0,
        pledged=units_pledged(popup=basket.popup, email=email),
        paying=paying or 0,
    )


def beyond_customer_limit(
    basket: PopUpBasket, holds: list[Hold], email: str, *, paying_at: datetime | None
) -> str:
    """Why the basket's units would take `email`'s customer beyond the pop-up's limit, or ""."""
    limit = basket.popup.per_customer_limit
    if limit is None:
        return ""
    had = customer_units(basket=basket, email=email, paying_at=paying_at)
    if had.total + sum(hold.quantity for hold in holds) <= limit:
        return ""
    if had.paying:
        message = ngettext(
            "You can have %(limit)d unit of this pop-up in all, and %(had)d are already bought, "
            "pledged or being paid for in another basket with this e-mail address.",
            "You can have %(limit)d units of this pop-up in all, and %(had)d are already bought, "
            "pledged or being paid for in another basket with this e-mail address.",
            limit,
        )
    elif had.pledged:
        message = ngettext(
            "You can have %(limit)d unit of this pop-up in all, and have already pledged or "
            "bought %(had)d.",
            "You can have %(limit)d units of this pop-up in all, and have already pledged or "
            "bought %(had)d.",
            limit,
        )
    else:
        message = ngettext(
            "You can buy %(limit)d unit of this pop-up in all, and have bought %(had)d.",
            "You can buy %(limit)d units of this pop-up in all, and have bought %(had)d.",
            limit,
        )
    return message % {"limit": limit, "had": had.total}


def _refuse_outside_shipping_countries(basket: PopUpBasket, details: ShopperDetails) -> None:
    """Refuse an address outside the countries the pop-up is sold to (when it has such a list)."""
    countries = basket.popup.shipping_countries
    if not countries or not details.country or details.country.upper() in countries:
        return
    names = Country.objects.filter(iso_3166_1_a2__in=countries).order_by("printable_name")
    listed = ", ".join(country.printable_name for country in names) or ", ".join(countries)
    raise CheckoutRefused(
        _("This pop-up ships only to: %(countries)s.") % {"countries": listed}, code="country"
    )


def basket_secure(*, basket: PopUpBasket, details: ShopperDetails, now: datetime) -> PopUpBasket:
    """Check the locked basket can be paid for by `details`, stretch its holds to cover the payment,
    save the shopper's details and count the attempt; the basket as saved. Raises CheckoutRefused.

    Call it inside a transaction, with the basket's row locked: checkout and pledges both do.
    """
    if basket.payment_attempts >= MAX_PAYMENT_ATTEMPTS:
        raise CheckoutRefused(
            _("Too many payment attempts for this basket. Nothing was charged."), code="attempts"
        )
    # Paying freezes who brought the shopper (and earns the commission), page or no page.
    basket_checkout_start(basket=basket)
    holds = basket_holds(basket)
    if not holds:
        raise CheckoutRefused(_("Your basket is empty."), code="empty")
    # Counted again when the order is placed: two baskets may be paying at once.
    beyond_limit = beyond_customer_limit(basket, holds, details.email, paying_at=now)
    if beyond_limit:
        raise CheckoutRefused(beyond_limit, code="limit")
    _refuse_outside_shipping_countries(basket, details)
    # A line whose hold lapsed stays if its units are still free: nothing silently drops out.
    short = units_short(basket=basket, holds=holds, now=now)
    if short:
        raise CheckoutRefused(no_longer_available(short), code="lost")
    basket.holds.update(reserved_until=now + timedelta(minutes=PAYMENT_MINUTES))
    live_changed(popup_id=basket.popup_id)
    basket.email = details.email
    basket.email_key = email_key(details.email)
    basket.shipping = {k: v for k, v in asdict(details).items() if k != "email"}
    basket.payment_attempts = F("payment_attempts") + 1
    basket.save()
    basket.refresh_from_db()
    return basket


def basket_quote(basket: PopUpBasket, details: ShopperDetails, *, strategy) -> Quote:
    """An Oscar basket of the held units at the pop-up's prices, its shipping and its total."""
    _storefront, summary = basket_summary(basket=basket, strategy=strategy)
    oscar_basket = oscar_basket_priced(
        [(line.item.product, line.quantity, line.item.price) for line in summary.lines],
        strategy=strategy,
    )
    needs_address = oscar_basket.is_shipping_required() and details.country
    address = shipping_address_of(details) if needs_address else None
    method = Repository().get_default_shipping_method(basket=oscar_basket, shipping_addr=address)
    charge = method.calculate(oscar_basket)
    total = OrderTotalCalculator().calculate(oscar_basket, charge)
    return Quote(basket=oscar_basket, shipping_method=method, shipping_charge=charge, total=total)


def off_sale(holds: list[Hold], quote: Quote) -> list[str]:
    """Titles of the held products the quote leaves out: taken off sale (hidden, or out of the
    pop-up's slice) since they were held. Their units must not be sold unpaid."""
    return sorted(
        hold.terms.product.get_title()
        for hold in holds
        if hold.terms.product_id not in quote.prices
    )


def no_longer_available(titles: list[str]) -> str:
    """Why a basket cannot be paid for: these lines are gone."""
    return _("No longer available: %(titles)s.") % {"titles": ", ".join(titles)}


# A country as the shopper's browser names it: ISO 3166-1 alpha-2, in either case.
COUNTRY_CODE = re.compile(r"[A-Za-z]{2}")


@dataclass(frozen=True)
class CheckoutFigures:
    """What the checkout shows before the shopper pays: the amount charged is `total`."""

    subtotal: Decimal  # the items, at the prices the pop-up charges this basket
    delivery: Decimal | None  # None: nothing to deliver
    total: Decimal
    currency: str
    # Whether the store's own strategy knows the tax in these prices (Oscar's Price.is_tax_known),
    # so that the pop-up's prices, charged as they are, are prices tax included.
    tax_known: bool


def country_code(value: str) -> str | None:
    """`value` as an ISO 3166-1 alpha-2 code (upper case), "" for none, None when it is not one:
    what a shopper sends is read here before any query sees it (PostgreSQL refuses a NUL)."""
    if not value:
        return ""
    return value.upper() if COUNTRY_CODE.fullmatch(value) else None


def _shipping_country(basket: PopUpBasket, country: str) -> str:
    """`country` if the basket's pop-up may ship there, else "" (no address: the default method)."""
    code = country_code(country or "")
    allowed = basket.popup.shipping_countries
    if not code or (allowed and code not in allowed):
        return ""
    shipped = Country.objects.filter(iso_3166_1_a2=code, is_shipping_country=True).exists()
    return code if shipped else ""


def _tax_known(quote: Quote) -> bool:
    """Whether the store's strategy (beneath PopUpPricing) knows the tax of every product it prices
    in the quote, and the shipping charge its tax too."""
    store = quote.basket.strategy.strategy
    prices = [
        store.fetch_for_product(line.product, line.stockrecord).price
        for line in quote.basket.all_lines()
    ]
    known = [price.is_tax_known for price in prices if price.exists]
    return bool(known) and all(known) and quote.shipping_charge.is_tax_known


def checkout_figures(*, basket: PopUpBasket, strategy=None, country: str = "") -> CheckoutFigures:
    """What paying for the basket now costs, delivered to `country` (ISO code; "" or a country the
    pop-up does not ship to: the default shipping method's charge): the same quote checkout_pay
    charges, so the figures shown are the figures paid."""
    details = ShopperDetails("", "", "", "", "", "", "", _shipping_country(basket, country))
    quote = basket_quote(basket, details, strategy=strategy or Selector().strategy())
    try:
        charge = quote.shipping_charge
        delivery = charge.incl_tax if charge.is_tax_known else charge.excl_tax
        return CheckoutFigures(
            subtotal=quote.basket.total_incl_tax,
            delivery=delivery if quote.basket.is_shipping_required() else None,
            total=quote.amount,
            currency=quote.currency,
            tax_known=_tax_known(quote),
        )
    finally:
        quote.basket.delete()


def _details(basket: PopUpBasket) -> ShopperDetails:
    return ShopperDetails(email=basket.email, **basket.shipping)


def checkout_pay(
    *,
    basket: PopUpBasket,
    details: ShopperDetails,
    card_token: str = "",
    payment_method: str = "",
    strategy=None,
) -> PaymentStep:
    """Secure the basket's units for the payment, then authorise the card (nothing charged yet).

    Raises CheckoutRefused when the units cannot be had, UnableToTakePayment when the card is
    refused (the holds stay until they expire), PaymentError when payments cannot be reached.
    """
    strategy = strategy or Selector().strategy()
    with transaction.atomic():
        basket = PopUpBasket.objects.select_for_update().get(pk=basket.pk)
        if basket.order_id:
            return PaymentStep(basket.payment_intent_id, "succeeded", "", order=basket.order)
        basket = basket_secure(basket=basket, details=details, now=timezone.now())
        quote = basket_quote(basket, details, strategy=strategy)
        quote.basket.delete()  # only the amount was needed; the order gets a fresh one
        gone = off_sale(basket_holds(basket), quote)
        if gone:  # nothing of this attempt is kept: the shopper sees why, and can pay for the rest
            raise CheckoutRefused(no_longer_available(gone), code="lost")

    attempt = basket.payment_attempts
    gateway = payment_gateway()
    try:
        payment = gateway.authorise(
            amount=quote.amount,
            currency=quote.currency,
            idempotency_key=f"popup-basket-{basket.pk}-attempt-{attempt}",
            card_token=card_token,
            payment_method=payment_method,  # from a wallet (Apple Pay, Google Pay) instead of a card
            email=details.email,
            description=f"{basket.popup.title} (basket {basket.pk})",
            metadata={**payment_metadata(basket), ATTEMPT_KEY: str(attempt)},
        )
    except UnableToTakePayment:
        raise
    except PaymentError as error:
        # Stripe may have authorised the card and the answer got lost: the settle task finds the
        # payment and orders or cancels it (a new attempt makes this one lose, so it is cancelled).
        raise CheckoutRefused(
            _(
                "We could not hear back from the payment service in time. You will not be charged "
                "twice: if your payment went through, your order confirmation follows by e-mail; "
                "otherwise, try again in a moment."
            ),
            code="payment_unknown",
            status=503,
        ) from error
    with transaction.atomic():
        basket = PopUpBasket.objects.select_for_update().get(pk=basket.pk)
        if basket.order_id is None and basket.payment_attempts == attempt:
            replaced_id, basket.payment_intent_id = basket.payment_intent_id, payment.id
            basket.save(update_fields=["payment_intent_id", "updated_at"])
            if replaced_id and replaced_id != payment.id:
                _payment_release(gateway, replaced_id)
        else:
            # Another submit of this basket started after this one, or the basket has its order
            # (placed with this very payment, maybe, by Stripe's webhook: then it is kept).
            if payment.id != basket.payment_intent_id:
                _payment_release(gateway, payment.id)
            if basket.order_id:
                return PaymentStep(basket.payment_intent_id, "succeeded", "", order=basket.order)
            raise _replaced()
    if not payment.is_authorised:
        return PaymentStep(payment.id, payment.status, payment.client_secret)
    order = checkout_complete(basket_id=basket.pk, payment_intent_id=payment.id, strategy=strategy)
    return PaymentStep(payment.id, "succeeded", "", order=order)


def _payment_is_current(basket: PopUpBasket, payment) -> bool:
    """Whether `payment` is the one that pays for the locked basket: the order's payment once there
    is an order; before that the payment noted on the basket, or the one of its latest attempt (a
    webhook may tell of it before checkout_pay has noted its id)."""
    if basket.payment_intent_id == payment.id:
        return True  # the order's, or the latest noted (a newer attempt may have failed unnoted)
    if basket.order_id:
        return False
    return payment.metadata.get(ATTEMPT_KEY) == str(basket.payment_attempts)


def _payment_release(gateway, payment_id: str) -> None:
    """Cancel an authorisation that will not pay for an order; a payment that cannot be cancelled
    (already captured, or the provider unreachable) is logged for popup_audit and the staff."""
    try:
        gateway.cancel(payment_id=payment_id)
    except PaymentError:
        logger.exception("Payment %s could not be released", payment_id)


def _replaced() -> CheckoutRefused:
    return CheckoutRefused(
        _("This payment was replaced by a newer one. Nothing was charged for it."),
        code="replaced",
    )


def checkout_complete(*, basket_id: int, payment_intent_id: str, strategy=None) -> "Order":
    """Turn an authorised payment into exactly one Oscar order, or release it uncharged.

    Safe to call any number of times, from the browser or a webhook, in any order. Raises
    CheckoutRefused (after cancelling the authorisation) when the units were lost.
    """
    strategy = strategy or Selector().strategy()
    gateway = payment_gateway()
    lost, replaced = "", False
    try:
        payment = gateway.retrieve(payment_id=payment_intent_id)
    except PaymentError as error:
        raise CheckoutRefused(_("We could not find this payment."), code="unknown") from error
    if payment.metadata.get("popup_basket") != str(basket_id) or payment.metadata.get(
        "popup_pledge"
    ):
        # Someone else's payment, or a pledge's charge: never touch it, whoever names it.
        raise CheckoutRefused(_("We could not find this payment."), code="unknown")
    if payment.needs_authentication:
        # The shopper is still in the bank's 3-D Secure challenge: wait for it, release nothing.
        raise CheckoutRefused(
            _("The payment is waiting for your bank's confirmation."), code="pending"
        )
    with transaction.atomic():
        basket = PopUpBasket.objects.select_for_update().select_related("popup").get(pk=basket_id)
        replaced = not _payment_is_current(basket, payment)
        if basket.order_id and not replaced:
            order = basket.order
        elif not replaced:
            order, lost = _order_from_holds(basket, payment_intent_id, strategy)
    # Decided under the locks, released once they are free: the pop-up's row is among them, and a
    # drop selling out must not wait on Stripe. A payment that lost stays lost (attempts only grow).
    if replaced:
        # An earlier attempt of this basket (say, a card abandoned in 3-D Secure and finished
        # later), or a later one once the order exists: released, never captured.
        _payment_release(gateway, payment_intent_id)
        raise _replaced()
    if lost:
        _payment_release(gateway, payment_intent_id)
        nothing_charged = _("Nothing was charged.")
        told = isinstance(lost, Told) or nothing_charged in lost
        message = lost if told else f"{lost} {nothing_charged}"
        # Told on the page if the shopper is there, and by email in case only the webhook is.
        task_queue(checkout_lost_email_send, basket_id, message)
        raise CheckoutRefused(message, code="lost")
    try:
        gateway.capture(order=order, payment_id=payment_intent_id)
    except PaymentError:
        logger.exception("Capture failed for order %s", order.number)
    return order


def _order_from_holds(
    basket: PopUpBasket, payment_intent_id: str, strategy
) -> tuple["Order | None", str]:
    """The held units sold and their order placed; or no order and why, when they cannot be."""
    details = _details(basket)
    holds = basket_holds(basket)
    # The basket row is locked, so its lines cannot change; ask the provider before locking stock.
    quote = basket_quote(basket, details, strategy=strategy)
    try:
        payment = payment_gateway().authorised(
            payment_id=payment_intent_id, amount=quote.amount, currency=quote.currency
        )
    except UnableToTakePayment as error:  # e.g. 3-D Secure failed
        quote.basket.delete()
        return None, Told(error) if isinstance(error, PaymentNotConfirmed) else str(error)
    except PaymentError:
        quote.basket.delete()
        return None, _("Your basket changed while you paid.")
    gone = off_sale(holds, quote)
    if gone:
        quote.basket.delete()
        return None, no_longer_available(gone)
    # The pop-up's row is locked too (checkout_complete): no other order of it is placed meanwhile.
    beyond_limit = beyond_customer_limit(basket, holds, details.email, paying_at=None)
    if beyond_limit:
        quote.basket.delete()
        return None, beyond_limit
    short = units_short(basket=basket, holds=holds, now=timezone.now())
    if short:
        quote.basket.delete()
        titles = ", ".join(short)
        return None, _("Sorry, these sold out while you paid: %(titles)s.") % {"titles": titles}

    for hold in holds:
        PopUpProduct.objects.filter(pk=hold.terms_id).update(
            units_sold=F("units_sold") + hold.quantity
        )
    basket.holds.all().delete()
    live_changed(popup_id=basket.popup_id)
    basket.payment_intent_id = payment_intent_id  # a webhook may bring it before checkout_pay does
    order = order_place(
        quote=quote,
        details=details,
        popup=basket.popup,
        payment=payment,
        paid=False,
        basket=basket,
    )
    return order, ""


# How far back the settle task looks for authorisations (Stripe releases them after 7 days).
SETTLE_WITHIN = timedelta(days=2)


def _captures_unrecorded(payment_ids: list[str]) -> set[str]:
    """Of these captured payments, those whose order records no money taken."""
    unrecorded = set()
    for start in range(0, len(payment_ids), 1000):
        sources = Source.objects.filter(
            reference__in=payment_ids[start : start + 1000], amount_debited__lte=0
        )
        unrecorded.update(sources.values_list("reference", flat=True))
    return unrecorded


def settle_after() -> timedelta:
    """How long a card authorisation whose order nobody asked for (the tab closed after 3-D
    Secure, the webhook lost, the worker killed before it noted the payment) waits for its shopper
    before the settle task finishes it (POPUP_SETTLE_AFTER_MINUTES)."""
    return timedelta(minutes=popup_settings.POPUP_SETTLE_AFTER_MINUTES)


@dataclass(frozen=True)
class Settled:
    ordered: int  # authorisations that became their basket's order
    released: int  # cancelled: replaced, or their units lost


def checkout_authorisations_settle(
    *, now: datetime | None = None, grace: timedelta | None = None
) -> Settled:
    """Turn every checkout authorisation left waiting past `grace` (settle_after()) into its order,
    or cancel it, as checkout_complete would had the shopper come back: no card stays authorised
    for nothing. A capture Stripe made whose record was lost (the database went down right after)
    is recorded on its order.

    The payment provider is asked for them, so a payment whose id never reached the basket is found.
    """
    now = now or timezone.now()
    ordered = released = 0
    gateway = payment_gateway()
    waited_enough = (settle_after() if grace is None else grace).total_seconds()
    due = [
        payment
        for payment in gateway.payments(created_after=now - SETTLE_WITHIN)
        if payment.metadata.get("popup_basket", "").isdigit()
        and not payment.metadata.get(
            "popup_pledge"
        )  # a pledge's charge: pre-sales settle their own
        and now.timestamp() - payment.created >= waited_enough
    ]
    unrecorded = _captures_unrecorded([payment.id for payment in due if payment.is_paid])
    for payment in due:
        if not (payment.is_authorised or payment.id in unrecorded):
            continue
        basket_id = payment.metadata["popup_basket"]
        if not PopUpBasket.objects.filter(pk=basket_id).exists():
            # Another installation's (staging on the same Stripe account?): not ours to cancel.
            logger.warning(
                "Payment %s names basket %s, which this store lacks", payment.id, basket_id
            )
            continue
        try:
            with translation.override(language_of_basket(int(basket_id))):
                checkout_complete(basket_id=int(basket_id), payment_intent_id=payment.id)
        except CheckoutRefused as refusal:
            if refusal.code in ("replaced", "lost"):
                released += 1
            else:
                logger.warning("Payment %s was not settled: %s", payment.id, refusal)
        except Exception:  # one payment's trouble must not keep the others authorised
            logger.exception("Payment %s could not be settled", payment.id)
        else:
            ordered += 1
    return Settled(ordered=ordered, released=released)
