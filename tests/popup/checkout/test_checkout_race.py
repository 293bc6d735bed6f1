"""Shoppers racing through the real HTTP checkout on PostgreSQL, paying at localstripe.

After each race, `manage.py popup_audit --grace-minutes 0` must find nothing wrong (the `audited` fixture).
"""

import contextlib
import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from oscar.core.loading import get_model

from integrations.stripe import facade
from popup.core.holds import basket_create, hold_set
from popup.models import Hold, PopUpBasket, PopUpProduct
from tests.factories import PopUpFactory, create_product
from tests.integrations.stripe.support import (
    THREE_D_SECURE,
    card_token,
    deliver,
    event_payload,
    payment_intents_all,
    signed,
)
from tests.localstripe_server import (
    WEBHOOK_SECRET,
    localstripe_alone,  # noqa: F401 - its own Stripe
)
from tests.popup.checkout.support import authenticate

Order = get_model("order", "Order")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("stripe_settings", "audited", "france"),
]


SHOPPER = {
    "email": "fan@example.com",
    "first_name": "Sam",
    "last_name": "Fan",
    "line1": "1 quai Saint-Antoine",
    "city": "Lyon",
    "postcode": "69002",
    "country": "FR",
}


def post_all_at_once_with_headers(live_server, posts) -> list[tuple[int, dict]]:
    """POST each (path, JSON body, headers) from its own thread, all released together; (status,
    JSON) in the order given."""
    start = threading.Barrier(len(posts))
    answers: list = [None] * len(posts)

    def post(index, path, body, headers):
        request = urllib.request.Request(
            f"{live_server.url}{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **headers},
        )
        start.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answers[index] = (response.status, json.load(response))
        except urllib.error.HTTPError as error:
            answers[index] = (error.code, json.load(error))

    threads = [
        threading.Thread(target=post, args=(index, *request)) for index, request in enumerate(posts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def post_all_at_once(live_server, posts) -> list[tuple[int, dict]]:
    """POST each (path, JSON body) from its own thread, all released together."""
    return post_all_at_once_with_headers(live_server, [(*post, {}) for post in posts])


def post(live_server, path, body) -> tuple[int, dict]:
    """One POST, as post_all_at_once makes them: (status, JSON)."""
    ((status, answer),) = post_all_at_once(live_server, [(path, body)])
    return status, answer


def pay_all_at_once(live_server, tokens_and_cards, shopper=SHOPPER) -> list[int]:
    answers = post_all_at_once(
        live_server,
        [
            (f"/popup/checkout/{token}/pay/", {**shopper, "card_token": card})
            for token, card in tokens_and_cards
        ],
    )
    return [status for status, _body in answers]


def test_racing_at_checkout_never_oversells_and_never_charges_without_an_order(
    live_server, localstripe
):
    """3 units. Three shoppers' holds lapse and three others hold the units; all six pay at once.
    Exactly the three live holders get orders; nobody else is charged or even authorised."""
    popup = PopUpFactory()
    scarf = create_product(title="Indigo scarf")
    popup.range.add_product(scarf)
    PopUpProduct.objects.create(popup=popup, product=scarf, units_offered=3)

    lapsed = [basket_create(popup=popup) for _ in range(3)]
    for basket in lapsed:
        hold_set(basket=basket, product_id=scarf.pk, quantity=1)
    Hold.objects.update(reserved_until=timezone.now() - timedelta(seconds=1))
    holding = [basket_create(popup=popup) for _ in range(3)]
    for basket in holding:
        hold_set(basket=basket, product_id=scarf.pk, quantity=1)

    baskets = lapsed + holding
    statuses = pay_all_at_once(live_server, [(b.token, card_token(localstripe)) for b in baskets])

    assert sorted(statuses) == [200, 200, 200, 409, 409, 409]
    terms = PopUpProduct.objects.get()
    assert terms.units_sold == 3 == Order.objects.count()
    ordered = set(PopUpBasket.objects.filter(order__isnull=False).values_list("pk", flat=True))
    assert ordered == {basket.pk for basket in holding}

    intents = payment_intents_all(localstripe)
    ours = [i for i in intents if i["metadata"].get("popup_basket") in {str(b.pk) for b in baskets}]
    charged = {
        int(i["metadata"]["popup_basket"])
        for i in ours
        if i["status"] in ("succeeded", "requires_capture")
    }
    assert charged == ordered


def intents_of(localstripe, basket) -> list[dict]:
    return [
        intent
        for intent in payment_intents_all(localstripe)
        if intent["metadata"].get("popup_basket") == str(basket.pk)
    ]


DOUBLE_SUBMIT_ROUNDS = 8
DOUBLE_SUBMIT_THREADS = 4


def test_a_basket_paid_four_times_at_once_is_charged_once_and_every_other_authorisation_is_released(
    live_server, localstripe
):
    """The same basket's pay endpoint called by 4 threads at once with 4 cards, round after round:
    each round ends with one order, one captured payment, and every other payment cancelled."""
    popup, scarf = scarf_popup(units=DOUBLE_SUBMIT_ROUNDS)

    for _round in range(DOUBLE_SUBMIT_ROUNDS):
        basket = basket_holding_scarves(popup, scarf, 1)
        cards = [(basket.token, card_token(localstripe)) for _ in range(DOUBLE_SUBMIT_THREADS)]

        statuses = pay_all_at_once(live_server, cards)

        assert set(statuses) <= {200, 409} and 200 in statuses, statuses
        basket.refresh_from_db()
        assert Order.objects.filter(popup_basket=basket).count() == 1
        # A submit that starts once the order exists answers with it and authorises nothing.
        by_status = Counter(intent["status"] for intent in intents_of(localstripe, basket))
        assert by_status["succeeded"] == 1 and set(by_status) <= {"succeeded", "canceled"}
        captured = next(i for i in intents_of(localstripe, basket) if i["status"] == "succeeded")
        assert basket.payment_intent_id == captured["id"]
    assert PopUpProduct.objects.get().units_sold == DOUBLE_SUBMIT_ROUNDS


TWO_BASKETS_ROUNDS = 5


def test_two_baskets_of_one_customer_through_3_d_secure_at_once_buy_no_more_than_the_limit(
    live_server, localstripe
):
    """Limit 2. The same customer, as ada+tag@ and a.da@ at Gmail, pays for 2 units in each of two
    baskets at once, both through 3-D Secure, then both complete at once: one order, the other
    payment refused at its start or cancelled at its end. Round after round."""
    for round_number in range(TWO_BASKETS_ROUNDS):
        popup = PopUpFactory(per_customer_limit=2)
        scarf = create_product(title="Indigo scarf")
        popup.range.add_product(scarf)
        PopUpProduct.objects.create(popup=popup, product=scarf, units_offered=10)
        baskets = [basket_create(popup=popup) for _ in range(2)]
        for basket in baskets:
            hold_set(basket=basket, product_id=scarf.pk, quantity=2)
        emails = [f"ada+round{round_number}@gmail.com", "A.DA@gmail.com"]

        paid = post_all_at_once(
            live_server,
            [
                (
                    f"/popup/checkout/{basket.token}/pay/",
                    {
                        **SHOPPER,
                        "email": email,
                        "card_token": card_token(localstripe, THREE_D_SECURE),
                    },
                )
                for basket, email in zip(baskets, emails, strict=True)
            ],
        )
        challenged = [
            (basket, body)
            for basket, (status, body) in zip(baskets, paid, strict=True)
            if status == 200 and body["status"] == "requires_action"
        ]
        assert challenged, paid
        for _basket, body in challenged:
            authenticate(localstripe, body["payment_intent"], body["client_secret"], success=True)
        completed = post_all_at_once(
            live_server,
            [
                (
                    f"/popup/checkout/{basket.token}/complete/",
                    {"payment_intent": body["payment_intent"]},
                )
                for basket, body in challenged
            ],
        )

        assert sorted(status for status, _body in completed)[0] == 200, completed
        assert Order.objects.filter(popup_basket__popup=popup).count() == 1
        assert PopUpProduct.objects.get(popup=popup).units_sold == 2
        statuses = sorted(
            intent["status"] for basket in baskets for intent in intents_of(localstripe, basket)
        )
        assert statuses == ["canceled"] * (len(challenged) - 1) + ["succeeded"]


def basket_holding_scarves(popup, scarf, quantity=1):
    basket = basket_create(popup=popup)
    hold_set(basket=basket, product_id=scarf.pk, quantity=quantity)
    return basket


def scarf_popup(units=10, **fields):
    popup = PopUpFactory(**fields)
    scarf = create_product(title="Indigo scarf", stock=max(units, 20))
    popup.range.add_product(scarf)
    PopUpProduct.objects.create(popup=popup, product=scarf, units_offered=units)
    return popup, scarf


TWO_TABS_ROUNDS = 5


def test_two_tabs_paying_one_basket_at_once_one_through_3_d_secure_end_with_one_order(
    live_server, localstripe
):
    """One basket, two tabs: one pays with a card that asks for 3-D Secure, the other with a card
    that does not, at the same moment; then the challenge is passed and the first tab completes.
    Whichever started last is the basket's payment; the other is cancelled. Round after round."""
    popup, scarf = scarf_popup(units=TWO_TABS_ROUNDS)
    for _round in range(TWO_TABS_ROUNDS):
        basket = basket_holding_scarves(popup, scarf, 1)
        paid = post_all_at_once(
            live_server,
            [
                (f"/popup/checkout/{basket.token}/pay/", {**SHOPPER, "card_token": card})
                for card in (card_token(localstripe, THREE_D_SECURE), card_token(localstripe))
            ],
        )
        completed = []
        for status, body in paid:
            if status == 200 and body["status"] == "requires_action":
                # Cancelled by the other tab's payment? The bank's page refuses the challenge.
                with contextlib.suppress(requests.HTTPError):
                    authenticate(
                        localstripe, body["payment_intent"], body["client_secret"], success=True
                    )
                completed += post_all_at_once(
                    live_server,
                    [
                        (
                            f"/popup/checkout/{basket.token}/complete/",
                            {"payment_intent": body["payment_intent"]},
                        )
                    ],
                )

        assert Order.objects.filter(popup_basket=basket).count() == 1, paid
        answers = [status for status, _body in paid + completed]
        assert set(answers) <= {200, 409} and 200 in answers, (paid, completed)
        statuses = Counter(intent["status"] for intent in intents_of(localstripe, basket))
        assert statuses["succeeded"] == 1 and set(statuses) <= {"succeeded", "canceled"}, paid


TAMPERING_ROUNDS = 5


def test_changing_the_quantity_while_the_payment_completes_never_places_an_order_for_another_sum(
    live_server, localstripe
):
    """A basket of 1 scarf passes 3-D Secure for €40; as it completes, another tab asks for 3. Either
    the order is for the 1 scarf paid for (and the change refused), or the basket changed first and
    the €40 is released: never 3 scarves for the price of 1. Round after round."""
    popup, scarf = scarf_popup(units=3 * TAMPERING_ROUNDS)  # a changed basket keeps its 3
    for _round in range(TAMPERING_ROUNDS):
        basket = basket_holding_scarves(popup, scarf, 1)
        _status, paid = post(
            live_server,
            f"/popup/checkout/{basket.token}/pay/",
            {**SHOPPER, "card_token": card_token(localstripe, THREE_D_SECURE)},
        )
        intent_id = paid["payment_intent"]
        authenticate(localstripe, intent_id, paid["client_secret"], success=True)

        complete, more = post_all_at_once_with_headers(
            live_server,
            [
                (f"/popup/checkout/{basket.token}/complete/", {"payment_intent": intent_id}, {}),
                (
                    f"/popup/{popup.slug}/basket/lines/",
                    {"product": scarf.pk, "quantity": 3},
                    {"X-Popup-Basket": basket.token},
                ),
            ],
        )

        order = Order.objects.filter(popup_basket=basket).first()
        (intent,) = intents_of(localstripe, basket)
        if order is not None:
            # Refused while the payment completed (409), or the basket was already ordered when the
            # change came (404: the page's script starts a new basket)
            assert complete[0] == 200 and more[0] in (404, 409)
            assert order.lines.get().quantity == 1 and order.total_incl_tax == 40
            assert intent["status"] == "succeeded"
        else:
            assert (complete[0], more[0]) == (409, 200)
            assert "changed while you paid" in complete[1]["error"]
            assert intent["status"] == "canceled"


def test_prices_and_totals_sent_by_the_browser_are_ignored(live_server, localstripe):
    popup, scarf = scarf_popup()
    basket = basket_holding_scarves(popup, scarf, 2)
    forged = {"amount": "0.01", "total": "0.01", "price": "0.01", "currency": "JPY"}

    status, body = post(
        live_server,
        f"/popup/checkout/{basket.token}/pay/",
        {**SHOPPER, **forged, "card_token": card_token(localstripe)},
    )

    assert status == 200 and body["status"] == "succeeded"
    order = Order.objects.get()
    assert (order.total_incl_tax, order.currency) == (80, "EUR")  # 2 scarves at €40
    ((intent),) = intents_of(localstripe, basket)
    assert (intent["amount"], intent["currency"], intent["status"]) == (8000, "eur", "succeeded")


def test_a_price_changed_by_staff_during_3_d_secure_releases_the_authorisation(
    live_server, localstripe
):
    popup, scarf = scarf_popup()
    basket = basket_holding_scarves(popup, scarf, 1)
    _status, paid = post(
        live_server,
        f"/popup/checkout/{basket.token}/pay/",
        {**SHOPPER, "card_token": card_token(localstripe, THREE_D_SECURE)},
    )
    authenticate(localstripe, paid["payment_intent"], paid["client_secret"], success=True)
    PopUpProduct.objects.update(price=1)

    status, body = post(
        live_server,
        f"/popup/checkout/{basket.token}/complete/",
        {"payment_intent": paid["payment_intent"]},
    )

    assert status == 409 and "changed while you paid" in body["error"]
    assert not Order.objects.exists()
    assert [i["status"] for i in intents_of(localstripe, basket)] == ["canceled"]


def test_a_refunded_order_completed_and_paid_again_at_once_stays_one_refunded_order(
    live_server, localstripe
):
    """After a full refund, the shopper's old tab completes again, another pays again with a new card
    and Stripe replays its webhook, all at once: still one order, refunded, and nothing captured."""
    popup, scarf = scarf_popup()
    basket = basket_holding_scarves(popup, scarf, 1)
    _status, paid = post(
        live_server,
        f"/popup/checkout/{basket.token}/pay/",
        {**SHOPPER, "card_token": card_token(localstripe)},
    )
    order = Order.objects.get()
    facade.payment_refund(order=order, refund_key="all")
    intent = {
        "id": paid["payment_intent"],
        "object": "payment_intent",
        "metadata": {"popup_basket": str(basket.pk)},
    }
    webhook = event_payload("payment_intent.succeeded", intent)

    answers = post_all_at_once(
        live_server,
        [
            (
                f"/popup/checkout/{basket.token}/complete/",
                {"payment_intent": paid["payment_intent"]},
            ),
            (
                f"/popup/checkout/{basket.token}/pay/",
                {**SHOPPER, "card_token": card_token(localstripe)},
            ),
        ],
    )
    assert deliver(webhook, signed(webhook, WEBHOOK_SECRET)).status_code == 200

    assert [status for status, _body in answers] == [200, 200]
    assert list(Order.objects.all()) == [order]
    source = order.sources.get()
    assert source.amount_refunded == source.amount_debited == 40
    assert [i["status"] for i in intents_of(localstripe, basket)] == ["succeeded"]
