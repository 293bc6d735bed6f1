"""Stripe that does not answer: the shopper hears from the checkout before the web worker is killed."""

import socket
import threading
import time

import pytest

from tests.popup.checkout.support import SHOPPER, basket_holding

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("france")]


@pytest.fixture
def stalled_stripe():
    """An address that accepts connections and never answers, as Stripe does when it stalls."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def test_a_stalled_stripe_gets_the_shopper_a_clear_answer_within_the_budget(
    client, settings, stalled_stripe
):
    address, accepted = stalled_stripe
    settings.STRIPE_SECRET_KEY, settings.STRIPE_PUBLISHABLE_KEY = "sk_test_x", "pk_test_x"
    settings.STRIPE_API_BASE, settings.STRIPE_TIMEOUT = address, 1
    basket = basket_holding()
    fields = {**SHOPPER.__dict__, "card_token": "tok_visa"}

    started = time.monotonic()
    response = client.post(
        f"/popup/checkout/{basket.token}/pay/", fields, content_type="application/json"
    )
    took = time.monotonic() - started

    assert response.status_code == 503
    assert response.json()["code"] == "payment_unknown"
    assert "You will not be charged twice" in response.json()["error"]
    assert len(accepted) == 2  # one try and one retry, then the budget is spent
    assert took < 2 * settings.STRIPE_TIMEOUT + 3
