from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from integrations.stripe import facade
from popup.checkout.services import ShopperDetails, checkout_pay
from popup.core.holds import basket_create, hold_set
from popup.models import Pledge, PopUp, PopUpProduct
from popup.presales.pledges import (
    _move,
    pledge_charge,
    pledge_confirm,
    pledge_start,
    presale_settle,
)
from tests.factories import PopUpFactory, create_product
from tests.integrations.stripe.support import (
    VISA,
    card_token,
    payment_intents_all,
    setup_intent_confirm,
)
from tests.popup.checkout.support import SHOPPER


def all_or_nothing(**kwargs):
    defaults = {
        "presale_funding": PopUp.Funding.ALL_OR_NOTHING,
        "presale_charge_when": PopUp.ChargeWhen.DEADLINE,
    }
    return presale(**{**defaults, **kwargs})


def pledge(popup, product, localstripe, *, email="ada@example.com", units=1, card=VISA):
    """A backer pledges `units` from a fresh basket and saves `card`, as the checkout page does."""
    basket = basket_create(popup=popup)
    hold_set(basket=basket, product_id=product.pk, quantity=units)
    details = ShopperDetails(**{**SHOPPER.__dict__, "email": email})
    setup = pledge_start(basket=basket, details=details)
    setup_intent_confirm(localstripe, setup.client_secret, card, authenticate=True)
    return pledge_confirm(basket_id=basket.pk, setup_intent_id=setup.setup_intent_id)


def close(popup):
    PopUp.objects.filter(pk=popup.pk).update(
        opens_at=timezone.now() - timedelta(days=10),
        closes_at=timezone.now() - timedelta(minutes=1),
    )
    popup.refresh_from_db()


def settle(popup, **kwargs):
    """Settle as the Celery task does, charging the pledges due one by one."""
    settlement = presale_settle(popup=popup, **kwargs)
    for pledge_id in settlement.pledges_due:
        pledge_charge(pledge_id=pledge_id, now=kwargs.get("now"))
    return settlement


def charged_by_a_worker_that_died(backer):
    """What a worker killed just after Stripe charged the card leaves behind: a `charging` pledge
    (its lease still on) with its PaymentIntent saved, paid at Stripe, and no order."""
    lease = timezone.now() + timedelta(minutes=2)
    _move(backer, Pledge.Status.CHARGING, "killed", attempts=1, charging_until=lease)
    intent = facade.payment_charge_create(
        amount=backer.amount,
        currency="EUR",
        customer=backer.stripe_customer_id,
        payment_method=backer.payment_method_id,
        idempotency_key=f"killed-{backer.pk}",
        metadata={"popup_pledge": str(backer.pk), "popup": backer.popup.slug},
    )
    Pledge.objects.filter(pk=backer.pk).update(payment_intent_id=intent.id)
    facade.payment_charge_confirm(payment_intent_id=intent.id, off_session=True)
    return intent


def payment_intents(localstripe, popup) -> list[dict]:
    """Every PaymentIntent localstripe has for this pop-up's pledges."""
    return [
        pi for pi in payment_intents_all(localstripe) if pi["metadata"].get("popup") == popup.slug
    ]


def back(popup, candle, localstripe, *, email, units):
    basket = basket_create(popup=popup)
    hold_set(basket=basket, product_id=candle.pk, quantity=units)
    details = ShopperDetails(**{**SHOPPER.__dict__, "email": email})
    return checkout_pay(basket=basket, details=details, card_token=card_token(localstripe)).order


SHIPS = date(2027, 4, 1)


def presale(**kwargs):
    kwargs = {
        "kind": PopUp.Kind.PRESALE,
        "presale_goal_units": 10,
        "presale_ships_on": SHIPS,
        **kwargs,
    }
    popup = PopUpFactory(**kwargs)
    candle = create_product(title="Ember smart candle", price=Decimal("45.00"))
    popup.range.add_product(candle)
    PopUpProduct.objects.create(
        popup=popup, product=candle, units_offered=300, price=Decimal("39.00")
    )
    return popup, candle
