"""Authorisations nobody came back for are settled by the beat: ordered, or cancelled."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from oscar.core.loading import get_model

from integrations.stripe import client as stripe_client
from popup.checkout.services import (
    ATTEMPT_KEY,
    Settled,
    basket_secure,
    checkout_authorisations_settle,
    checkout_pay,
)
from popup.core.holds import basket_create, hold_set
from popup.models import PopUpBasket
from popup.payments import payment_gateway
from tests.integrations.stripe.support import THREE_D_SECURE, card_token
from tests.localstripe_server import localstripe_alone  # noqa: F401 - its own Stripe
from tests.popup.checkout.support import SHOPPER, authenticate, authorised_then_gone, basket_holding

Order = get_model("order", "Order")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("france", "audited"),
]

LATER = timedelta(minutes=21)
NOTHING = Settled(ordered=0, released=0)


def status_of(payment_intent_id: str) -> str:
    return stripe_client.payment_intent_retrieve(payment_intent_id=payment_intent_id).status


def test_a_card_authorised_after_3_d_secure_whose_shopper_left_becomes_the_order(localstripe):
    basket, step = authorised_then_gone(localstripe)

    assert checkout_authorisations_settle() == NOTHING  # the shopper may still come back
    settled = checkout_authorisations_settle(now=timezone.now() + LATER)

    assert (settled.ordered, settled.released) == (1, 0)
    assert PopUpBasket.objects.get(pk=basket.pk).order == Order.objects.get()
    assert status_of(step.payment_intent_id) == "succeeded"
    assert checkout_authorisations_settle(now=timezone.now() + LATER) == NOTHING


def test_a_payment_whose_id_never_reached_the_basket_is_found_at_stripe(localstripe):
    basket = basket_holding(quantity=2)
    with transaction.atomic():
        locked = PopUpBasket.objects.select_for_update().get(pk=basket.pk)
        secured = basket_secure(basket=locked, details=SHOPPER, now=timezone.now())
    payment = payment_gateway().authorise(  # then the worker was killed
        amount=Decimal("50.00"),
        currency="EUR",
        idempotency_key=f"killed-{basket.pk}",
        card_token=card_token(localstripe),
        metadata={"popup_basket": str(basket.pk), ATTEMPT_KEY: str(secured.payment_attempts)},
    )

    settled = checkout_authorisations_settle(now=timezone.now() + LATER)

    assert settled.ordered == 1
    assert PopUpBasket.objects.get(pk=basket.pk).payment_intent_id == payment.id
    assert status_of(payment.id) == "succeeded"


def test_an_authorisation_whose_units_were_lost_is_cancelled(localstripe):
    basket, step = authorised_then_gone(localstripe)
    # Its holds lapsed while it waited, and another shopper bought all 3 units.
    basket.holds.update(reserved_until=timezone.now())
    rival = basket_create(popup=basket.popup)
    hold_set(basket=rival, product_id=basket.holds.get().terms.product_id, quantity=3)
    checkout_pay(basket=rival, details=SHOPPER, card_token=card_token(localstripe))

    settled = checkout_authorisations_settle(now=timezone.now() + LATER)

    assert (settled.ordered, settled.released) == (0, 1)
    assert status_of(step.payment_intent_id) == "canceled"
    assert not Order.objects.filter(popup_basket=basket).exists()


def test_a_challenge_never_passed_holds_no_money_and_is_left_to_expire(localstripe):
    basket = basket_holding()
    step = checkout_pay(
        basket=basket, details=SHOPPER, card_token=card_token(localstripe, THREE_D_SECURE)
    )
    assert checkout_authorisations_settle(now=timezone.now() + LATER) == NOTHING
    assert status_of(step.payment_intent_id) == "requires_action"
    authenticate(localstripe, step.payment_intent_id, step.client_secret, success=False)


def test_operators_settle_at_once_with_the_reconcile_command(localstripe, settings, capsys):
    settings.POPUP_SETTLE_AFTER_MINUTES = 0  # the operator's store does not wait
    basket, step = authorised_then_gone(localstripe)

    call_command("popup_reconcile")

    assert "Authorisations ordered or captured: 1; cancelled: 0." in capsys.readouterr().out
    assert PopUpBasket.objects.get(pk=basket.pk).order is not None
    assert status_of(step.payment_intent_id) == "succeeded"
