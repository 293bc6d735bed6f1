"""Deleting a pop-up while shoppers use it, on PostgreSQL with real connections: the delete never
deadlocks with a checkout, and never deletes a basket whose payment may be going through."""

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, transaction
from django.db.models import F

from popup.core.popups import popup_delete
from popup.models import PopUp, PopUpBasket
from tests.factories import popup_with_products

pytestmark = pytest.mark.django_db(transaction=True)

WAIT_SECONDS = 10


class Worker:
    """`work` run on its own thread and database connection; its result or its error kept."""

    def __init__(self, *, work: Callable[[], object]) -> None:
        self.result, self.error, self.pid = None, None, None
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self.thread.start()
        assert self.started.wait(WAIT_SECONDS)

    def _run(self, work) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pid = cursor.fetchone()[0]
            self.started.set()
            self.result = work()
        except Exception as error:  # noqa: BLE001 - the test reads it
            self.error = error
        finally:
            self.started.set()
            connection.close()

    def join(self, timeout: float = WAIT_SECONDS) -> bool:
        """Whether it finished within `timeout` seconds."""
        self.thread.join(timeout)
        return not self.thread.is_alive()


def waiting_for_a_row_lock(*, worker: Worker) -> bool:
    """Whether the worker's connection is waiting for a lock another transaction holds."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [worker.pid]
            )
            row = cursor.fetchone()
        if row and row[0] == "Lock":
            return True
        if not worker.thread.is_alive():
            return False
        time.sleep(0.02)
    return False


def test_deleting_while_a_checkout_holds_its_basket_waits_for_it_and_archives():
    # A checkout locks its basket, then the pop-up's row (placing the order selects it for
    # update with the basket). A delete locking them the other way round deadlocked with it.
    popup = popup_with_products(1, owns_range=True)
    basket = PopUpBasket.objects.create(popup=popup)
    basket_locked, go_on = threading.Event(), threading.Event()

    def checkout():
        with transaction.atomic():
            PopUpBasket.objects.select_for_update().get(pk=basket.pk)
            basket_locked.set()
            go_on.wait(WAIT_SECONDS)
            PopUpBasket.objects.select_for_update().select_related("popup").get(pk=basket.pk)
            PopUpBasket.objects.filter(pk=basket.pk).update(
                payment_attempts=F("payment_attempts") + 1
            )

    shopper = Worker(work=checkout)
    try:
        assert basket_locked.wait(WAIT_SECONDS)
        merchant = Worker(work=lambda: popup_delete(popup=popup))
        assert waiting_for_a_row_lock(worker=merchant)
        go_on.set()
        assert shopper.join() and merchant.join()
    finally:
        go_on.set()
        shopper.join()

    assert shopper.error is None and merchant.error is None
    assert merchant.result.archives and merchant.result.payments == 1
    popup.refresh_from_db()
    assert popup.archived_at is not None and popup.is_published is False
    assert PopUpBasket.objects.get(pk=basket.pk).payment_attempts == 1


def test_a_basket_made_meanwhile_and_in_use_keeps_the_pop_up_without_waiting_for_it():
    # Between locking the baskets and locking the pop-up's row, a shopper made a basket and is
    # using it. Waiting for it could deadlock (the shopper may lock the pop-up next), and it may
    # be starting a payment: the pop-up is archived at once, the basket kept.
    popup = popup_with_products(1, owns_range=True)
    referred, let_go, basket_in_use, done_with_it = (threading.Event() for _ in range(4))

    def row_referring_to_the_pop_up():
        # As inserting any row that refers to the pop-up does (a foreign key's check).
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {PopUp._meta.db_table} WHERE id = %s FOR KEY SHARE", [popup.pk]
            )
            referred.set()
            let_go.wait(WAIT_SECONDS)

    def shopper_using(*, basket_id: int):
        with transaction.atomic():
            PopUpBasket.objects.select_for_update().get(pk=basket_id)
            basket_in_use.set()
            done_with_it.wait(WAIT_SECONDS)

    other, merchant, shopper = Worker(work=row_referring_to_the_pop_up), None, None
    try:
        assert referred.wait(WAIT_SECONDS)
        merchant = Worker(work=lambda: popup_delete(popup=popup))
        assert waiting_for_a_row_lock(worker=merchant)  # for the pop-up's row, its baskets locked
        basket = PopUpBasket.objects.create(popup=popup)
        shopper = Worker(work=lambda: shopper_using(basket_id=basket.pk))
        assert basket_in_use.wait(WAIT_SECONDS)
        let_go.set()
        assert merchant.join(), "the delete waited for the shopper's basket"
    finally:
        let_go.set()
        done_with_it.set()
        for worker in (other, merchant, shopper):
            if worker:
                worker.join()

    assert merchant.error is None and merchant.result.archives
    popup.refresh_from_db()
    assert popup.archived_at is not None
    assert PopUpBasket.objects.filter(pk=basket.pk).exists()
