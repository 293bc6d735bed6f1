"""What real Stripe sends and localstripe never does, in the shapes of the API version we pin.

The objects are Stripe's own examples (fixtures/fixtures3.json, from github.com/stripe/openapi), with
only the fields a test needs laid over them: ids, metadata, amounts, statuses.
"""

import copy
import json
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from django.core import mail
from django.utils import timezone
from oscar.core.loading import get_model

from integrations.stripe import client as stripe_client
from integrations.stripe import facade
from popup.audit.checks import popup_audit
from popup.channels.placements import ambassador_invite
from popup.checkout.orders import ShopperDetails
from popup.checkout.services import checkout_pay
from popup.core.holds import basket_create, hold_set
from popup.models import Commission, Pledge, PopUpBasket
from popup.payments import DISPUTE_LOST, DISPUTE_OPENED, REFUNDED
from popup.presales.pledges import pledge_start
from tests.integrations.stripe.support import card_token, deliver, setup_intent_confirm, signed
from tests.localstripe_server import (
    SECRET_KEY,
    localstripe_alone,  # noqa: F401 - its own Stripe
)
from tests.popup.checkout.support import SHOPPER, authorised_then_gone, basket_holding
from tests.popup.presales.support import all_or_nothing

Order = get_model("order", "Order")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("stripe_settings", "france"),
]


FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "fixtures3.json").read_text())[
    "resources"
]


def stripe_shaped(resource: str, **fields) -> dict:
    """Stripe's example `resource` object, with `fields` laid over it."""
    return {**copy.deepcopy(FIXTURES[resource]), **fields}


def stripe_sends(event_type: str, obj: dict, secret: str) -> None:
    """Deliver `obj` in Stripe's example event, as the pinned API version would send it."""
    event = stripe_shaped(
        "event",
        id=f"evt_{uuid.uuid4().hex[:24]}",
        type=event_type,
        api_version=stripe_client.STRIPE_API_VERSION,
        created=int(time.time()),
        data={"object": obj},
    )
    payload = json.dumps(event).encode()
    response = deliver(payload, signed(payload, secret))
    assert response.status_code == 200, response.content


def notes_of(order) -> str:
    return " ".join(note.message for note in order.notes.all())


def paid_order(localstripe, *, quantity=2):
    basket = basket_holding(units=10, quantity=quantity)
    step = checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe))
    return step.order, stripe_client.payment_intent_retrieve(
        payment_intent_id=step.payment_intent_id
    )


def paid_through_an_ambassador(localstripe, *, quantity):
    """An order of `quantity` scarves at €25 by a shopper who came by Leo's link (20% commission)."""
    basket = basket_holding(units=10, quantity=quantity)
    placement = ambassador_invite(
        popup=basket.popup, name="Leo", email="leo@example.com", commission_percent=Decimal("20")
    )
    PopUpBasket.objects.filter(pk=basket.pk).update(placement=placement)
    basket.refresh_from_db()
    step = checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe))
    return step.order, stripe_client.payment_intent_retrieve(
        payment_intent_id=step.payment_intent_id
    )


def test_every_request_names_the_api_version_we_pin(localstripe):
    paid_order(localstripe)
    text = localstripe.log_path.read_text()
    sent = {
        line.rsplit('stripe-version="', 1)[1].rstrip('"')
        for line in text.splitlines()
        if 'stripe-version="' in line and "/v1/payment_intents" in line
    }
    assert sent == {stripe_client.STRIPE_API_VERSION}


def test_an_authorisation_reported_in_today_s_shape_becomes_the_order(localstripe, settings):
    basket, step = authorised_then_gone(localstripe)
    intent = stripe_shaped(
        "payment_intent",
        id=step.payment_intent_id,
        status="requires_capture",
        capture_method="manual",
        amount=5000,
        amount_capturable=5000,
        currency="eur",
        metadata={"popup_basket": str(basket.pk), "popup": basket.popup.slug},
    )

    stripe_sends("payment_intent.amount_capturable_updated", intent, settings.STRIPE_WEBHOOK_SECRET)

    order = Order.objects.get()
    assert PopUpBasket.objects.get(pk=basket.pk).order == order
    assert order.sources.get().amount_debited == Decimal("50.00")


def test_a_refund_made_in_stripe_s_dashboard_shows_on_the_order_and_withdraws_commission(
    localstripe, settings
):
    order, intent = paid_through_an_ambassador(localstripe, quantity=1)
    # Staff refund 10 of the 25 in Stripe's dashboard; Stripe reports the charge, twice.
    requests.post(
        f"{localstripe.url}/v1/refunds",
        data={"payment_intent": intent.id, "amount": 1000},
        auth=(SECRET_KEY, ""),
        timeout=5,
    ).raise_for_status()
    charge = stripe_shaped(
        "charge",
        id=intent.latest_charge,
        payment_intent=intent.id,
        amount=2500,
        amount_captured=2500,
        amount_refunded=1000,
        captured=True,
        refunded=False,
        currency="eur",
    )
    for _delivery in range(2):
        stripe_sends("charge.refunded", charge, settings.STRIPE_WEBHOOK_SECRET)

    source = order.sources.get()
    assert source.amount_refunded == Decimal("10.00")
    refunds = order.payment_events.filter(event_type__name=REFUNDED)
    assert [event.amount for event in refunds] == [Decimal("10.00")]
    assert "refunded in Stripe's dashboard" in notes_of(order)
    commission = Commission.objects.get(order=order)
    assert (commission.amount, commission.refunded) == (Decimal("5.00"), Decimal("2.00"))

    # A refund from Oscar's dashboard is recorded there; Stripe's report of it adds nothing.
    facade.payment_refund(order=order, amount=Decimal("5.00"), refund_key="from-oscar")
    stripe_sends(
        "charge.refunded", {**charge, "amount_refunded": 1500}, settings.STRIPE_WEBHOOK_SECRET
    )
    source.refresh_from_db()
    assert source.amount_refunded == Decimal("15.00")
    assert order.payment_events.filter(event_type__name=REFUNDED).count() == 2


def test_a_card_saved_for_a_pledge_makes_the_pledge_when_the_backer_never_came_back(
    localstripe, settings
):
    popup, candle = all_or_nothing()
    basket = basket_create(popup=popup)
    hold_set(basket=basket, product_id=candle.pk, quantity=2)
    setup = pledge_start(basket=basket, details=ShopperDetails(**SHOPPER.__dict__))
    setup_intent_confirm(localstripe, setup.client_secret, authenticate=True)
    saved = stripe_client.setup_intent_retrieve(setup_intent_id=setup.setup_intent_id)
    obj = stripe_shaped(
        "setup_intent",
        id=saved.id,
        status="succeeded",
        customer=saved.customer,
        payment_method=saved.payment_method,
        metadata={"popup_basket": str(basket.pk), "popup": popup.slug},
    )

    stripe_sends("setup_intent.succeeded", obj, settings.STRIPE_WEBHOOK_SECRET)

    pledge = Pledge.objects.get()
    assert (pledge.basket_id, pledge.status, pledge.email) == (
        basket.pk,
        Pledge.Status.PLEDGED,
        "ada@example.com",
    )
    assert sum(line.quantity for line in pledge.lines.all()) == 2


@pytest.mark.parametrize("names_its_payment", [True, False], ids=["2026 shape", "charge only"])
def test_a_dispute_is_noted_on_the_order_the_staff_are_told_and_the_audit_knows(
    localstripe, settings, names_its_payment
):
    settings.ADMINS = [("Ops", "ops@example.com")]
    order, intent = paid_order(localstripe)
    respond_by = timezone.now() + timedelta(days=7)
    dispute = stripe_shaped(
        "dispute",
        id=f"dp_{uuid.uuid4().hex[:20]}",
        charge=intent.latest_charge,
        payment_intent=intent.id if names_its_payment else None,
        amount=5000,
        currency="eur",
        reason="fraudulent",
        status="needs_response",
        evidence_details={
            **FIXTURES["dispute"]["evidence_details"],
            "due_by": int(respond_by.timestamp()),
        },
    )

    stripe_sends("charge.dispute.created", dispute, settings.STRIPE_WEBHOOK_SECRET)
    stripe_sends("charge.dispute.created", dispute, settings.STRIPE_WEBHOOK_SECRET)  # again

    opened = order.payment_events.get(event_type__name=DISPUTE_OPENED)
    assert (opened.amount, opened.reference) == (Decimal("50.00"), dispute["id"])
    assert "disputes 50.00 EUR" in notes_of(order)
    told = [email for email in mail.outbox if email.to == ["ops@example.com"]]
    assert [email.subject for email in told] == [
        f"[Django] Order {order.number} is disputed: answer by the date in Stripe"
    ]
    assert "reason: the cardholder says they did not make it" in told[0].body
    assert "Stripe's dashboard by" in told[0].body
    report = popup_audit()
    assert report.ok and [notice.check for notice in report.notices] == ["dispute_open"]

    stripe_sends(
        "charge.dispute.closed", {**dispute, "status": "lost"}, settings.STRIPE_WEBHOOK_SECRET
    )

    assert order.payment_events.filter(event_type__name=DISPUTE_LOST).count() == 1
    assert "(a chargeback)" in mail.outbox[-1].subject
    report = popup_audit()
    assert report.ok and report.notices == []


def test_a_dispute_reported_closed_before_opened_is_recorded_once_and_withdraws_commission(
    localstripe, settings
):
    order, intent = paid_through_an_ambassador(localstripe, quantity=2)
    dispute = stripe_shaped(
        "dispute",
        id=f"dp_{uuid.uuid4().hex[:20]}",
        charge=intent.latest_charge,
        payment_intent=intent.id,
        amount=5000,
        currency="eur",
        status="lost",
    )

    stripe_sends("charge.dispute.closed", dispute, settings.STRIPE_WEBHOOK_SECRET)
    stripe_sends(
        "charge.dispute.created",
        {**dispute, "status": "needs_response"},
        settings.STRIPE_WEBHOOK_SECRET,
    )

    names = [event.event_type.name for event in order.payment_events.order_by("pk")]
    assert names[-1] == DISPUTE_LOST and DISPUTE_OPENED not in names
    assert popup_audit().notices == []
    commission = Commission.objects.get(order=order)
    assert commission.refunded == commission.amount == Decimal("10.00")
