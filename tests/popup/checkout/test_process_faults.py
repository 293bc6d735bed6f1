"""Processes that die under the checkout: every authorisation still ends in one captured order or a
cancellation, once the reconciler has run, and the audit says so.

Each test drives a private stack (tests/stack.py: own PostgreSQL, localstripe behind a proxy,
gunicorn) over HTTP. Faults come from outside the code under test: the proxy kills gunicorn's
worker when a chosen Stripe call passes, and the database is stopped with pg_ctl. Stripe's webhooks
are off, as if they were lost too: the reconciler (`manage.py popup_reconcile`) is the only way back.
"""

import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.stack import ROOT, Stack

AUTHORISE = r"^/v1/payment_intents$"  # created and confirmed in one call: the card is authorised
CAPTURE = r"^/v1/payment_intents/\w+/capture$"
SESSION = {"sessionid": "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"}
CLEAN = {
    "dangling": 0,
    "orders_not_captured": 0,
    "captures_unrecorded": 0,
    "double_charged": 0,
    "captured_without_order": 0,
}


@pytest.fixture(scope="module")
def stack():
    stack = Stack()
    yield stack
    stack.close()


@pytest.fixture(autouse=True)
def _settled(stack):
    """Each test starts and ends with nothing left to reconcile."""
    stack.proxy.rules.clear()
    yield
    stack.proxy.rules.clear()
    stack.manage("popup_reconcile", "--grace-minutes", "0")
    audit = stack.audit()
    assert audit.returncode == 0, audit.stdout + audit.stderr


def reconciled(stack) -> dict:
    """The money after the audit saw what the fault left, and the reconciler finished it."""
    assert stack.audit().returncode == 1, "the fault left nothing for the audit to see"
    stack.manage("popup_reconcile", "--grace-minutes", "0")
    audit = stack.audit()
    assert audit.returncode == 0, audit.stdout + audit.stderr
    return stack.money()


def subset(money: dict, expected: dict) -> dict:
    return {name: money[name] for name in expected}


def test_a_web_worker_killed_once_the_card_is_authorised(stack):
    before = stack.money()
    bought = stack.hold(quantity=2)
    stack.proxy.fail("POST", AUTHORISE, "drop", then=stack.web_worker_kill)

    stack.pay(bought)

    assert bought.pay == 0  # the connection died with the worker
    assert stack.money()["dangling"] == before["dangling"] + 1
    money = reconciled(stack)
    assert subset(money, CLEAN) == CLEAN
    assert money["orders"] == before["orders"] + 1  # the units were still held: sold


def test_a_shopper_who_pays_again_after_the_crash_is_charged_once(stack):
    before = stack.money()
    bought = stack.hold()
    stack.proxy.fail("POST", AUTHORISE, "drop", then=stack.web_worker_kill)
    stack.pay(bought)
    wait_for_store(stack)

    stack.pay(bought, number=1)  # the page said nothing: the shopper taps Pay again

    assert bought.pay == 200, bought.body
    money = reconciled(stack)  # the first authorisation, replaced, is cancelled
    assert subset(money, CLEAN) == CLEAN
    assert money["orders"] == before["orders"] + 1


def test_a_web_worker_killed_between_the_order_and_its_capture(stack):
    before = stack.money()
    bought = stack.hold()
    stack.proxy.fail("POST", CAPTURE, "refuse", then=stack.web_worker_kill)

    stack.pay(bought)

    assert bought.pay == 0
    now = stack.money()
    assert now["orders"] == before["orders"] + 1  # committed before the capture was asked
    assert now["orders_not_captured"] == before["orders_not_captured"] + 1
    money = reconciled(stack)
    assert subset(money, CLEAN) == CLEAN
    assert money["orders"] == before["orders"] + 1


def wait_for_store(stack, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"{stack.store}/popup/{stack.sale['slug']}/", timeout=5).ok:
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, "the store did not come back"
        time.sleep(0.2)


def test_the_database_restarted_during_a_burst_of_checkouts(stack):
    before = stack.money()
    shoppers = [stack.hold() for _ in range(16)]
    assert {bought.hold for bought in shoppers} == {200}
    began = time.monotonic()

    def pay(number: int):
        # Shoppers keep arriving, one every 0.2 s: before, during and after the restart.
        time.sleep(max(0.0, began + number * 0.2 - time.monotonic()))
        return stack.pay(shoppers[number], number=number)

    pages, api = [], []

    def restart() -> None:
        time.sleep(1.2)
        stack.postgres.stop("fast")  # every connection cut, mid-transaction or not
        for path in (f"/popup/{stack.sale['slug']}/", f"/popup/checkout/{shoppers[0].token}/"):
            pages.append(requests.get(f"{stack.store}{path}", timeout=10))
            # A session cookie: the middleware reads the database before any view runs.
            pages.append(requests.get(f"{stack.store}{path}", cookies=SESSION, timeout=10))
        api.append(
            requests.post(
                f"{stack.store}/popup/checkout/{shoppers[0].token}/pay/",
                json={},
                cookies=SESSION,
                timeout=10,
            )
        )
        time.sleep(0.5)
        stack.postgres.start()

    restarter = threading.Thread(target=restart)
    restarter.start()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(pay, range(len(shoppers))))
    restarter.join()

    answers = Counter((bought.pay, (bought.body or {}).get("code", "")) for bought in results)
    # Paid, or told plainly that the shop was busy and nobody is charged twice: never a bare 500.
    assert set(answers) <= {(200, ""), (503, "busy")}, answers
    assert answers[(503, "busy")] and answers[(200, "")] > 3, "the restart missed the burst"
    # The pages ask the shopper to wait a moment, and try again by themselves.
    assert [(page.status_code, page.headers["Retry-After"]) for page in pages] == [(503, "5")] * 4
    assert all("The shop is busy" in page.text for page in pages)
    assert [(answer.status_code, answer.json()["code"]) for answer in api] == [(503, "busy")]
    # Connections are checked before use: the first checkout after the restart just works.
    assert stack.buy(number=99).pay == 200
    stack.manage("popup_reconcile", "--grace-minutes", "0")
    money = stack.money()
    assert subset(money, CLEAN) == CLEAN
    # Each paid shopper has their order; the others' authorisations became orders or were cancelled.
    assert money["orders"] - before["orders"] >= answers[(200, "")] + 1


def test_reconcilers_on_several_machines_at_once_finish_each_payment_once(stack):
    before = stack.money()
    for number in range(3):
        bought = stack.hold()
        stack.proxy.fail("POST", AUTHORISE, "drop", then=stack.web_worker_kill)
        stack.pay(bought, number=number)
        wait_for_store(stack)
    assert stack.money()["dangling"] == before["dangling"] + 3

    reconcilers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "popup_reconcile", "--grace-minutes", "0"],
            cwd=ROOT,
            env=stack.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(3)
    ]
    outputs = [reconciler.communicate(timeout=120)[0].decode() for reconciler in reconcilers]

    assert [reconciler.returncode for reconciler in reconcilers] == [0, 0, 0], outputs
    money = stack.money()
    assert subset(money, CLEAN) == CLEAN
    assert money["orders"] == before["orders"] + 3
    assert money["authorisations"] == before["authorisations"] + 3  # none made again
