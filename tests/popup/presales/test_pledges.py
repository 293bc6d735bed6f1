"""All-or-nothing pre-sales: pledges on saved cards, settlement, failed charges and their retries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone, translation
from oscar.core.loading import get_model

from popup.checkout.orders import ShopperDetails
from popup.checkout.services import CheckoutRefused
from popup.core.holds import basket_create, hold_set
from popup.core.selectors import popup_storefront
from popup.models import Pledge, PopUp, PopUpProduct
from popup.presales.pledges import (
    pledge_cancel,
    pledge_charge,
    pledge_confirm,
    pledge_quantity_set,
    pledge_start,
    presale_settle,
)
from popup.tasks import presale_settle_run
from tests.integrations.stripe.support import (
    DECLINED_ON_CHARGE,
    THREE_D_SECURE,
    deliver,
    event_payload,
    setup_intent_confirm,
    signed,
)
from tests.popup.checkout.support import SHOPPER
from tests.popup.presales.support import (
    all_or_nothing,
    charged_by_a_worker_that_died,
    close,
    payment_intents,
    pledge,
    settle,
)

Order = get_model("order", "Order")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("stripe_settings"),
    pytest.mark.usefixtures("france"),
]


def test_a_pledge_saves_the_card_charges_nothing_and_holds_its_units(localstripe):
    popup, candle = all_or_nothing(presale_goal_units=10)
    first = pledge(popup, candle, localstripe, email="ada@example.com", units=2)

    assert first.status == Pledge.Status.PLEDGED
    assert (first.amount, first.currency) == (Decimal("78.00") + first.shipping_charge, "EUR")
    assert first.payment_method_id and first.stripe_customer_id
    assert first.card_label == "Visa •••• 4242"
    assert payment_intents(localstripe, popup) == []  # nothing charged, nothing even authorised
    assert PopUpProduct.objects.get(popup=popup).units_sold == 2
    assert not first.basket.holds.exists()

    progress = popup_storefront(popup=popup).presale
    assert (progress.units, progress.amount, progress.backers) == (2, Decimal("78.00"), 1)

    (email,) = mail.outbox
    assert email.to == ["ada@example.com"]
    assert "Nothing has been charged" in email.body
    assert "only if it reaches its goal" in email.body
    assert f"/popup/pledge/{first.token}/" in email.body
    assert [event.status_to for event in first.events.all()] == ["pledged"]


def test_funded_at_the_deadline_every_pledge_becomes_a_paid_order_once(localstripe):
    popup, candle = all_or_nothing(presale_goal_units=3)
    pledges = [pledge(popup, candle, localstripe, email=f"b{n}@example.com") for n in range(3)]
    assert presale_settle(popup=popup).pledges_due == []  # still open: nothing charged yet

    close(popup)
    settle(popup)
    settle(popup)  # a second run, as the beat schedule or a staff click would do, changes nothing

    popup.refresh_from_db()
    assert popup.presale_outcome == PopUp.Outcome.FUNDED
    for backer in pledges:
        backer.refresh_from_db()
        assert backer.status == Pledge.Status.PAID
        order = backer.order
        assert order.total_incl_tax == backer.amount
        assert order.sources.get().amount_debited == backer.amount
        assert "Pre-order from the pre-sale" in order.notes.get().message
        assert [e.status_to for e in backer.events.all()] == ["pledged", "charging", "paid"]
        paid = backer.events.get(status_to="paid")  # its figures apart, for any reader's language
        assert (paid.note, paid.note_args) == ("Paid: order %(number)s", {"number": order.number})
        with translation.override("fr"):
            assert paid.note_text == f"Payé\u00a0: commande {order.number}"
    charged = payment_intents(localstripe, popup)
    assert len(charged) == 3 and {pi["status"] for pi in charged} == {"succeeded"}
    assert Order.objects.count() == 3
    # Paid pledges are counted once, by their orders.
    assert popup_storefront(popup=popup).presale.units == 3


def test_a_missed_goal_charges_nobody_and_tells_every_backer(localstripe, client):
    popup, candle = all_or_nothing(presale_goal_units=10)
    pledges = [pledge(popup, candle, localstripe, email=f"b{n}@example.com") for n in range(2)]
    mail.outbox.clear()

    close(popup)
    settlement = settle(popup)

    assert (settlement.outcome, settlement.pledges_cancelled) == (PopUp.Outcome.NOT_FUNDED, 2)
    for backer in pledges:
        backer.refresh_from_db()
        assert backer.status == Pledge.Status.CANCELLED
    assert payment_intents(localstripe, popup) == []
    assert PopUpProduct.objects.get(popup=popup).units_sold == 0
    assert sorted(m.to[0] for m in mail.outbox) == ["b0@example.com", "b1@example.com"]
    assert "will not be charged" in mail.outbox[0].subject
    assert "Not funded" in client.get(f"/popup/{popup.slug}/").content.decode()


def test_charging_as_soon_as_the_goal_is_reached(localstripe):
    popup, candle = all_or_nothing(presale_goal_units=2, presale_charge_when=PopUp.ChargeWhen.GOAL)
    first = pledge(popup, candle, localstripe, email="ada@example.com")
    first.refresh_from_db()
    assert first.status == Pledge.Status.PLEDGED  # 1 of 2: not yet

    second = pledge(popup, candle, localstripe, email="grace@example.com")  # the goal is met

    popup.refresh_from_db()
    assert popup.presale_outcome == PopUp.Outcome.FUNDED
    for backer in (first, second):
        backer.refresh_from_db()
        assert backer.status == Pledge.Status.PAID
    assert not popup.takes_pledges  # from now on shoppers pay at once, as in flexible mode


def test_a_declined_card_is_retried_after_1_3_and_7_days_then_dropped(localstripe):
    popup, candle = all_or_nothing(presale_goal_units=1)
    backer = pledge(popup, candle, localstripe, units=2, card=DECLINED_ON_CHARGE)
    close(popup)
    mail.outbox.clear()

    settle(popup)
    backer.refresh_from_db()
    first_failure = backer.first_failed_at
    assert backer.status == Pledge.Status.FAILED
    assert backer.next_retry_at == first_failure + timedelta(days=1)
    assert backer.failure_code == "card_declined"
    (email,) = mail.outbox
    assert "did not go through" in email.subject
    assert f"/popup/pledge/{backer.token}/" in email.body

    assert settle(popup).pledges_due == []  # not yet time to retry
    for days, status in ((1, Pledge.Status.RETRYING), (3, Pledge.Status.RETRYING)):
        settle(popup, now=first_failure + timedelta(days=days, seconds=1))
        backer.refresh_from_db()
        assert backer.status == status
    assert backer.next_retry_at == first_failure + timedelta(days=7)

    settle(popup, now=first_failure + timedelta(days=7, seconds=1))
    backer.refresh_from_db()
    assert backer.status == Pledge.Status.DROPPED
    assert backer.attempts == 4
    assert PopUpProduct.objects.get(popup=popup).units_sold == 0  # its units are offered again
    assert [e.status_to for e in backer.events.all()] == [
        "pledged",
        *["charging", "failed"],
        *["charging", "retrying"] * 2,
        *["charging", "dropped"],
    ]
    assert {pi["status"] for pi in payment_intents(localstripe, popup)} == {
        "requires_payment_method"
    }
    assert "dropped" in mail.outbox[-1].subject


def test_a_card_that_wants_authentication_off_session_fails_without_a_dangling_charge(
    localstripe,
):
    popup, candle = all_or_nothing(presale_goal_units=1)
    backer = pledge(popup, candle, localstripe, card=THREE_D_SECURE)
    close(popup)

    settle(popup)

    backer.refresh_from_db()
    assert (backer.status, backer.failure_code) == (Pledge.Status.FAILED, "authentication_required")
    assert "confirm this payment yourself" in backer.failure_message
    # The charge nobody could authenticate is cancelled, so it cannot go through later.
    assert [pi["status"] for pi in payment_intents(localstripe, popup)] == ["canceled"]


def test_a_worker_that_died_mid_charge_is_finished_from_stripe_without_charging_again(
    localstripe,
):
    popup, candle = all_or_nothing(presale_goal_units=1)
    backer = pledge(popup, candle, localstripe)
    close(popup)
    presale_settle(popup=popup)
    intent = charged_by_a_worker_that_died(backer)

    assert pledge_charge(pledge_id=backer.pk).status == Pledge.Status.CHARGING  # lease still on
    settle(popup, now=timezone.now() + timedelta(minutes=3))

    backer.refresh_from_db()
    assert backer.status == Pledge.Status.PAID
    assert backer.order.sources.get().reference == intent.id
    assert len(payment_intents(localstripe, popup)) == 1  # the one charge, never a second


def test_a_backer_changes_the_quantity_then_cancels_before_charging(localstripe):
    popup, candle = all_or_nothing(presale_goal_units=10, per_customer_limit=3)
    backer = pledge(popup, candle, localstripe, units=1)
    line = backer.lines.get()

    backer = pledge_quantity_set(pledge=backer, line_id=line.pk, quantity=3)
    assert backer.amount == Decimal("117.00") + backer.shipping_charge
    assert PopUpProduct.objects.get(popup=popup).units_sold == 3
    with pytest.raises(CheckoutRefused, match="3 units of this pop-up in all"):
        pledge_quantity_set(pledge=backer, line_id=line.pk, quantity=4)

    pledge_cancel(pledge=backer)
    backer.refresh_from_db()
    assert backer.status == Pledge.Status.CANCELLED
    assert PopUpProduct.objects.get(popup=popup).units_sold == 0
    with pytest.raises(CheckoutRefused, match="can no longer be changed"):
        pledge_quantity_set(pledge=backer, line_id=line.pk, quantity=1)


def test_a_card_declined_while_saving_makes_no_pledge(localstripe):
    popup, candle = all_or_nothing()
    with pytest.raises(CheckoutRefused, match="could not be saved"):
        pledge(popup, candle, localstripe, card="4000000000000002")
    assert not Pledge.objects.exists()


def test_the_settle_task_queues_the_charges(localstripe):
    popup, candle = all_or_nothing(presale_goal_units=1)
    backer = pledge(popup, candle, localstripe)
    close(popup)
    assert presale_settle_run.delay(popup.pk).result == 1  # eager here; a worker in production
    backer.refresh_from_db()
    assert backer.status == Pledge.Status.PAID


def test_no_pledge_after_the_deadline_even_from_a_basket_filled_before(localstripe):
    popup, candle = all_or_nothing()
    basket = basket_create(popup=popup)
    hold_set(basket=basket, product_id=candle.pk, quantity=1)
    close(popup)
    with pytest.raises(CheckoutRefused, match="no longer takes pledges"):
        pledge_start(basket=basket, details=SHOPPER)


def test_stripe_s_webhook_records_a_charge_whose_worker_died_before_recording_it(
    localstripe, settings
):

    popup, candle = all_or_nothing(presale_goal_units=1)
    backer = pledge(popup, candle, localstripe)
    close(popup)
    presale_settle(popup=popup)
    intent = charged_by_a_worker_that_died(backer)

    # A stranger's claim about another PaymentIntent changes nothing; Stripe's own report does.
    for event_id, payment_intent_id in (("evt_forged", "pi_unknown"), ("evt_paid", intent.id)):
        obj = {"id": payment_intent_id, "metadata": {"popup_pledge": str(backer.pk)}}
        payload = event_payload("payment_intent.succeeded", obj, event_id=event_id)
        assert deliver(payload, signed(payload, settings.STRIPE_WEBHOOK_SECRET)).status_code == 200

    backer.refresh_from_db()
    assert backer.status == Pledge.Status.PAID  # at once, without waiting for the lease
    assert backer.order.sources.get().reference == intent.id


def test_the_limit_per_customer_counts_their_standing_pledges(localstripe):
    popup, candle = all_or_nothing(per_customer_limit=3)
    pledge(popup, candle, localstripe, email="ada@example.com", units=2)
    with pytest.raises(CheckoutRefused, match="already pledged or bought 2"):
        pledge(popup, candle, localstripe, email="ADA@example.com", units=2)
    pledge(popup, candle, localstripe, email="grace@example.com", units=3)  # someone else


def test_repeated_sweeps_queue_a_pledge_once_until_its_message_may_have_been_lost(localstripe):
    popup, candle = all_or_nothing(presale_goal_units=1)
    backer = pledge(popup, candle, localstripe)
    close(popup)
    now = timezone.now()
    assert presale_settle(popup=popup, now=now).pledges_due == [backer.pk]
    # The beat's next sweeps: its charge task is still in the queue, so not queued again...
    assert presale_settle(popup=popup, now=now + timedelta(minutes=1)).pledges_due == []
    # ...unless it has waited so long that the worker holding it must have died.
    assert presale_settle(popup=popup, now=now + timedelta(minutes=11)).pledges_due == [backer.pk]


def test_two_pledges_of_one_backer_are_held_to_the_limit_when_the_cards_are_saved(localstripe):
    """Limit 2. A backer starts pledging 2 units in one basket; its card setup outlasts the hold,
    so a second basket of theirs may start pledging 2 more. The first saved card gets the pledge,
    the second is refused under the pop-up's lock."""
    popup, candle = all_or_nothing(per_customer_limit=2)
    baskets, setups = [], []
    for email in ("ada@example.com", " ADA@example.com"):
        basket = basket_create(popup=popup)
        hold_set(basket=basket, product_id=candle.pk, quantity=2)
        details = ShopperDetails(**{**SHOPPER.__dict__, "email": email})
        setups.append(pledge_start(basket=basket, details=details))
        baskets.append(basket)
        basket.holds.update(reserved_until=timezone.now())  # the bank's page left open
    for setup in setups:
        setup_intent_confirm(localstripe, setup.client_secret, authenticate=True)

    first = pledge_confirm(basket_id=baskets[0].pk, setup_intent_id=setups[0].setup_intent_id)
    with pytest.raises(CheckoutRefused, match="2 units of this pop-up in all"):
        pledge_confirm(basket_id=baskets[1].pk, setup_intent_id=setups[1].setup_intent_id)

    assert list(Pledge.objects.all()) == [first]
    assert PopUpProduct.objects.get(popup=popup).units_sold == 2


def test_a_card_saved_after_the_pre_sale_ended_short_of_its_goal_makes_no_pledge(localstripe):
    popup, candle = all_or_nothing(presale_goal_units=10)
    basket = basket_create(popup=popup)
    hold_set(basket=basket, product_id=candle.pk, quantity=1)
    setup = pledge_start(basket=basket, details=ShopperDetails(**SHOPPER.__dict__))
    close(popup)
    settle(popup)  # 0 of 10: not funded
    setup_intent_confirm(localstripe, setup.client_secret, authenticate=True)

    with pytest.raises(CheckoutRefused, match="ended short of its goal"):
        pledge_confirm(basket_id=basket.pk, setup_intent_id=setup.setup_intent_id)

    assert not Pledge.objects.exists()
    assert PopUpProduct.objects.get(popup=popup).units_sold == 0
