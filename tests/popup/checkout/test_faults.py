"""Stripe's answers lost on the way: every authorisation still ends in one captured order or a
cancellation, once the settle task has run. Faults come from a proxy in front of localstripe
(tests/faults.py); each test has its own localstripe and ends with the audit."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone
from oscar.core.loading import get_model

from integrations.social.feeds import feed_links
from integrations.stripe import client as stripe_client
from integrations.stripe.models import StripeEvent
from integrations.stripe.tasks import stripe_events_requeue
from popup.checkout.services import checkout_authorisations_settle
from popup.models import PopUp, QueuedTask
from popup.queueing import queued_tasks_send
from shop.celery import app as celery_app
from tests.factories import popup_with_products
from tests.faults import StripeProxy
from tests.integrations.stripe.support import card_token, payment_intents_all
from tests.localstripe_server import localstripe_alone  # noqa: F401 - its own Stripe
from tests.plain_store.store import free_port
from tests.popup.checkout.support import (
    SHOPPER,
    authorised_then_gone,
    basket_holding,
    stripe_reports,
)
from tests.workers import send_through

Order = get_model("order", "Order")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("france", "audited"),
]

LATER = timedelta(minutes=21)


@pytest.fixture
def proxy(localstripe, stripe_settings):
    proxy = StripeProxy(localstripe.url)
    stripe_settings.STRIPE_API_BASE, stripe_settings.STRIPE_TIMEOUT = proxy.url, 2
    yield proxy
    proxy.close()


def statuses(localstripe) -> list[str]:
    return sorted(intent["status"] for intent in payment_intents_all(localstripe))


def test_a_capture_that_never_reached_stripe_is_made_by_the_settle_task(client, localstripe, proxy):
    basket = basket_holding(quantity=2)
    proxy.fail("POST", r"/v1/payment_intents/\w+/capture$", "refuse", times=2)  # try and retry

    response = client.post(
        f"/popup/checkout/{basket.token}/pay/",
        {**SHOPPER.__dict__, "card_token": card_token(localstripe)},
        content_type="application/json",
    )

    assert response.status_code == 200  # the order is placed; the capture failed and was noted
    order = Order.objects.get()
    assert statuses(localstripe) == ["requires_capture"]
    settled = checkout_authorisations_settle(now=timezone.now() + LATER)
    assert settled.ordered == 1
    assert statuses(localstripe) == ["succeeded"]
    assert order.sources.get().amount_debited == 50


def test_a_capture_stripe_made_whose_record_was_lost_is_recorded_by_the_settle_task(
    client, localstripe, proxy
):
    """The capture reaches Stripe, and the database goes down before its record commits (the
    record rolls back): Stripe has the money, the order says unpaid, until the settle task."""
    basket = basket_holding(quantity=2)
    proxy.fail("POST", r"/v1/payment_intents/\w+/capture$", "refuse", times=2)
    client.post(
        f"/popup/checkout/{basket.token}/pay/",
        {**SHOPPER.__dict__, "card_token": card_token(localstripe)},
        content_type="application/json",
    )
    order = Order.objects.get()
    payment_intent_id = order.sources.get().reference
    stripe_client.payment_intent_capture(  # what our capture did before the database went away
        payment_intent_id=payment_intent_id, amount_to_capture=5000, idempotency_key="lost"
    )
    assert statuses(localstripe) == ["succeeded"] and order.sources.get().amount_debited == 0

    checkout_authorisations_settle(now=timezone.now() + LATER)

    assert order.sources.get().amount_debited == 50
    assert statuses(localstripe) == ["succeeded"]


def test_authorisations_whose_answers_were_lost_end_as_one_order(client, localstripe, proxy):
    """Stripe authorises the card twice (the try, then the retry) and both answers are lost: the
    shopper is told the outcome is unknown; the settle task turns one into the order and cancels
    the other."""
    basket = basket_holding(quantity=2)
    proxy.fail("POST", r"/v1/payment_intents$", "drop", times=2)

    response = client.post(
        f"/popup/checkout/{basket.token}/pay/",
        {**SHOPPER.__dict__, "card_token": card_token(localstripe)},
        content_type="application/json",
    )

    assert response.status_code == 503 and response.json()["code"] == "payment_unknown"
    assert statuses(localstripe) == ["requires_capture", "requires_capture"]
    settled = checkout_authorisations_settle(now=timezone.now() + LATER)
    assert (settled.ordered, settled.released) == (1, 1)
    assert statuses(localstripe) == ["canceled", "succeeded"]
    assert Order.objects.count() == 1


@pytest.fixture
def queue_down():
    """Celery's broker unreachable, as when Redis (or RabbitMQ) is down at commit."""
    before = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)
    celery_app.conf.task_publish_retry = False  # fail at once, as after the retries
    send_through(broker=f"redis://127.0.0.1:{free_port()}/0", eager=False)
    yield
    celery_app.conf.task_publish_retry = True
    send_through(broker=before[0], eager=before[1])


def test_a_queue_down_when_the_order_commits_loses_neither_order_capture_nor_e_mail(
    client, localstripe, stripe_settings, queue_down, caplog
):
    basket = basket_holding(quantity=2)

    response = client.post(
        f"/popup/checkout/{basket.token}/pay/",
        {**SHOPPER.__dict__, "card_token": card_token(localstripe)},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    order = Order.objects.get()
    assert order.sources.get().amount_debited == 50
    assert statuses(localstripe) == ["succeeded"]
    assert "Could not queue popup.tasks.order_placed_email_send" in caplog.text
    # The confirmation waits in the outbox, and goes once the queue is back.
    waiting = QueuedTask.objects.get(queued_at__isnull=True)
    assert (waiting.task, waiting.args) == ("popup.tasks.order_placed_email_send", [order.pk])
    assert mail.outbox == []
    send_through(broker=celery_app.conf.broker_url, eager=True)
    assert queued_tasks_send(now=timezone.now() + timedelta(minutes=2)) == 1
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]
    assert queued_tasks_send(now=timezone.now() + timedelta(minutes=2)) == 0


def test_webhooks_that_arrive_while_the_queue_is_down_are_processed_once_it_is_back(
    localstripe, stripe_settings, queue_down
):
    """The shopper closed the tab after 3-D Secure, and Stripe's webhook came while the broker was
    down: the event is stored and answered 200, then processed by the requeue beat task."""
    basket, step = authorised_then_gone(localstripe)
    stripe_reports(
        basket,
        step,
        [("payment_intent.amount_capturable_updated", "evt_queue_down")],
        secret=stripe_settings.STRIPE_WEBHOOK_SECRET,
    )
    event = StripeEvent.objects.get()
    assert event.processed_at is None and not Order.objects.exists()

    send_through(broker=celery_app.conf.broker_url, eager=True)  # the queue is back
    StripeEvent.objects.update(received_at=timezone.now() - timedelta(minutes=3))
    assert stripe_events_requeue() == 1

    assert StripeEvent.objects.get().processed_at is not None
    assert Order.objects.get().sources.get().amount_debited == 50
    assert statuses(localstripe) == ["succeeded"]


def test_a_pop_up_saved_while_the_queue_is_down_is_saved_and_its_feeds_rewritten_later(
    client, queue_down, caplog
):
    popup = popup_with_products(1)
    link = feed_links(popup=popup)[0]
    assert client.get(urlsplit(link.url).path).status_code == 200  # a feed exists from now on

    popup.title = "Indigo winter, second firing"
    popup.save()  # commits: the feeds' rewrite cannot be queued

    assert PopUp.objects.get(pk=popup.pk).title == "Indigo winter, second firing"
    assert "Could not queue the feeds' rewrite" in caplog.text
