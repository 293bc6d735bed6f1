"""integrations.stripe.facade: Stripe payments recorded on real Oscar orders, against localstripe."""

import uuid
from decimal import Decimal

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from oscar.core.loading import get_class, get_model
from oscar.test import factories
from oscar.test.basket import add_product

from integrations.stripe import client, facade
from tests.localstripe_server import PUBLISHABLE_KEY, SECRET_KEY

from .support import DECLINED_ON_CHARGE, THREE_D_SECURE, card_token

Transaction = get_model("payment", "Transaction")
UnableToTakePayment = get_class("payment.exceptions", "UnableToTakePayment")
PaymentError = get_class("payment.exceptions", "PaymentError")

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_settings")]


@pytest.fixture
def order():
    basket = factories.create_basket(empty=True)
    add_product(basket, price=Decimal("10.00"), quantity=2)
    add_product(basket, price=Decimal("5.50"), quantity=1)
    return factories.create_order(basket=basket)


def authorise(localstripe, order, number="4242424242424242") -> client.PaymentIntent:
    return facade.payment_authorise(
        amount=order.total_incl_tax,
        currency=order.currency,
        card_token=card_token(localstripe, number),
        idempotency_key=f"order-{order.number}-{uuid.uuid4().hex}",
        metadata={"order_number": order.number},
    )


def authenticate(localstripe, intent: client.PaymentIntent, *, success: bool) -> None:
    """The bank's 3-D Secure answer, as localstripe's Stripe.js sends it."""
    response = requests.post(
        f"{localstripe.url}/v1/payment_intents/{intent.id}/_authenticate",
        params={"success": "true" if success else "false"},
        json={"key": PUBLISHABLE_KEY, "client_secret": intent.client_secret},
        timeout=5,
    )
    response.raise_for_status()


def refunds_at_stripe(localstripe, payment_intent_id: str) -> list[int]:
    response = requests.get(
        f"{localstripe.url}/v1/refunds",
        params={"payment_intent": payment_intent_id},
        headers={"Authorization": f"Bearer {SECRET_KEY}"},
        timeout=5,
    )
    return [refund["amount"] for refund in response.json()["data"]]


def events(order, name: str):
    return order.payment_events.filter(event_type__name=name)


def lines_of(event) -> dict[int, int]:
    return {quantity.line_id: quantity.quantity for quantity in event.line_quantities.all()}


def test_amounts_in_minor_units():
    assert facade.amount_to_minor(amount=Decimal("25.50"), currency="EUR") == 2550
    assert facade.amount_to_minor(amount=Decimal("1200"), currency="JPY") == 1200
    assert facade.amount_from_minor(amount=2550, currency="eur") == Decimal("25.50")
    assert facade.amount_from_minor(amount=1200, currency="jpy") == Decimal("1200.00")


def test_an_authorisation_is_recorded_once(localstripe, order):
    intent = authorise(localstripe, order)
    assert intent.is_authorised and intent.amount == 2550

    source = facade.payment_record_authorisation(order=order, payment_intent=intent)
    again = facade.payment_record_authorisation(order=order, payment_intent=intent)

    assert again.pk == source.pk
    assert source.source_type.name == "Stripe" and source.reference == intent.id
    assert (source.amount_allocated, source.amount_debited) == (Decimal("25.50"), Decimal("0"))
    assert [(t.txn_type, t.amount, t.reference) for t in source.transactions.all()] == [
        (Transaction.AUTHORISE, Decimal("25.50"), intent.id)
    ]
    (event,) = events(order, "Authorised")
    assert event.amount == Decimal("25.50") and event.reference == intent.id
    assert lines_of(event) == {line.pk: line.quantity for line in order.lines.all()}


def test_a_capture_is_recorded_once_and_charged_once(localstripe, order):
    intent = authorise(localstripe, order)
    facade.payment_record_authorisation(order=order, payment_intent=intent)

    debit = facade.payment_capture(order=order, payment_intent_id=intent.id)
    again = facade.payment_capture(order=order, payment_intent_id=intent.id)

    assert again.pk == debit.pk
    assert (debit.txn_type, debit.amount, debit.status) == (
        Transaction.DEBIT,
        Decimal("25.50"),
        "succeeded",
    )
    source = order.sources.get()
    assert source.amount_debited == Decimal("25.50")
    (paid,) = events(order, "Paid")
    assert paid.amount == Decimal("25.50") and lines_of(paid)
    assert client.payment_intent_retrieve(payment_intent_id=intent.id).status == "succeeded"


def test_a_capture_that_fails_is_recorded_on_the_order(localstripe, order):
    intent = authorise(localstripe, order)
    facade.payment_record_authorisation(order=order, payment_intent=intent)

    with pytest.raises(PaymentError):
        # More than was authorised: Stripe refuses.
        facade.payment_capture(order=order, payment_intent_id=intent.id, amount=Decimal("99.00"))

    source = order.sources.get()
    assert source.amount_debited == Decimal("0")
    failed = source.transactions.get(txn_type=Transaction.DEBIT)
    assert failed.status == facade.CAPTURE_FAILED and failed.reference == intent.id
    assert intent.id in order.notes.get().message
    assert not events(order, "Paid").exists()
    # The authorisation is still there: capturing the right amount works afterwards.
    facade.payment_capture(order=order, payment_intent_id=intent.id)
    assert order.sources.get().amount_debited == Decimal("25.50")


def test_a_declined_card_is_unable_to_take_payment(localstripe, order):
    with pytest.raises(UnableToTakePayment, match="Your card was declined."):
        authorise(localstripe, order, DECLINED_ON_CHARGE)


def test_3d_secure_passed_is_an_authorisation(localstripe, order):
    intent = authorise(localstripe, order, THREE_D_SECURE)
    assert intent.needs_authentication
    with pytest.raises(PaymentError, match="requires_action"):
        facade.payment_authorisation_check(
            payment_intent_id=intent.id, amount=order.total_incl_tax, currency=order.currency
        )

    authenticate(localstripe, intent, success=True)

    checked = facade.payment_authorisation_check(
        payment_intent_id=intent.id, amount=order.total_incl_tax, currency=order.currency
    )
    assert checked.is_authorised


def test_3d_secure_failed_is_unable_to_take_payment(localstripe, order):
    intent = authorise(localstripe, order, THREE_D_SECURE)

    authenticate(localstripe, intent, success=False)

    with pytest.raises(UnableToTakePayment) as failure:
        facade.payment_authorisation_check(
            payment_intent_id=intent.id, amount=order.total_incl_tax, currency=order.currency
        )
    assert str(failure.value) == facade.AUTHENTICATION_FAILED_MESSAGE


def test_an_authorisation_for_another_amount_is_refused(localstripe, order):
    intent = authorise(localstripe, order)

    with pytest.raises(PaymentError, match="is for 2550 eur"):
        facade.payment_authorisation_check(
            payment_intent_id=intent.id, amount=Decimal("1.00"), currency=order.currency
        )


def test_a_cancelled_authorisation_stays_cancelled(localstripe, order):
    intent = authorise(localstripe, order)

    assert facade.payment_authorisation_cancel(payment_intent_id=intent.id).status == "canceled"
    assert facade.payment_authorisation_cancel(payment_intent_id=intent.id).status == "canceled"


@pytest.fixture
def paid_order(localstripe, order):
    intent = authorise(localstripe, order)
    facade.payment_record_authorisation(order=order, payment_intent=intent)
    facade.payment_capture(order=order, payment_intent_id=intent.id)
    return order


def test_a_refund_goes_through_stripe_once_per_key(localstripe, paid_order):
    source = paid_order.sources.get()

    first = facade.payment_refund(order=paid_order, amount=Decimal("5.50"), refund_key="r1")
    again = facade.payment_refund(order=paid_order, amount=Decimal("5.50"), refund_key="r1")

    assert again.pk == first.pk
    assert refunds_at_stripe(localstripe, source.reference) == [550]
    source.refresh_from_db()
    assert source.amount_refunded == Decimal("5.50")
    (refund,) = source.transactions.filter(txn_type=Transaction.REFUND)
    assert refund.amount == Decimal("5.50") and refund.reference.startswith("re_")
    assert first.event_type.name == "Refunded" and first.reference == "r1"
    assert lines_of(first) == {}  # part of the money, no lines named

    rest = facade.payment_refund(order=paid_order, refund_key="r2")

    assert rest.amount == Decimal("20.00")
    assert sorted(refunds_at_stripe(localstripe, source.reference)) == [550, 2000]
    with pytest.raises(PaymentError, match="Only 0.00"):
        facade.payment_refund(order=paid_order, amount=Decimal("1.00"), refund_key="r3")


def test_a_full_refund_names_every_line(localstripe, paid_order):
    event = facade.payment_refund(order=paid_order, refund_key="all")

    assert event.amount == Decimal("25.50")
    assert lines_of(event) == {line.pk: line.quantity for line in paid_order.lines.all()}


def test_staff_refund_from_the_dashboard(localstripe, paid_order, client):
    url = reverse("popup-stripe:order-refund", kwargs={"number": paid_order.number})
    users = get_user_model().objects
    staff = users.create_user(username="staff", email="staff@example.com", is_staff=True)
    shopper = users.create_user(username="shopper", email="shopper@example.com")

    client.force_login(shopper)
    assert client.post(url, {"amount": "5.00", "refund_key": "k"}).status_code == 403
    client.force_login(staff)  # staff, but not allowed to change orders
    assert client.post(url, {"amount": "5.00", "refund_key": "k"}).status_code == 403
    assert refunds_at_stripe(localstripe, paid_order.sources.get().reference) == []

    staff.user_permissions.add(
        Permission.objects.get(content_type__app_label="order", codename="change_order")
    )
    staff = users.get(pk=staff.pk)  # permissions are cached on the instance

    client.force_login(staff)
    form = client.get(url)
    assert form.status_code == 200 and b"25.50" in form.content
    for _ in range(2):  # a double submission of the same form refunds once
        response = client.post(url, {"amount": "5.00", "refund_key": "same-form"})
        assert response.status_code == 302
        assert response["Location"] == reverse(
            "dashboard:order-detail", kwargs={"number": paid_order.number}
        )
    source = paid_order.sources.get()
    assert source.amount_refunded == Decimal("5.00")
    assert refunds_at_stripe(localstripe, source.reference) == [500]


def test_the_refund_form_snippet_for_oscars_order_page(paid_order):
    from django.template import Context, Template

    html = Template("{% load popup_stripe %}{% stripe_refund_form order %}").render(
        Context({"order": paid_order})
    )

    assert reverse("popup-stripe:order-refund", kwargs={"number": paid_order.number}) in html
    assert 'name="refund_key"' in html and 'value="25.50"' in html
