"""Stripe webhooks: verified, stored once, processed once, in any order; and a real delivery from localstripe."""

import json
import threading
import time
import uuid

import pytest
from django.db import connection
from django.test import Client

from integrations.stripe import client, webhooks
from integrations.stripe.models import StripeEvent
from tests.integrations.stripe.support import URL, deliver, event_payload, signed

from .support import card_token

pytestmark = pytest.mark.usefixtures("stripe_settings")


@pytest.fixture
def handled():
    """Registers handlers for the test and lists the events they were called with."""
    calls: list[tuple[str, str]] = []
    registered = []

    def register(event_type, handler=None):
        def default(event):
            calls.append((event.type, event.stripe_id))

        handler = handler or default
        webhooks.webhook_handler_register(event_type=event_type, handler=handler)
        registered.append((event_type, handler))
        return handler

    yield calls, register
    for event_type, handler in registered:
        webhooks.webhook_handler_unregister(event_type=event_type, handler=handler)


@pytest.mark.django_db(transaction=True)
def test_an_event_is_stored_once_and_processed_once(settings, handled):
    calls, register = handled
    register("payment_intent.succeeded")
    payload = event_payload("payment_intent.succeeded", {"id": "pi_1", "object": "payment_intent"})
    signature = signed(payload, settings.STRIPE_WEBHOOK_SECRET)

    first = deliver(payload, signature)
    second = deliver(payload, signature)

    assert (first.status_code, second.status_code) == (200, 200)
    event = StripeEvent.objects.get()
    assert event.type == "payment_intent.succeeded" and event.api_version == "2017-08-15"
    assert event.data_object == {"id": "pi_1", "object": "payment_intent"}
    assert event.processed_at is not None and event.attempts == 1
    assert calls == [("payment_intent.succeeded", event.stripe_id)]


@pytest.mark.django_db
@pytest.mark.parametrize("signature", [None, "", "t=1,v1=bad", "stale", "other secret"])
def test_a_bad_or_missing_signature_is_refused_and_nothing_stored(settings, signature):
    payload = event_payload("payment_intent.succeeded", {"id": "pi_1"})
    if signature == "stale":  # signed correctly, 10 minutes ago (Stripe's tolerance is 5)
        signature = signed(payload, settings.STRIPE_WEBHOOK_SECRET, int(time.time()) - 600)
    elif signature == "other secret":
        signature = signed(payload, "whsec_someone_else")

    response = deliver(payload, signature)

    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("minutes", [-10, 10, 60])
def test_a_signature_dated_beyond_the_tolerance_either_way_is_refused(settings, minutes):
    payload = event_payload("payment_intent.succeeded", {"id": "pi_1"})
    signature = signed(payload, settings.STRIPE_WEBHOOK_SECRET, int(time.time()) + 60 * minutes)

    response = deliver(payload, signature)

    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def _event(**changes) -> dict:
    event = {
        "id": "evt_1",
        "object": "event",
        "type": "payment_intent.succeeded",
        "api_version": "2017-08-15",
        "created": int(time.time()),
        "data": {"object": {"id": "pi_1"}},
    }
    return {**event, **changes}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'[{"id": "evt_1", "type": "payment_intent.succeeded"}]',
        b'"evt_1"',
        b"42",
        b"null",
        b"not json",
        b"\xff\xfe",
        json.dumps(_event(id="evt_" + "x" * 300)).encode(),
        json.dumps(_event(id=12345)).encode(),
        json.dumps(_event(id="pi_1")).encode(),
        json.dumps(_event(type=["payment_intent.succeeded"])).encode(),
        json.dumps(_event(type="x" * 300)).encode(),
        json.dumps(_event(api_version="v" * 100)).encode(),
        json.dumps(_event(created="yesterday")).encode(),
        json.dumps(_event(data={"object": "pi_1"})).encode(),
        json.dumps(_event(data=None)).encode(),
    ],
)
def test_a_signed_body_that_is_not_an_event_is_a_400_and_nothing_is_stored(settings, body):
    response = deliver(body, signed(body, settings.STRIPE_WEBHOOK_SECRET))

    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


@pytest.mark.django_db
def test_only_post_is_allowed():
    assert Client().get(URL).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_an_unknown_type_is_accepted_and_marked_processed(settings):
    payload = event_payload("radar.early_fraud_warning.created", {"id": "issfr_1"})

    response = deliver(payload, signed(payload, settings.STRIPE_WEBHOOK_SECRET))

    assert response.status_code == 200
    assert StripeEvent.objects.get().processed_at is not None


@pytest.mark.django_db(transaction=True)
def test_events_in_any_order_reach_the_same_state(settings, handled):
    """What handlers are asked to do: read the object's state, never assume the previous event came."""
    _, register = handled
    states: dict[str, str] = {}
    rank = {"requires_capture": 1, "succeeded": 2}

    def remember(event):
        intent = event.data_object
        if rank[intent["status"]] > rank.get(states.get(intent["id"], ""), 0):
            states[intent["id"]] = intent["status"]

    register("payment_intent.amount_capturable_updated", remember)
    register("payment_intent.succeeded", remember)
    now = int(time.time())
    authorised = event_payload(
        "payment_intent.amount_capturable_updated",
        {"id": "pi_2", "status": "requires_capture"},
        created=now - 5,
    )
    captured = event_payload("payment_intent.succeeded", {"id": "pi_2", "status": "succeeded"})

    for payload in (captured, authorised):  # the later event first
        assert deliver(payload, signed(payload, settings.STRIPE_WEBHOOK_SECRET)).status_code == 200

    assert states == {"pi_2": "succeeded"}
    assert StripeEvent.objects.filter(processed_at__isnull=False).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_failing_handler_is_recorded_and_the_next_delivery_processes_the_event(settings, handled):
    _, register = handled
    broken = {"yes": True}
    done = []

    def handler(event):
        if broken["yes"]:
            raise RuntimeError("order service down")
        done.append(event.stripe_id)

    register("payment_intent.payment_failed", handler)
    payload = event_payload("payment_intent.payment_failed", {"id": "pi_3"})
    signature = signed(payload, settings.STRIPE_WEBHOOK_SECRET)

    assert deliver(payload, signature).status_code == 200  # stored: Stripe need not resend

    event = StripeEvent.objects.get()
    assert event.processed_at is None and event.attempts >= 1
    assert "order service down" in event.last_error

    broken["yes"] = False
    assert deliver(payload, signature).status_code == 200

    event.refresh_from_db()
    assert event.processed_at is not None and event.last_error == ""
    assert done == [event.stripe_id]


@pytest.mark.django_db(transaction=True)
def test_two_workers_process_an_event_once(handled):
    """Both workers start on the same stored event: the row lock lets one run the handlers."""
    _, register = handled
    runs = []

    def slow(event):
        runs.append(event.stripe_id)
        time.sleep(0.5)

    register("payment_intent.canceled", slow)
    event, _ = webhooks.stripe_event_record(
        event=client.WebhookEvent(
            id="evt_race",
            type="payment_intent.canceled",
            api_version="",
            livemode=False,
            created=0,
            payload={"id": "evt_race", "data": {"object": {"id": "pi_4"}}},
        )
    )
    errors = []

    def worker():
        try:
            webhooks.stripe_event_process(event_id=event.pk)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == [] and runs == ["evt_race"]
    event.refresh_from_db()
    assert event.processed_at is not None and event.attempts == 1


def test_handlers_register_once_and_by_decorator():
    @webhooks.webhook_handler("payment_intent.canceled")
    def handler(event):
        pass

    try:
        webhooks.webhook_handler_register(event_type="payment_intent.canceled", handler=handler)
        assert webhooks.webhook_handlers(event_type="payment_intent.canceled").count(handler) == 1
    finally:
        webhooks.webhook_handler_unregister(event_type="payment_intent.canceled", handler=handler)
    assert handler not in webhooks.webhook_handlers(event_type="payment_intent.canceled")


@pytest.mark.django_db(transaction=True)
def test_a_real_delivery_from_localstripe_is_verified_stored_and_processed(
    localstripe, live_server, settings, handled
):
    calls, register = handled
    register("payment_intent.succeeded")
    localstripe.register_webhook(f"{live_server.url}{URL}", secret=settings.STRIPE_WEBHOOK_SECRET)
    try:
        intent = client.payment_intent_create(
            amount=1800,
            currency="EUR",
            card_token=card_token(localstripe),
            idempotency_key=f"live-{uuid.uuid4().hex}",
        )
        client.payment_intent_capture(payment_intent_id=intent.id, idempotency_key=f"{intent.id}:c")

        deadline = time.monotonic() + 10
        while True:  # localstripe sends its events about a second later
            event = StripeEvent.objects.filter(
                type="payment_intent.succeeded", payload__data__object__id=intent.id
            ).first()
            if event is not None and event.processed_at is not None:
                break
            assert time.monotonic() < deadline, "no payment_intent.succeeded arrived"
            time.sleep(0.1)
    finally:
        # Later tests' events must not go to a server that is gone.
        localstripe.register_webhook("http://127.0.0.1:9/", secret="unused")

    assert event.data_object["status"] == "succeeded"
    assert ("payment_intent.succeeded", event.stripe_id) in calls


@pytest.mark.django_db(transaction=True)
def test_an_event_stored_while_the_queue_was_down_is_processed_by_the_requeue_task(handled):
    """Stored, but its processing never queued (the broker was down at commit): the beat's requeue
    task finds it two minutes later and processes it, once."""
    from datetime import timedelta

    from django.utils import timezone

    from integrations.stripe import tasks

    calls, register = handled
    register("payment_intent.succeeded")
    payload = json.loads(event_payload("payment_intent.succeeded", {"id": "pi_lost"}))
    event = client.WebhookEvent(
        id=payload["id"],
        type=payload["type"],
        api_version=payload["api_version"],
        livemode=False,
        created=payload["created"],
        payload=payload,
    )
    row, _created = webhooks.stripe_event_record(event=event)

    assert tasks.stripe_events_requeue() == 0  # just arrived: its own queueing may come
    StripeEvent.objects.filter(pk=row.pk).update(received_at=timezone.now() - timedelta(minutes=3))
    assert tasks.stripe_events_requeue() == 1
    assert tasks.stripe_events_requeue() == 0

    assert calls == [("payment_intent.succeeded", payload["id"])]
    assert StripeEvent.objects.get().processed_at is not None
