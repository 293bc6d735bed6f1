import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import stripe
from django.core.management import call_command
from oscar.core.loading import get_model

from popup.core.selectors import popup_storefront
from popup.models import PopUp
from shop.management.commands.demo import localstripe_running

Country = get_model("address", "Country")

pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_demo_has_a_pop_up_in_every_public_state_and_can_be_seeded_again():
    call_command("demo", "--seed-only")
    call_command("demo", "--seed-only")

    states = {popup.slug: popup_storefront(popup=popup).state for popup in PopUp.objects.all()}
    assert states == {
        "indigo-winter": PopUp.State.LIVE,
        "spring-ceramics": PopUp.State.COMING_SOON,
        "smart-candle": PopUp.State.LIVE,
        "autumn-clearance": PopUp.State.CLOSED,
    }


def test_demo_products_have_photos_prices_and_stock():
    call_command("demo", "--seed-only")
    storefront = popup_storefront(popup=PopUp.objects.get(slug="indigo-winter"))
    assert len(storefront.items) == 4
    for item in storefront.items:
        assert item.image is not None and item.image.original.size > 5_000
        assert item.price is not None and item.units_left > 0
    presale = popup_storefront(popup=PopUp.objects.get(slug="smart-candle"))
    assert [item.units_left for item in presale.items] == [300, 200]


def test_demo_staff_can_sign_in_to_the_dashboard(client):
    call_command("demo", "--seed-only")
    assert client.login(username="staff@example.com", password="popup-demo")
    assert client.get("/dashboard/popups/").status_code == 200


def test_demo_ships_to_the_usual_countries():
    call_command("demo", "--seed-only")
    call_command("demo", "--seed-only")

    countries = Country.objects.filter(is_shipping_country=True)
    assert {c.code for c in countries} >= {"FR", "DE", "GB", "US", "BE", "NL", "ES", "IT"}
    assert countries.first().printable_name == "France"
    assert all(country.printable_name for country in countries)


def test_demo_runs_localstripe_with_its_webhook_and_stops_it(tmp_path):
    received = []

    class Webhook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append((self.rfile.read(int(self.headers["Content-Length"])), self.headers))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    store = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=store.serve_forever, daemon=True).start()
    webhook_url = f"http://127.0.0.1:{store.server_port}/popup/stripe/webhook/"
    port = free_port()
    try:
        with localstripe_running(
            port=port,
            webhook_url=webhook_url,
            webhook_secret="whsec_demo_test",
            log_path=tmp_path / "ls.log",
        ) as url:
            assert url == f"http://127.0.0.1:{port}"
            response = requests.post(
                f"{url}/v1/customers",
                data={"email": "shopper@example.com"},
                headers={"Authorization": "Bearer sk_test_localstripe"},
                timeout=5,
            )
            assert response.ok
            deadline = time.monotonic() + 10
            while not received and time.monotonic() < deadline:
                time.sleep(0.1)
    finally:
        store.shutdown()

    payload, headers = received[0]
    event = stripe.Webhook.construct_event(payload, headers["Stripe-Signature"], "whsec_demo_test")
    assert event["type"] == "customer.created"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/js.stripe.com/v3/", timeout=2)
