"""Refunds from Oscar's own dashboard order page: the store's template extends Oscar's, no fork."""

import re
import uuid
from decimal import Decimal

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from oscar.test import factories
from oscar.test.basket import add_product

from integrations.stripe import facade
from tests.localstripe_server import SECRET_KEY

from .support import card_token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_settings")]


def new_order():
    basket = factories.create_basket(empty=True)
    add_product(basket, price=Decimal("12.00"), quantity=2)
    return factories.create_order(basket=basket)


@pytest.fixture
def paid_order(localstripe):
    order = new_order()
    intent = facade.payment_authorise(
        amount=order.total_incl_tax,
        currency=order.currency,
        card_token=card_token(localstripe),
        idempotency_key=f"order-{order.number}-{uuid.uuid4().hex}",
        metadata={"order_number": order.number},
    )
    facade.payment_record_authorisation(order=order, payment_intent=intent)
    facade.payment_capture(order=order, payment_intent_id=intent.id)
    return order


@pytest.fixture
def staff_client(client):
    """A staff member with Oscar's order permissions (Oscar 4's dashboard wants view_order)."""
    staff = get_user_model().objects.create_user(
        username="staff", email="staff@example.com", is_staff=True
    )
    staff.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="order", codename__in=["view_order", "change_order"]
        )
    )
    client.force_login(staff)
    return client


def refunds_at_stripe(localstripe, payment_intent_id: str) -> list[int]:
    response = requests.get(
        f"{localstripe.url}/v1/refunds",
        params={"payment_intent": payment_intent_id},
        headers={"Authorization": f"Bearer {SECRET_KEY}"},
        timeout=5,
    )
    response.raise_for_status()
    return [refund["amount"] for refund in response.json()["data"]]


def refund_form(html: str) -> tuple[str, dict[str, str]]:
    """The action and fields of the Stripe refund form on the page."""
    (form,) = re.findall(r"<form[^>]*data-stripe-refund[^>]*>.*?</form>", html, re.S)
    action = re.search(r'action="([^"]+)"', form).group(1)
    fields = {
        name: value
        for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form)
    }
    return action, fields


def order_page(client, order) -> str:
    response = client.get(reverse("dashboard:order-detail", kwargs={"number": order.number}))
    assert response.status_code == 200
    return response.content.decode()


def test_staff_see_oscars_order_page_with_a_stripe_refund_form(staff_client, paid_order):
    html = order_page(staff_client, paid_order)

    # Still Oscar's page (its tabs and payment sources), with our form in the payment tab.
    assert "Payment sources" in html and 'id="payment"' in html
    assert html.index('id="payment"') < html.index("Refund through Stripe")
    action, fields = refund_form(html)
    assert action == reverse("popup-stripe:order-refund", kwargs={"number": paid_order.number})
    assert fields["amount"] == "24.00" and fields["refund_key"]


def test_an_order_not_paid_through_stripe_has_no_refund_form(staff_client):
    html = order_page(staff_client, new_order())

    assert "Payment sources" in html and "data-stripe-refund" not in html


def test_refunding_through_the_form_refunds_once_at_stripe(staff_client, localstripe, paid_order):
    action, fields = refund_form(order_page(staff_client, paid_order))

    for _ in range(2):  # a double click sends the same form twice
        response = staff_client.post(action, {**fields, "amount": "10.00"}, follow=True)
        assert response.status_code == 200
    assert "Refunded €10.00 through Stripe." in response.content.decode()

    source = paid_order.sources.get()
    assert refunds_at_stripe(localstripe, source.reference) == [1000]
    assert source.amount_refunded == Decimal("10.00")
    # The page now offers what is left.
    _action, fields = refund_form(order_page(staff_client, paid_order))
    assert fields["amount"] == "14.00"


def test_a_french_merchant_refunds_in_french(staff_client, paid_order):
    """The refund page lives under the pop-ups' prefix, which the store's locale middleware leaves
    alone: it still speaks the merchant's browser language, its amount as French writes it."""
    french = {"HTTP_ACCEPT_LANGUAGE": "fr"}
    action, fields = refund_form(order_page(staff_client, paid_order))

    page = staff_client.get(action, **french).content.decode()
    response = staff_client.post(action, {**fields, "amount": "10.00"}, follow=True, **french)

    assert "Retour à la commande" in page and "Back to the order" not in page
    assert "Remboursement de 10,00\u00a0€ effectué via Stripe." in response.content.decode()


def test_a_refund_stripe_refuses_says_so_in_one_sentence(staff_client, paid_order):
    action, fields = refund_form(order_page(staff_client, paid_order))

    response = staff_client.post(action, {**fields, "amount": "99.00"}, follow=True)

    page = response.content.decode()
    assert "Refund failed: " in page and "Refunded" not in page
    assert paid_order.sources.get().amount_refunded == Decimal("0.00")


def test_a_nul_byte_in_the_order_number_is_a_404_for_staff_too(staff_client):
    assert staff_client.get("/popup/stripe/orders/%00/refund/").status_code == 404
