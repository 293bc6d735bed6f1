"""Checkout against localstripe: secure the units, authorise, place one Oscar order, capture."""

from decimal import Decimal

import pytest
import requests
from django.core import mail
from django.db import transaction
from django.utils import timezone
from oscar.core.loading import get_class, get_model

from integrations.stripe import client as stripe_client
from integrations.stripe.gateway import StripeGateway
from popup.channels.placements import placement_create
from popup.checkout.services import (
    ATTEMPT_KEY,
    CheckoutRefused,
    PaymentStep,
    ShopperDetails,
    basket_secure,
    checkout_complete,
    checkout_pay,
)
from popup.core.holds import basket_create, hold_set
from popup.models import Hold, PopUpBasket, PopUpProduct
from popup.payments import payment_gateway
from tests.factories import PopUpFactory, create_product
from tests.integrations.stripe.support import (
    DECLINED_ON_CHARGE,
    THREE_D_SECURE,
    card_token,
    deliver,
    event_payload,
    signed,
)
from tests.popup.checkout.support import (
    SHOPPER,
    authenticate,
    authorised_then_gone,
    basket_holding,
    stripe_reports,
    terms_of,
)

Country = get_model("address", "Country")
Order = get_model("order", "Order")
UnableToTakePayment = get_class("payment.exceptions", "UnableToTakePayment")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("stripe_settings"),
    pytest.mark.usefixtures("france"),
]


def test_a_good_card_buys_the_held_units_as_one_paid_oscar_order(localstripe):
    basket = basket_holding(quantity=2)

    step = checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe))

    order = step.order
    assert step.status == "succeeded"
    assert order.total_incl_tax == Decimal("50.00")  # the pop-up's price, free shipping
    assert [(line.title, line.quantity) for line in order.lines.all()] == [("Indigo scarf", 2)]
    assert order.guest_email == "ada@example.com"
    assert order.shipping_address.line4 == "Lyon"
    source = order.sources.get()
    assert (source.reference, source.amount_debited) == (step.payment_intent_id, Decimal("50.00"))
    assert stripe_client.payment_intent_retrieve(payment_intent_id=step.payment_intent_id).is_paid
    assert terms_of(basket).units_sold == 2
    assert not Hold.objects.exists()
    assert PopUpBasket.objects.get(pk=basket.pk).status == PopUpBasket.Status.ORDERED
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]
    assert str(order.number) in mail.outbox[0].subject + mail.outbox[0].body


def test_the_done_page_leads_back_to_where_the_shopper_came_from(client, localstripe):
    basket = basket_holding(quantity=1)
    placement = placement_create(
        popup=basket.popup, name="Bio", landing_url="https://www.instagram.com/atelier.nord"
    )
    PopUpBasket.objects.filter(pk=basket.pk).update(placement=placement)
    checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe))

    done = client.get(f"/popup/checkout/{basket.token}/done/").content.decode()
    assert '<a class="pay" href="https://www.instagram.com/atelier.nord"' in done
    assert ">Back to instagram.com</a>" in done
    # The page that embedded the pop-up, when the loader told it, comes first.
    PopUpBasket.objects.filter(pk=basket.pk).update(
        return_url="https://atelier-nord.fr/blog/winter"
    )
    done = client.get(f"/popup/checkout/{basket.token}/done/").content.decode()
    assert ">Back to atelier-nord.fr</a>" in done


def test_the_order_is_placed_once_however_often_completion_is_asked(localstripe):
    basket = basket_holding()
    step = checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe))
    for _ in range(3):
        again = checkout_complete(basket_id=basket.pk, payment_intent_id=step.payment_intent_id)
        assert again == step.order
    assert Order.objects.count() == 1
    assert terms_of(basket).units_sold == 2
    assert step.order.sources.get().transactions.filter(txn_type="Debit").count() == 1


def test_a_declined_card_keeps_the_hold_and_places_nothing(localstripe):
    basket = basket_holding()
    with pytest.raises(UnableToTakePayment, match="declined"):
        checkout_pay(
            basket=basket, details=SHOPPER, card_token=card_token(localstripe, DECLINED_ON_CHARGE)
        )
    assert not Order.objects.exists()
    assert Hold.objects.get(basket=basket).quantity == 2
    assert terms_of(basket).units_sold == 0


def test_three_d_secure_then_completion_places_the_order(localstripe):
    basket = basket_holding()
    step = checkout_pay(
        basket=basket, details=SHOPPER, card_token=card_token(localstripe, THREE_D_SECURE)
    )
    assert (step.status, step.order) == ("requires_action", None)

    with pytest.raises(CheckoutRefused, match="waiting for your bank"):
        checkout_complete(basket_id=basket.pk, payment_intent_id=step.payment_intent_id)
    assert Hold.objects.filter(basket=basket).exists()  # nothing released while authenticating

    authenticate(localstripe, step.payment_intent_id, step.client_secret, success=True)
    order = checkout_complete(basket_id=basket.pk, payment_intent_id=step.payment_intent_id)
    assert order.sources.get().amount_debited == Decimal("50.00")


def test_units_lost_during_three_d_secure_are_never_charged(localstripe):
    basket = basket_holding(units=2, quantity=2)
    step = checkout_pay(
        basket=basket, details=SHOPPER, card_token=card_token(localstripe, THREE_D_SECURE)
    )
    # The shopper dawdles in the bank's page; the hold lapses and someone else takes the units.
    Hold.objects.filter(basket=basket).update(reserved_until="2000-01-01T00:00:00Z")
    rival = basket_create(popup=basket.popup)
    hold_set(basket=rival, product_id=terms_of(basket).product_id, quantity=2)

    authenticate(localstripe, step.payment_intent_id, step.client_secret, success=True)
    with pytest.raises(CheckoutRefused, match="sold out while you paid.*Nothing was charged"):
        checkout_complete(basket_id=basket.pk, payment_intent_id=step.payment_intent_id)

    intent = stripe_client.payment_intent_retrieve(payment_intent_id=step.payment_intent_id)
    assert intent.status == "canceled"
    assert not Order.objects.exists()
    assert terms_of(basket).units_sold == 0
    [email] = mail.outbox
    assert email.to == ["ada@example.com"]
    assert "nothing was charged" in email.subject
    assert "Indigo scarf" in email.body


def test_a_lapsed_hold_whose_units_are_still_free_still_sells(localstripe):
    basket = basket_holding(units=5, quantity=2)
    Hold.objects.filter(basket=basket).update(reserved_until="2000-01-01T00:00:00Z")
    step = checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe))
    assert step.order.lines.get().quantity == 2


def test_an_empty_basket_cannot_pay(localstripe):
    basket = basket_create(popup=PopUpFactory())
    with pytest.raises(CheckoutRefused, match="empty"):
        checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe))


def test_stripe_s_webhook_places_the_order_when_the_browser_never_comes_back(localstripe, settings):
    basket, step = authorised_then_gone(localstripe)
    # Stripe tells us, twice, and out of order.
    stripe_reports(
        basket,
        step,
        [
            ("payment_intent.amount_capturable_updated", "evt_auth"),
            ("payment_intent.amount_capturable_updated", "evt_auth"),
            ("payment_intent.succeeded", "evt_paid"),
        ],
        secret=settings.STRIPE_WEBHOOK_SECRET,
    )

    order = Order.objects.get()
    assert PopUpBasket.objects.get(pk=basket.pk).order == order
    assert order.sources.get().amount_debited == Decimal("50.00")
    assert terms_of(basket).units_sold == 2


def test_a_webhook_for_someone_else_s_payment_changes_nothing(localstripe, settings):

    intent = {
        "id": "pi_not_ours",
        "object": "payment_intent",
        "metadata": {"popup_basket": "999999"},
    }
    payload = event_payload("payment_intent.succeeded", intent, event_id="evt_foreign")
    assert deliver(payload, signed(payload, settings.STRIPE_WEBHOOK_SECRET)).status_code == 200
    assert not Order.objects.exists()


def test_naming_someone_else_s_payment_neither_buys_nor_cancels_it(localstripe):
    victim = basket_holding()
    pending = checkout_pay(
        basket=victim, details=SHOPPER, card_token=card_token(localstripe, THREE_D_SECURE)
    )
    authenticate(localstripe, pending.payment_intent_id, pending.client_secret, success=True)
    attacker = basket_create(popup=victim.popup)

    for payment_intent_id in (pending.payment_intent_id, "pi_does_not_exist"):
        with pytest.raises(CheckoutRefused, match="could not find this payment"):
            checkout_complete(basket_id=attacker.pk, payment_intent_id=payment_intent_id)

    assert stripe_client.payment_intent_retrieve(
        payment_intent_id=pending.payment_intent_id
    ).is_authorised
    assert not Order.objects.exists()
    order = checkout_complete(basket_id=victim.pk, payment_intent_id=pending.payment_intent_id)
    assert order.sources.get().amount_debited == Decimal("50.00")


def test_an_abandoned_earlier_attempt_is_released_not_captured(localstripe):
    basket = basket_holding()
    first = checkout_pay(
        basket=basket, details=SHOPPER, card_token=card_token(localstripe, THREE_D_SECURE)
    )
    # The shopper gives up on the bank's page and pays with another card, which goes through.
    second = checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe))
    # The first was cancelled as soon as the second took its place: its challenge cannot be
    # finished any more, and a late report of it changes nothing.
    with pytest.raises(requests.HTTPError):
        authenticate(localstripe, first.payment_intent_id, first.client_secret, success=True)
    with pytest.raises(CheckoutRefused, match="replaced by a newer one"):
        checkout_complete(basket_id=basket.pk, payment_intent_id=first.payment_intent_id)

    assert (
        stripe_client.payment_intent_retrieve(payment_intent_id=first.payment_intent_id).status
        == "canceled"
    )
    assert Order.objects.get() == second.order
    assert second.order.sources.get().amount_debited == Decimal("50.00")
    assert [email.subject for email in mail.outbox if "nothing was charged" in email.subject] == []


def test_a_payment_stripe_reports_before_its_id_was_noted_still_becomes_the_order(
    localstripe, settings
):
    """The web worker died between Stripe's authorisation and noting the payment on the basket:
    Stripe's webhook names the basket's latest attempt, so it places the order and captures."""
    basket = basket_holding(quantity=2)
    with transaction.atomic():
        locked = PopUpBasket.objects.select_for_update().get(pk=basket.pk)
        secured = basket_secure(basket=locked, details=SHOPPER, now=timezone.now())
    payment = payment_gateway().authorise(
        amount=Decimal("50.00"),
        currency="EUR",
        idempotency_key=f"popup-basket-{basket.pk}-attempt-{secured.payment_attempts}",
        card_token=card_token(localstripe),
        metadata={"popup_basket": str(basket.pk), ATTEMPT_KEY: str(secured.payment_attempts)},
    )
    assert PopUpBasket.objects.get(pk=basket.pk).payment_intent_id == ""

    stripe_reports(
        basket,
        PaymentStep(payment.id, payment.status, ""),
        [("payment_intent.amount_capturable_updated", "evt_worker_died")],
        secret=settings.STRIPE_WEBHOOK_SECRET,
    )

    basket.refresh_from_db()
    assert basket.order == Order.objects.get()
    assert basket.payment_intent_id == payment.id
    assert stripe_client.payment_intent_retrieve(payment_intent_id=payment.id).is_paid


class WebhookFirstGateway(StripeGateway):
    """Stripe as it sometimes is: its webhook for an authorisation is handled (and the order placed)
    before the request that asked for the authorisation has heard back."""

    def authorise(self, **kwargs):
        payment = super().authorise(**kwargs)
        if payment.is_authorised:
            checkout_complete(
                basket_id=int(kwargs["metadata"]["popup_basket"]), payment_intent_id=payment.id
            )
        return payment


def test_a_payment_whose_webhook_placed_the_order_first_is_kept(localstripe, settings, caplog):
    settings.POPUP_PAYMENT_GATEWAY = f"{__name__}.WebhookFirstGateway"
    basket = basket_holding(quantity=2)

    step = checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe))

    assert step.order == Order.objects.get()
    assert stripe_client.payment_intent_retrieve(payment_intent_id=step.payment_intent_id).is_paid
    assert [r.message for r in caplog.records if r.levelname == "ERROR"] == []


def test_a_declined_newer_attempt_does_not_void_the_one_in_3_d_secure(localstripe):
    """Tab 1 is in the bank's challenge; tab 2's card is declined; tab 1 passes the challenge."""
    basket = basket_holding(quantity=2)
    first = checkout_pay(
        basket=basket, details=SHOPPER, card_token=card_token(localstripe, THREE_D_SECURE)
    )
    with pytest.raises(UnableToTakePayment):
        checkout_pay(
            basket=basket, details=SHOPPER, card_token=card_token(localstripe, DECLINED_ON_CHARGE)
        )
    authenticate(localstripe, first.payment_intent_id, first.client_secret, success=True)

    order = checkout_complete(basket_id=basket.pk, payment_intent_id=first.payment_intent_id)

    assert order.sources.get().reference == first.payment_intent_id
    assert stripe_client.payment_intent_retrieve(payment_intent_id=first.payment_intent_id).is_paid


def basket_of_two_products():
    basket = basket_holding(units=5, quantity=1)
    mitten = create_product(title="Wool mittens", price=Decimal("15.00"))
    basket.popup.range.add_product(mitten)
    PopUpProduct.objects.create(popup=basket.popup, product=mitten, units_offered=5)
    hold_set(basket=basket, product_id=mitten.pk, quantity=2)
    return basket, mitten


def test_a_product_taken_off_sale_after_it_was_held_is_never_sold_unpaid(localstripe):
    basket, mitten = basket_of_two_products()
    basket.popup.range.remove_product(mitten)

    with pytest.raises(CheckoutRefused, match="No longer available: Wool mittens"):
        checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe))

    assert PopUpBasket.objects.get(pk=basket.pk).payment_attempts == 0  # nothing was kept
    assert [terms.units_sold for terms in PopUpProduct.objects.all()] == [0, 0]


def test_a_product_taken_off_sale_during_3_d_secure_releases_the_payment(localstripe):
    basket, mitten = basket_of_two_products()
    step = checkout_pay(
        basket=basket, details=SHOPPER, card_token=card_token(localstripe, THREE_D_SECURE)
    )
    authenticate(localstripe, step.payment_intent_id, step.client_secret, success=True)
    basket.popup.range.remove_product(mitten)

    with pytest.raises(CheckoutRefused):
        checkout_complete(basket_id=basket.pk, payment_intent_id=step.payment_intent_id)

    assert not Order.objects.exists()
    assert [terms.units_sold for terms in PopUpProduct.objects.all()] == [0, 0]
    intent = stripe_client.payment_intent_retrieve(payment_intent_id=step.payment_intent_id)
    assert intent.status == "canceled"


def test_a_wallet_payment_method_pays_like_a_card(localstripe, client):
    """Apple Pay and Google Pay hand Stripe.js a PaymentMethod; the pay endpoint takes it instead of
    a card token (localstripe's pm_card_visa stands in for the wallet's)."""
    basket = basket_holding()
    fields = {**{k: v for k, v in SHOPPER.__dict__.items()}, "payment_method": "pm_card_visa"}
    response = client.post(
        f"/popup/checkout/{basket.token}/pay/", fields, content_type="application/json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "succeeded"
    assert Order.objects.get().sources.get().amount_debited == Decimal("50.00")


def test_the_checkout_page_offers_wallets_only_with_real_stripe(client, settings):
    basket = basket_holding()
    page = client.get(f"/popup/checkout/{basket.token}/")
    assert 'data-wallets="0"' in page.content.decode()  # localstripe has no Apple Pay
    assert 'data-amount="5000"' in page.content.decode()
    settings.STRIPE_API_BASE = None
    assert 'data-wallets="1"' in client.get(f"/popup/checkout/{basket.token}/").content.decode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"card_token": ""}, "Please enter your card details."),
        ({"email": "not-an-email"}, "Please check the form."),
        ({"payment_method": "tok_visa"}, "Please check the form."),
    ],
)
def test_bad_checkout_input_is_a_clear_400_and_charges_nothing(client, change, message):
    basket = basket_holding()
    fields = {**SHOPPER.__dict__, "card_token": "tok_visa", **change}
    response = client.post(
        f"/popup/checkout/{basket.token}/pay/", fields, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == message
    assert PopUpBasket.objects.get(pk=basket.pk).payment_attempts == 0


def test_the_per_customer_limit_also_counts_earlier_orders_by_email(localstripe):
    first = basket_holding(units=10, quantity=2)
    first.popup.per_customer_limit = 3
    first.popup.save()
    checkout_pay(basket=first, details=SHOPPER, card_token=card_token(localstripe))

    # Same shopper, a fresh basket (cleared storage, another device): 2 more would make 4.
    again = basket_create(popup=first.popup)
    hold_set(basket=again, product_id=terms_of(first).product_id, quantity=2)
    other_case = ShopperDetails(**{**SHOPPER.__dict__, "email": "ADA@example.com"})
    with pytest.raises(CheckoutRefused, match="3 units of this pop-up in all, and have bought 2"):
        checkout_pay(basket=again, details=other_case, card_token=card_token(localstripe))
    assert Order.objects.count() == 1


def test_the_per_customer_limit_counts_a_plus_tagged_address_as_the_same_customer(localstripe):
    first = basket_holding(units=10, quantity=2)
    first.popup.per_customer_limit = 3
    first.popup.save()
    gmail = ShopperDetails(**{**SHOPPER.__dict__, "email": "ada.lovelace@gmail.com"})
    checkout_pay(basket=first, details=gmail, card_token=card_token(localstripe))

    again = basket_create(popup=first.popup)
    hold_set(basket=again, product_id=terms_of(first).product_id, quantity=2)
    tagged = ShopperDetails(**{**SHOPPER.__dict__, "email": " AdaLovelace+drop@googlemail.com"})
    with pytest.raises(CheckoutRefused, match="and have bought 2"):
        checkout_pay(basket=again, details=tagged, card_token=card_token(localstripe))


def test_a_basket_in_payment_counts_towards_the_limit_of_another_basket_of_the_customer(
    localstripe,
):
    first = basket_holding(units=10, quantity=2)
    first.popup.per_customer_limit = 2
    first.popup.save()
    step = checkout_pay(
        basket=first, details=SHOPPER, card_token=card_token(localstripe, THREE_D_SECURE)
    )
    assert step.status == "requires_action"

    again = basket_create(popup=first.popup)
    hold_set(basket=again, product_id=terms_of(first).product_id, quantity=1)
    with pytest.raises(CheckoutRefused, match="being paid for in another basket"):
        checkout_pay(basket=again, details=SHOPPER, card_token=card_token(localstripe))
    assert PopUpBasket.objects.get(pk=again.pk).payment_intent_id == ""


def test_the_per_customer_limit_is_counted_again_when_the_order_is_placed(localstripe):
    """Two baskets of one customer (limit 2, 2 units each) both pass payment's start, the first
    because nothing was bought yet, the second after the first's payment hold lapsed. Both pass
    3-D Secure: the first to complete gets its order, the second is released uncharged."""
    first = basket_holding(units=10, quantity=2)
    first.popup.per_customer_limit = 2
    first.popup.save()
    first_step = checkout_pay(
        basket=first, details=SHOPPER, card_token=card_token(localstripe, THREE_D_SECURE)
    )
    Hold.objects.filter(basket=first).update(reserved_until=timezone.now())  # bank page left open
    second = basket_create(popup=first.popup)
    hold_set(basket=second, product_id=terms_of(first).product_id, quantity=2)
    dotted = ShopperDetails(**{**SHOPPER.__dict__, "email": "ADA@example.com "})
    second_step = checkout_pay(
        basket=second, details=dotted, card_token=card_token(localstripe, THREE_D_SECURE)
    )
    for step in (first_step, second_step):
        authenticate(localstripe, step.payment_intent_id, step.client_secret, success=True)

    order = checkout_complete(basket_id=first.pk, payment_intent_id=first_step.payment_intent_id)
    with pytest.raises(CheckoutRefused, match="2 units of this pop-up in all, and have bought 2"):
        checkout_complete(basket_id=second.pk, payment_intent_id=second_step.payment_intent_id)

    assert list(Order.objects.all()) == [order]
    assert terms_of(first).units_sold == 2
    second_intent = stripe_client.payment_intent_retrieve(
        payment_intent_id=second_step.payment_intent_id
    )
    assert second_intent.status == "canceled"


def test_the_checkout_page_shows_what_will_be_charged_even_for_a_lapsed_line(client):
    basket = basket_holding(units=5, quantity=2)
    Hold.objects.filter(basket=basket).update(reserved_until="2000-01-01T00:00:00Z")
    html = client.get(f"/popup/checkout/{basket.token}/").content.decode()
    assert "Order and pay €50.00" in html
    assert "Your hold has lapsed. Everything you typed is kept" in html
    assert "data-hold-lapsed hidden" not in html  # shown at once, not after a timer


def test_a_basket_gets_a_limited_number_of_payment_attempts(localstripe):
    basket = basket_holding()
    for _ in range(5):
        with pytest.raises(UnableToTakePayment):
            checkout_pay(
                basket=basket,
                details=SHOPPER,
                card_token=card_token(localstripe, DECLINED_ON_CHARGE),
            )
    with pytest.raises(CheckoutRefused, match="Too many payment attempts"):
        checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe))
    assert not Order.objects.exists()
    assert PopUpBasket.objects.get(pk=basket.pk).payment_attempts == 5


def test_a_failed_3_d_secure_says_once_that_nothing_was_charged(client, localstripe):
    basket = basket_holding(quantity=1)
    step = checkout_pay(
        basket=basket, details=SHOPPER, card_token=card_token(localstripe, THREE_D_SECURE)
    )
    authenticate(localstripe, step.payment_intent_id, step.client_secret, success=False)

    response = client.post(
        f"/popup/checkout/{basket.token}/complete/",
        {"payment_intent": step.payment_intent_id},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 409, response.json()  # the units are released
    assert response.json()["error"] == (
        "Votre banque n'a pas pu confirmer ce paiement. Aucun montant n'a été débité\u00a0: "
        "réessayez, ou utilisez une autre carte."
    )
