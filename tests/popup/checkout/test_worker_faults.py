"""The Celery worker and its Redis broker under faults, on a private stack (tests/stack.py) with a
worker started as README says: Stripe's webhooks that arrive while the worker is dead are processed
once one is back, and a worker outlives its broker's restart.

Stripe's webhooks are delivered by the test, signed as Stripe signs them, about the stack's own
localstripe PaymentIntents; the shoppers' own checkouts die with their web worker right after the
authorisation, so the webhook (or the reconciler) is the only way to their orders.
"""

import pytest

from tests.stack import Stack, wait_until

AUTHORISE = r"^/v1/payment_intents$"
CAPTURABLE = "payment_intent.amount_capturable_updated"


@pytest.fixture(scope="module")
def stack():
    stack = Stack(worker=True)
    yield stack
    stack.close()


@pytest.fixture(autouse=True)
def _settled(stack):
    yield
    stack.manage("popup_reconcile", "--grace-minutes", "0")
    audit = stack.audit()
    assert audit.returncode == 0, audit.stdout + audit.stderr


def authorised_and_abandoned(stack, count: int) -> list[dict]:
    """`count` baskets whose card was authorised, each web worker killed before it knew."""
    known = {intent["id"] for intent in stack.payment_intents()}
    for number in range(count):
        bought = stack.hold()
        stack.proxy.fail("POST", AUTHORISE, "drop", then=stack.web_worker_kill)
        stack.pay(bought, number=number)
        assert bought.pay == 0
    intents = [intent for intent in stack.payment_intents() if intent["id"] not in known]
    assert len(intents) == count and {i["status"] for i in intents} == {"requires_capture"}
    return intents


def captured(stack, intents: list[dict]) -> int:
    ids = {intent["id"] for intent in intents}
    return sum(i["status"] == "succeeded" for i in stack.payment_intents() if i["id"] in ids)


def test_webhooks_arriving_while_the_worker_is_dead_are_processed_once_it_is_back(stack):
    intents = authorised_and_abandoned(stack, 4)
    orders = stack.money()["orders"]

    assert stack.stripe_reports(CAPTURABLE, intents[0]) == 200
    stack.worker.kill()  # maybe in the middle of that event
    for intent in intents[1:]:
        assert stack.stripe_reports(CAPTURABLE, intent) == 200  # stored and queued meanwhile
    stack.worker = stack.celery_worker()

    # What was queued while it was dead is processed by the new worker: ordered and captured.
    # (The first event may have been finished before the kill, or be left with the dead worker.)
    wait_until(
        lambda: captured(stack, intents[1:]) == 3 and stack.money()["orders"] >= orders + 3,
        timeout=60,
        what="the webhooks",
    )
    # The event the dead worker had taken waits unprocessed: the reconciler queues it again (as the
    # beat does two minutes on), and finishes its payment.
    stack.manage("popup_reconcile", "--grace-minutes", "0")
    wait_until(lambda: not unprocessed(stack), timeout=60, what="the stored webhooks")
    assert captured(stack, intents) == 4
    money = stack.money()
    assert money["orders"] == orders + 4 and money["dangling"] == money["double_charged"] == 0


def test_a_worker_outlives_its_brokers_restart(stack):
    intents = authorised_and_abandoned(stack, 1)
    stack.redis.stop()
    # The webhook that comes while the broker is down is stored; its task waits in the outbox.
    assert stack.stripe_reports(CAPTURABLE, intents[0]) == 200
    stack.redis.start()
    wait_until(lambda: "Connected to redis" in reconnections(stack), timeout=60, what="reconnect")

    assert stack.worker.alive
    (more,) = authorised_and_abandoned(stack, 1)
    assert stack.stripe_reports(CAPTURABLE, more) == 200
    wait_until(lambda: captured(stack, [more]) == 1, timeout=60, what="the worker")
    assert stack.worker.alive


def unprocessed(stack) -> int:
    ((count,),) = stack.query(
        "SELECT count(*) FROM popup_stripe_stripeevent WHERE processed_at IS NULL"
    )
    return count


def reconnections(stack) -> str:
    log = stack.worker.log_path.read_text()
    return log[log.rfind("Connection to broker lost") :] if "broker lost" in log else ""
