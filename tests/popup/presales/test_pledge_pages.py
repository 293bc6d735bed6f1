"""The backer's pages: pledging from the first-party checkout, then the pledge page's link for
changing, cancelling and paying a failed charge (3-D Secure included), all over HTTP."""

import json
from decimal import Decimal

import pytest

from popup.core.holds import basket_create, hold_set
from popup.models import Pledge, PopUpProduct
from tests.integrations.stripe.support import (
    DECLINED_ON_CHARGE,
    THREE_D_SECURE,
    VISA,
    setup_intent_confirm,
)
from tests.popup.checkout.support import SHOPPER, authenticate
from tests.popup.presales.support import all_or_nothing, close, pledge, settle

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("stripe_settings"),
    pytest.mark.usefixtures("france"),
]


def post_json(client, url, body=None):
    response = client.post(url, json.dumps(body or {}), content_type="application/json")
    return response, response.json()


def page_of(client, backer) -> str:
    response = client.get(f"/popup/pledge/{backer.token}/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    return response.content.decode()


def test_pledging_from_the_checkout_page_saves_the_card_and_charges_nothing(localstripe, client):
    popup, candle = all_or_nothing(presale_goal_units=10)
    basket = basket_create(popup=popup, source="linktr.ee")
    hold_set(basket=basket, product_id=candle.pk, quantity=2)

    page = client.get(f"/popup/checkout/{basket.token}/").content.decode()
    assert "Back this pre-sale" in page
    assert "Nothing is charged today." in page
    assert "only if it reaches its goal" in page
    assert "Pledge €" in page and "Order and pay" not in page

    response, answer = post_json(
        client, f"/popup/checkout/{basket.token}/pledge/", SHOPPER.__dict__
    )
    assert response.status_code == 200, answer
    setup_intent_confirm(localstripe, answer["client_secret"], VISA)
    response, answer = post_json(
        client,
        f"/popup/checkout/{basket.token}/pledged/",
        {"setup_intent": answer["setup_intent"]},
    )
    assert response.status_code == 200, answer

    backer = Pledge.objects.get()
    assert answer == {"status": "pledged", "redirect": f"/popup/pledge/{backer.token}/"}
    assert backer.source == "linktr.ee"
    html = page_of(client, backer)
    assert "Pledged." in html and "Visa •••• 4242" in html
    assert "Cancel my pledge" in html
    # Coming back to the checkout leads to the pledge, not to a second one.
    response = client.get(f"/popup/checkout/{basket.token}/")
    assert response.status_code == 302 and response["Location"] == f"/popup/pledge/{backer.token}/"


def test_a_pledge_form_missing_details_says_what_is_missing(client):
    popup, candle = all_or_nothing()
    basket = basket_create(popup=popup)
    hold_set(basket=basket, product_id=candle.pk, quantity=1)
    response, answer = post_json(
        client, f"/popup/checkout/{basket.token}/pledge/", {"email": "not-an-email"}
    )
    assert response.status_code == 400
    assert "email" in answer["errors"] and "city" in answer["errors"]
    assert not Pledge.objects.exists()


def test_the_backer_changes_the_quantity_and_cancels_from_the_pledge_page(localstripe, client):
    popup, candle = all_or_nothing(presale_goal_units=10, per_customer_limit=4)
    backer = pledge(popup, candle, localstripe, units=1)
    line = backer.lines.get()

    response = client.post(f"/popup/pledge/{backer.token}/lines/{line.pk}/", {"quantity": "3"})
    assert response.status_code == 302
    backer.refresh_from_db()
    assert backer.amount == Decimal("117.00") + backer.shipping_charge
    assert "3 × Ember smart candle" in page_of(client, backer)

    response = client.post(f"/popup/pledge/{backer.token}/lines/{line.pk}/", {"quantity": "x"})
    assert response.status_code == 400 and "Choose a whole number." in response.content.decode()
    response = client.post(f"/popup/pledge/{backer.token}/lines/{line.pk}/", {"quantity": "9"})
    assert response.status_code == 409
    assert "4 units of this pop-up in all" in response.content.decode()

    response = client.post(f"/popup/pledge/{backer.token}/cancel/")
    assert response.status_code == 302
    html = page_of(client, backer)
    assert "Cancelled." in html and "Nothing was charged" in html
    assert "Cancel my pledge" not in html
    assert PopUpProduct.objects.get(popup=popup).units_sold == 0


def test_a_declined_pledge_is_paid_with_another_card_from_the_recovery_link(localstripe, client):
    popup, candle = all_or_nothing(presale_goal_units=1)
    backer = pledge(popup, candle, localstripe, card=DECLINED_ON_CHARGE)
    close(popup)
    settle(popup)
    html = page_of(client, backer)
    assert "Your payment did not go through." in html
    assert "Pay €" in html

    # The saved card is still declined...
    response, answer = post_json(client, f"/popup/pledge/{backer.token}/pay/")
    assert response.status_code == 402 and "declined" in answer["error"]
    # ...so the backer saves another one, and pays with it.
    response, answer = post_json(client, f"/popup/pledge/{backer.token}/card/")
    assert response.status_code == 200, answer
    setup_intent_confirm(localstripe, answer["client_secret"], VISA)
    response, answer = post_json(
        client,
        f"/popup/pledge/{backer.token}/card/saved/",
        {"setup_intent": answer["setup_intent"]},
    )
    assert answer == {"status": "retrying", "card": "Visa •••• 4242"}
    response, answer = post_json(client, f"/popup/pledge/{backer.token}/pay/")
    assert answer == {"status": "paid", "redirect": f"/popup/pledge/{backer.token}/"}

    backer.refresh_from_db()
    assert backer.status == Pledge.Status.PAID
    html = page_of(client, backer)
    assert "Paid, thank you!" in html and backer.order.number in html


def test_a_card_that_wants_3d_secure_is_paid_there_by_the_backer(localstripe, client):
    popup, candle = all_or_nothing(presale_goal_units=1)
    backer = pledge(popup, candle, localstripe, card=THREE_D_SECURE)
    close(popup)
    settle(popup)
    backer.refresh_from_db()
    assert backer.failure_code == "authentication_required"

    response, answer = post_json(client, f"/popup/pledge/{backer.token}/pay/")
    assert answer["status"] == "requires_action"
    # Reporting success before passing the challenge changes nothing: Stripe is asked.
    response, early = post_json(
        client,
        f"/popup/pledge/{backer.token}/pay/complete/",
        {"payment_intent": answer["payment_intent"]},
    )
    assert response.status_code == 409
    authenticate(localstripe, answer["payment_intent"], answer["client_secret"], success=True)
    response, done = post_json(
        client,
        f"/popup/pledge/{backer.token}/pay/complete/",
        {"payment_intent": answer["payment_intent"]},
    )
    assert done["status"] == "paid"
    backer.refresh_from_db()
    assert backer.order.sources.get().reference == answer["payment_intent"]


def test_someone_elses_payment_is_never_taken_for_a_pledge(localstripe, client):
    popup, candle = all_or_nothing(presale_goal_units=1)
    other = pledge(popup, candle, localstripe, email="grace@example.com")
    backer = pledge(popup, candle, localstripe, card=THREE_D_SECURE)
    close(popup)
    settle(popup)
    other.refresh_from_db()
    response, answer = post_json(
        client,
        f"/popup/pledge/{backer.token}/pay/complete/",
        {"payment_intent": other.payment_intent_id},
    )
    assert response.status_code == 409 and answer["code"] == "unknown"
    backer.refresh_from_db()
    assert backer.status == Pledge.Status.FAILED


def test_an_unknown_pledge_link_is_not_found(client):
    assert client.get("/popup/pledge/nope/").status_code == 404
    assert client.post("/popup/pledge/nope/cancel/").status_code == 404
