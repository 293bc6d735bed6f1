"""Money under faults: checkout bursts through every fault the fault tests inject, then the reconciler.

    .venv/bin/python bench/money_faults.py        # about 1.5 minutes

Runs on tests/stack.py's private stack (its own PostgreSQL made by initdb, Redis, a Celery worker
(prefork, 2 processes), localstripe behind a fault proxy, the reference store under gunicorn with
DJANGO_DEBUG=0); the shared 127.0.0.1:5432 and :6379 are never touched. Stripe's own webhooks are
off unless a fault delivers them, as if they were lost too. Faults, in order:

- web_worker_killed_after_authorisation: gunicorn's worker killed as Stripe's authorisation
  answer comes back; the shopper's page gets no answer;
- web_worker_killed_before_capture: killed once the order is committed, as the capture leaves;
- stripe_stalled: Stripe authorises but answers after the client's timeout (then its retry);
- database_restarted: PostgreSQL stopped and started again (pg_ctl -m fast) during a burst;
- broker_stopped: the Celery broker (Redis) down during a burst, then back;
- celery_worker_killed: Stripe's webhooks about abandoned authorisations arriving while the worker
  is killed and started again;
- backers_gone: pre-sale backers who saved a card and closed the tab before the pledge was made,
  and backers whose web worker was killed while the pledge was being made.

Then `manage.py popup_reconcile --grace-minutes 0` (what the beat does once an authorisation is
POPUP_SETTLE_AFTER_MINUTES old) and `manage.py popup_audit --grace-minutes 0`. Prints one JSON line:
`authorisations` (cards authorised, captured or cancelled), `dangling` (still authorised, neither
captured nor cancelled: target 0), `orders_not_captured` (0), `captures_unrecorded` (captured at
Stripe, the order's record of it lost: 0), `double_charged` (baskets captured
twice: 0), `captured_without_order` (0), `lost_pledges` (saved cards with no pledge: 0),
`before_reconcile` (the same figures as the faults left them), `reconcile_seconds`,
`grace_seconds` (how long the beat lets an authorisation wait for its shopper: the settings'),
`audit_exit` (0: no breach), and per fault what the shoppers were answered.
"""

import json
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.stack import Stack, wait_until  # noqa: E402 - after the path

AUTHORISE = r"^/v1/payment_intents$"
CAPTURE = r"^/v1/payment_intents/\w+/capture$"
SETUP_RETRIEVED = r"^/v1/setup_intents/\w+$"
CAPTURABLE = "payment_intent.amount_capturable_updated"
EACH = 4  # shoppers per fault, where they come one at a time
BURST = 16  # shoppers per burst


def answered(results) -> dict:
    """What the shoppers' pages were told: {"200": 3, "503 busy": 2, "no answer": 1}."""
    labels = Counter()
    for bought in results:
        code = (bought.body or {}).get("code", "")
        labels[f"{bought.pay} {code}".strip() if bought.pay else "no answer"] += 1
    return dict(labels)


def store_back(stack: Stack) -> None:
    def answers() -> bool:
        try:
            return requests.get(f"{stack.store}/popup/{stack.sale['slug']}/", timeout=5).ok
        except requests.RequestException:
            return False

    wait_until(answers, timeout=60, what="the store")


def one_by_one(stack: Stack, path: str, action: str, *, kill: bool) -> dict:
    results = []
    for number in range(EACH):
        bought = stack.hold()
        stack.proxy.fail("POST", path, action, then=stack.web_worker_kill if kill else None)
        results.append(stack.pay(bought, number=number))
        store_back(stack)
    return answered(results)


def burst(stack: Stack, fault, *, at: float = 1.2) -> dict:
    """BURST shoppers paying, one every 0.2 s, with `fault` running from `at` seconds in."""
    shoppers = [stack.hold() for _ in range(BURST)]
    began = time.monotonic()

    def pay(number: int):
        time.sleep(max(0.0, began + number * 0.2 - time.monotonic()))
        return stack.pay(shoppers[number], number=number)

    def inject() -> None:
        time.sleep(at)
        fault()

    injector = threading.Thread(target=inject)
    injector.start()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(pay, range(BURST)))
    injector.join()
    return answered(results)


def stripe_stalled(stack: Stack) -> dict:
    stack.proxy.fail("POST", AUTHORISE, "stall", times=3)
    with ThreadPoolExecutor(max_workers=3) as pool:
        return answered(pool.map(lambda n: stack.buy(number=n), range(3)))


def database_restarted(stack: Stack) -> dict:
    def restart() -> None:
        stack.postgres.stop("fast")
        time.sleep(1)
        stack.postgres.start()

    return burst(stack, restart)


def broker_stopped(stack: Stack) -> dict:
    def outage() -> None:
        stack.redis.stop()
        time.sleep(1.5)
        stack.redis.start()

    return burst(stack, outage, at=0.6)


def celery_worker_killed(stack: Stack) -> dict:
    known = {intent["id"] for intent in stack.payment_intents()}
    one_by_one(stack, AUTHORISE, "drop", kill=True)
    intents = [i for i in stack.payment_intents() if i["id"] not in known]
    webhooks = [stack.stripe_reports(CAPTURABLE, intents[0])]
    stack.worker.kill()
    webhooks += [stack.stripe_reports(CAPTURABLE, intent) for intent in intents[1:]]
    stack.worker = stack.celery_worker()
    return {"webhooks": dict(Counter(webhooks))}


def backers_gone(stack: Stack) -> dict:
    left = []
    for number in range(EACH):  # the tab closed once the card was saved
        stack.card_saved(stack.hold(presale=True), number=number)
    for number in range(EACH, 2 * EACH):  # the worker killed while it made the pledge
        bought = stack.hold(presale=True)
        setup_intent = stack.card_saved(bought, number=number)
        stack.proxy.fail("GET", SETUP_RETRIEVED, "drop", then=stack.web_worker_kill)
        left.append(stack.pledged(bought, setup_intent))
        store_back(stack)
    return {"backers": 2 * EACH, **answered(left)}


FAULTS = {
    "web_worker_killed_after_authorisation": lambda s: one_by_one(s, AUTHORISE, "drop", kill=True),
    "web_worker_killed_before_capture": lambda s: one_by_one(s, CAPTURE, "refuse", kill=True),
    "stripe_stalled": stripe_stalled,
    "database_restarted": database_restarted,
    "broker_stopped": broker_stopped,
    "celery_worker_killed": celery_worker_killed,
    "backers_gone": backers_gone,
}


def main() -> None:
    began = time.perf_counter()
    stack = Stack(worker=True)
    try:
        faults = {}
        for name, fault in FAULTS.items():
            faults[name] = fault(stack)
            store_back(stack)
        time.sleep(5)  # what the worker still had queued
        before = stack.money()
        started = time.perf_counter()
        stack.manage("popup_reconcile", "--grace-minutes", "0")
        reconcile_seconds = time.perf_counter() - started
        after = stack.money()
        grace = stack.manage(
            "shell",
            "-c",
            "from popup.checkout.services import settle_after; "
            "print(int(settle_after().total_seconds()))",
        )
        keys = (
            "dangling",
            "orders_not_captured",
            "captures_unrecorded",
            "double_charged",
            "captured_without_order",
        )
        print(
            json.dumps(
                {
                    "authorisations": after["authorisations"],
                    **{key: after[key] for key in keys},
                    "lost_pledges": after["lost_pledges"],
                    "orders": after["orders"],
                    "pledges": after["pledges"],
                    "before_reconcile": {key: before[key] for key in (*keys, "lost_pledges")},
                    "reconcile_seconds": round(reconcile_seconds, 2),
                    "grace_seconds": int(grace.stdout.split()[-1]),
                    "audit_exit": stack.audit().returncode,
                    "faults": faults,
                    "total_seconds": round(time.perf_counter() - began, 1),
                }
            )
        )
    finally:
        stack.close()


if __name__ == "__main__":
    main()
