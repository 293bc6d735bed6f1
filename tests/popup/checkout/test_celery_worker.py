"""Stripe's webhooks processed by a real Celery worker on Redis, as in production."""

import os
import subprocess
import sys

import pytest
import redis
from django.conf import settings as django_settings
from oscar.core.loading import get_model

from integrations.stripe.models import StripeEvent
from shop.celery import app as celery_app
from tests.localstripe_server import WEBHOOK_SECRET
from tests.popup.checkout.support import authorised_then_gone, stripe_reports
from tests.workers import BROKER, ROOT, send_through, wait_for

Order = get_model("order", "Order")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("stripe_settings"),
    pytest.mark.usefixtures("france"),
]


@pytest.fixture
def worker(localstripe):
    """A Celery worker process on the test database, fed through Redis; tasks leave this process."""
    redis.Redis.from_url(BROKER).flushdb()
    database = django_settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "LOCALSTRIPE_URL": localstripe.url,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "shop",
            "worker",
            "--pool",
            "solo",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    eager, broker = celery_app.conf.task_always_eager, celery_app.conf.broker_url
    send_through(broker=BROKER, eager=False)
    try:
        yield process
    finally:
        send_through(broker=broker, eager=eager)
        process.terminate()
        process.wait(timeout=10)


def test_a_worker_places_the_order_once_from_repeated_webhooks(worker, localstripe, settings):
    basket, step = authorised_then_gone(localstripe)
    capturable = "payment_intent.amount_capturable_updated"
    stripe_reports(
        basket,
        step,
        [(capturable, "evt_auth_1"), (capturable, "evt_auth_1"), (capturable, "evt_auth_2")],
        secret=settings.STRIPE_WEBHOOK_SECRET,
    )

    # The web process only stored the events; the worker does the rest.
    wait_for(lambda: StripeEvent.objects.filter(processed_at__isnull=False).count() == 2)
    assert StripeEvent.objects.count() == 2
    order = Order.objects.get()
    assert order.sources.get().amount_debited == 50
    assert worker.poll() is None  # still running: nothing crashed it
