"""Authorisations and saved cards nobody came back for are settled by the beat: ordered (pledged),
or cancelled (the backer told)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone
from oscar.core.loading import get_model

from integrations.stripe import client as stripe_client
from popup.checkout.orders import ShopperDetails
from popup.checkout.services import (
    ATTEMPT_KEY,
    Settled,
    basket_secure,
    checkout_authorisations_settle,
    checkout_pay,
)
from popup.core.holds import basket_create, hold_set
from popup.models import Pledge, PopUpBasket, PopUpProduct
from popup.payments import payment_gateway
from popup.presales.pledges import pledge_start, pledges_settle
from tests.integrations.stripe.support import THREE_D_SECURE, card_token, setup_intent_confirm
from tests.localstripe_server import localstripe_alone  # noqa: F401 - its own Stripe
from tests.popup.checkout.support import SHOPPER, authenticate, authorised_then_gone, basket_holding
from tests.popup.presales.support import all_or_nothing, close, settle

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


def test_a_shopper_whose_units_were_lost_away_from_the_page_is_told_in_their_language(
    localstripe,
):
    basket, step = authorised_then_gone(localstripe)
    PopUpBasket.objects.filter(pk=basket.pk).update(language="fr")
    basket.holds.update(reserved_until=timezone.now())
    rival = basket_create(popup=basket.popup)
    hold_set(basket=rival, product_id=basket.holds.get().terms.product_id, quantity=3)
    checkout_pay(basket=rival, details=SHOPPER, card_token=card_token(localstripe))
    mail.outbox.clear()

    assert checkout_authorisations_settle(now=timezone.now() + LATER).released == 1

    (email,) = mail.outbox
    assert email.body.startswith("Bonjour,")
    assert "Aucun montant n'a été débité." in email.body  # the reason, decided by the beat
    assert "Nothing" not in email.body


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


def test_the_reconcile_command_takes_a_grace_of_zero_minutes_or_more(localstripe, capsys):
    basket, step = authorised_then_gone(localstripe)

    with pytest.raises(CommandError, match="0 or more"):
        call_command("popup_reconcile", "--grace-minutes", "-5")
    assert status_of(step.payment_intent_id) == "requires_capture"  # nothing done
    call_command("popup_reconcile", "--grace-minutes", "0")  # after an outage: at once

    assert "Authorisations ordered or captured: 1;" in capsys.readouterr().out
    assert PopUpBasket.objects.get(pk=basket.pk).order is not None


def saved_then_gone(popup, candle, localstripe, *, units=1):
    """A backer whose card was saved, and who closed the tab before the pledge was made (the
    webhook lost too)."""
    basket = basket_create(popup=popup)
    hold_set(basket=basket, product_id=candle.pk, quantity=units)
    setup = pledge_start(basket=basket, details=ShopperDetails(**SHOPPER.__dict__))
    setup_intent_confirm(localstripe, setup.client_secret, authenticate=True)
    return basket


def test_a_card_saved_by_a_backer_who_never_came_back_becomes_the_pledge(localstripe):
    popup, candle = all_or_nothing()
    basket = saved_then_gone(popup, candle, localstripe, units=2)

    assert pledges_settle() == 0  # the backer may still be on the page
    assert pledges_settle(now=timezone.now() + LATER) == 1
    assert pledges_settle(now=timezone.now() + LATER) == 0  # once

    pledge = Pledge.objects.get(basket=basket)
    assert pledge.status == Pledge.Status.PLEDGED and pledge.lines.get().quantity == 2
    assert PopUpProduct.objects.get(popup=popup).units_sold == 2


def test_a_saved_card_whose_pledge_can_no_longer_be_made_is_told_by_email(localstripe):
    popup, candle = all_or_nothing(presale_goal_units=10)
    saved_then_gone(popup, candle, localstripe)
    close(popup)
    settle(popup)  # 0 of 10: not funded

    assert pledges_settle(grace=timedelta(0)) == 0

    assert not Pledge.objects.exists()
    assert PopUpProduct.objects.get(popup=popup).units_sold == 0
    (email,) = mail.outbox
    assert email.to == [SHOPPER.email] and "ended short of its goal" in email.body
    # Told once, and held to it: no later run makes that pledge.
    assert pledges_settle(grace=timedelta(0)) == 0
    assert len(mail.outbox) == 1 and not Pledge.objects.exists()
