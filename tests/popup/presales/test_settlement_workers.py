"""Settlement run by real Celery workers on Redis against localstripe: twice at once, by two workers,
and with a worker killed in the middle. Nobody is charged twice and no pledge is forgotten."""

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta

import pytest
import redis
from django.conf import settings as django_settings
from django.utils import timezone
from oscar.core.loading import get_model

from popup.models import Pledge, PledgeEvent
from popup.tasks import pledge_charge_run, presale_settle_run
from shop.celery import app as celery_app
from tests.integrations.stripe.support import DECLINED_ON_CHARGE, VISA
from tests.localstripe_server import WEBHOOK_SECRET
from tests.popup.presales.support import all_or_nothing, close, payment_intents, pledge
from tests.workers import BROKER, ROOT, send_through, wait_for

Order = get_model("order", "Order")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("stripe_settings"),
    pytest.mark.usefixtures("france"),
]

FINAL = (Pledge.Status.PAID, Pledge.Status.FAILED, Pledge.Status.DROPPED)


@pytest.fixture
def workers(localstripe):
    """Start Celery workers (separate processes, on the test database) with `workers.start()`."""
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
    started: list[subprocess.Popen] = []

    class Workers:
        def start(self) -> subprocess.Popen:
            process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "celery", "-A", "shop", "worker", "--pool", "solo"),
                    *("--without-heartbeat", "--without-gossip", "--without-mingle"),
                    *("--loglevel", "WARNING", "--hostname", f"settle{len(started)}@%h"),
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            started.append(process)
            return process

    eager, broker = celery_app.conf.task_always_eager, celery_app.conf.broker_url
    yield Workers()
    send_through(broker=broker, eager=eager)
    for process in started:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


def statuses(popup) -> Counter:
    return Counter(Pledge.objects.filter(popup=popup).values_list("status", flat=True))


def all_final(popup) -> bool:
    return not Pledge.objects.filter(popup=popup).exclude(status__in=FINAL).exists()


def assert_each_paid_pledge_charged_once(localstripe, popup) -> None:
    succeeded = Counter(
        pi["metadata"]["popup_pledge"]
        for pi in payment_intents(localstripe, popup)
        if pi["status"] == "succeeded"
    )
    paid = Pledge.objects.filter(popup=popup, status=Pledge.Status.PAID)
    assert succeeded == Counter({str(pk): 1 for pk in paid.values_list("pk", flat=True)})
    assert Order.objects.filter(pledge__popup=popup).count() == paid.count()
    for backer in paid:
        assert backer.order.sources.get().amount_debited == backer.amount
    # One "paid" step per paid pledge in the audit trail: no pledge was paid twice.
    assert PledgeEvent.objects.filter(pledge__popup=popup, status_to="paid").count() == paid.count()


def test_two_workers_and_repeated_settlement_runs_charge_every_pledge_once(localstripe, workers):
    popup, candle = all_or_nothing(presale_goal_units=5)
    cards = [VISA] * 10 + [DECLINED_ON_CHARGE] * 2
    pledges = [
        pledge(popup, candle, localstripe, email=f"b{n}@example.com", card=card)
        for n, card in enumerate(cards)
    ]
    close(popup)
    workers.start(), workers.start()
    send_through(broker=BROKER, eager=False)

    # The deadline sweep, a staff click and a retry of the same message, all at once...
    for _ in range(3):
        presale_settle_run.delay(popup.pk)
    # ...and stray charge messages for every pledge, as a redelivery after a restart would bring.
    for backer in pledges:
        pledge_charge_run.delay(backer.pk)

    wait_for(lambda: all_final(popup), timeout=90)
    assert statuses(popup) == Counter({"paid": 10, "failed": 2})
    assert_each_paid_pledge_charged_once(localstripe, popup)


def test_a_worker_killed_mid_settlement_leaves_no_pledge_charged_twice_or_forgotten(
    localstripe, workers
):
    popup, candle = all_or_nothing(presale_goal_units=5)
    cards = [VISA] * 18 + [DECLINED_ON_CHARGE] * 2
    for n, card in enumerate(cards):
        pledge(popup, candle, localstripe, email=f"b{n}@example.com", card=card)
    close(popup)
    doomed = workers.start()
    send_through(broker=BROKER, eager=False)
    presale_settle_run.delay(popup.pk)

    wait_for(lambda: statuses(popup)["paid"] >= 4, timeout=60)
    doomed.send_signal(signal.SIGKILL)  # no warm shutdown: whatever it was doing stops there
    doomed.wait(timeout=10)
    left = statuses(popup)
    assert left["pledged"] + left["charging"] > 0, "the worker finished before it was killed"

    # Time passes: the dead worker's lease on the pledge it was charging runs out, and so does the
    # grace given to queued charges (the message the worker held may have died with it, before
    # its pledge was even saved as charging).
    past = timezone.now() - timedelta(seconds=1)
    Pledge.objects.filter(popup=popup, status=Pledge.Status.CHARGING).update(charging_until=past)
    Pledge.objects.filter(popup=popup).update(charge_queued_until=past)
    workers.start()
    presale_settle_run.delay(popup.pk)  # what the beat schedule's sweep does every minute

    wait_for(lambda: all_final(popup), timeout=90)
    assert statuses(popup) == Counter({"paid": 18, "failed": 2})
    assert_each_paid_pledge_charged_once(localstripe, popup)
