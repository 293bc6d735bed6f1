"""integrations.stripe.client against a real localstripe."""

import json
import time
import uuid

import pytest
import stripe

from integrations.stripe import client

from .support import DECLINED_ON_CHARGE, THREE_D_SECURE, VISA, card_token, setup_intent_confirm

pytestmark = pytest.mark.usefixtures("stripe_settings")


def key() -> str:
    return f"test-{uuid.uuid4().hex}"


def authorised(localstripe, *, amount=2500, **kwargs) -> client.PaymentIntent:
    return client.payment_intent_create(
        amount=amount,
        currency="EUR",
        card_token=card_token(localstripe),
        idempotency_key=key(),
        **kwargs,
    )


def test_a_card_is_authorised_then_captured(localstripe):
    intent = authorised(localstripe, metadata={"basket": "42"})

    assert intent.status == "requires_capture" and intent.is_authorised
    assert (intent.amount, intent.currency, intent.capture_method) == (2500, "eur", "manual")
    assert intent.metadata == {"basket": "42"}
    assert intent.payment_method.startswith("card_") and intent.customer.startswith("cus_")
    assert intent.client_secret.startswith(f"{intent.id}_secret_")

    captured = client.payment_intent_capture(payment_intent_id=intent.id, idempotency_key=key())

    assert captured.status == "succeeded" and captured.is_paid
    assert client.payment_intent_retrieve(payment_intent_id=intent.id).status == "succeeded"


def test_part_of_an_authorisation_can_be_captured(localstripe):
    intent = authorised(localstripe)

    captured = client.payment_intent_capture(
        payment_intent_id=intent.id, amount_to_capture=1000, idempotency_key=key()
    )

    assert captured.status == "succeeded"


def test_a_cancelled_authorisation_charges_nothing(localstripe):
    intent = authorised(localstripe)

    cancelled = client.payment_intent_cancel(payment_intent_id=intent.id, idempotency_key=key())

    assert cancelled.status == "canceled"
    assert client.payment_intent_retrieve(payment_intent_id=intent.id).status == "canceled"


def test_refunds_in_full_and_in_part(localstripe):
    intent = authorised(localstripe)
    client.payment_intent_capture(payment_intent_id=intent.id, idempotency_key=key())

    part = client.refund_create(
        payment_intent_id=intent.id, amount=500, idempotency_key=key(), metadata={"why": "dent"}
    )
    rest = client.refund_create(payment_intent_id=intent.id, amount=2000, idempotency_key=key())

    assert (part.amount, part.currency, part.status) == (500, "eur", "succeeded")
    assert part.payment_intent == intent.id and part.metadata == {"why": "dent"}
    assert rest.amount == 2000 and rest.id != part.id


def test_a_declined_card_raises_card_declined_with_a_message_for_the_shopper(localstripe):
    with pytest.raises(client.CardDeclined) as declined:
        client.payment_intent_create(
            amount=2500,
            currency="EUR",
            card_token=card_token(localstripe, DECLINED_ON_CHARGE),
            idempotency_key=key(),
        )

    assert declined.value.message == "Your card was declined."
    assert declined.value.code == "card_declined"


def test_a_card_that_wants_3d_secure_waits_for_the_browser(localstripe):
    intent = client.payment_intent_create(
        amount=2500,
        currency="EUR",
        card_token=card_token(localstripe, THREE_D_SECURE),
        idempotency_key=key(),
    )

    assert intent.status == "requires_action" and intent.needs_authentication
    assert intent.next_action_type == "use_stripe_sdk"


def test_stripe_errors_become_ours(localstripe):
    with pytest.raises(client.PaymentProviderError) as error:
        client.payment_intent_retrieve(payment_intent_id="pi_doesnotexist")
    assert not isinstance(error.value, client.CardDeclined)


def test_a_change_without_an_idempotency_key_is_refused(localstripe):
    with pytest.raises(ValueError):
        client.payment_intent_create(
            amount=100, currency="EUR", card_token=card_token(localstripe), idempotency_key=""
        )


def test_description_and_receipt_email_are_accepted(localstripe):
    intent = authorised(localstripe, description="Order 100042", receipt_email="a@example.com")

    assert intent.is_authorised


def test_every_change_sends_our_idempotency_key(localstripe):
    """Checked in localstripe's access log: what the SDK really sent, not what we meant to send."""
    # The server writes a line after it answers: let the test before's last lines land first.
    logged_before = -1
    while logged_before != len(localstripe.requests_logged()):
        logged_before = len(localstripe.requests_logged())
        time.sleep(0.2)
    token = card_token(localstripe)
    intent = client.payment_intent_create(
        amount=2500, currency="EUR", card_token=token, idempotency_key="order-1-authorise"
    )
    client.payment_intent_capture(payment_intent_id=intent.id, idempotency_key="order-1-capture")
    client.refund_create(payment_intent_id=intent.id, amount=100, idempotency_key="order-1-refund")
    other = authorised(localstripe)
    client.payment_intent_cancel(payment_intent_id=other.id, idempotency_key="other-cancel")
    customer = client.customer_create(email="b@example.com", idempotency_key="customer-1")
    client.setup_intent_create(customer=customer.id, idempotency_key="setup-1")
    client.payment_intent_retrieve(payment_intent_id=intent.id)

    deadline = time.monotonic() + 5
    while True:  # the server writes its log line after it answers
        logged = localstripe.requests_logged()[logged_before:]
        if len([line for line, _ in logged if line.startswith("GET /v1/payment_intents")]):
            break
        assert time.monotonic() < deadline, logged
        time.sleep(0.05)
    changes = [(line, sent) for line, sent in logged if line.startswith("POST /v1/")]
    ours = [(line, sent) for line, sent in changes if line != "POST /v1/tokens"]  # the browser's
    assert ours[:5] == [
        ("POST /v1/customers", "order-1-authorise:customer"),
        ("POST /v1/payment_intents", "order-1-authorise"),
        (f"POST /v1/payment_intents/{intent.id}/capture", "order-1-capture"),
        ("POST /v1/refunds", "order-1-refund"),
        ("POST /v1/customers", ours[4][1]),
    ]
    assert (f"POST /v1/payment_intents/{other.id}/cancel", "other-cancel") in ours
    assert ("POST /v1/customers", "customer-1") in ours
    assert ("POST /v1/setup_intents", "setup-1") in ours
    assert all(sent not in ("", "-") for _, sent in ours)


def test_a_saved_card_is_charged_off_session(localstripe):
    customer = client.customer_create(
        email="backer@example.com", idempotency_key=key(), metadata={"pledge": "7"}
    )
    setup = client.setup_intent_create(customer=customer.id, idempotency_key=key())
    assert (setup.status, setup.usage, setup.customer) == (
        "requires_payment_method",
        "off_session",
        customer.id,
    )

    setup_intent_confirm(localstripe, setup.client_secret, VISA)
    saved = client.setup_intent_retrieve(setup_intent_id=setup.id)
    assert saved.status == "succeeded" and saved.payment_method.startswith("pm_")

    charge = client.payment_intent_create(
        amount=4000,
        currency="EUR",
        customer=customer.id,
        payment_method=saved.payment_method,
        capture_method="automatic",
        off_session=True,
        idempotency_key=key(),
    )
    assert charge.status == "succeeded"


def test_webhook_signatures_are_verified(settings):
    payload = json.dumps(
        {"id": "evt_1", "object": "event", "type": "customer.created", "data": {"object": {}}}
    ).encode()
    header = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), settings.STRIPE_WEBHOOK_SECRET
    )

    event = client.webhook_event_construct(payload=payload, signature=header)
    assert (event.id, event.type) == ("evt_1", "customer.created")

    for signature in (None, "", header.replace("v1=", "v1=0")):
        with pytest.raises(client.WebhookSignatureError):
            client.webhook_event_construct(payload=payload, signature=signature)
    with pytest.raises(client.WebhookSignatureError):
        client.webhook_event_construct(payload=payload + b" ", signature=header)
