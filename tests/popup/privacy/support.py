from dataclasses import dataclass
from datetime import timedelta

import requests
from django.apps import apps
from django.db import connection
from django.utils import timezone

from popup.analytics.counters import redis_connection
from popup.channels.placements import basket_attribute
from popup.checkout.orders import ShopperDetails
from popup.checkout.services import checkout_pay
from popup.core.holds import basket_create, hold_set
from popup.feedback.ideas import idea_post, idea_vote
from popup.feedback.polls import poll_create, poll_vote, poll_vote_confirm
from popup.feedback.questions import question_answer, question_ask
from popup.feedback.reviews import review_submit
from popup.feedback.waitlist import waitlist_join
from popup.models import PopUpProduct, ReviewInvite
from popup.presales.pledges import pledge_confirm, pledge_start
from tests.factories import popup_with_products
from tests.integrations.stripe.support import (
    VISA,
    card_token,
    deliver,
    event_payload,
    setup_intent_confirm,
    signed,
)
from tests.localstripe_server import SECRET_KEY, WEBHOOK_SECRET
from tests.popup.checkout.support import SHOPPER, basket_holding
from tests.popup.presales.support import all_or_nothing

# Ada types her Gmail address a different way on each form; Grace is the shopper next to her.
ADA = "Ada.Lovelace+drops@gmail.com"
ADA_DETAILS = ShopperDetails(**{**SHOPPER.__dict__, "email": ADA})
# Her own card (Grace saves Stripe's usual 4242): its label names her.
ADA_CARD = "4000056655665556"
GRACE = "grace@example.com"
GRACE_DETAILS = ShopperDetails(
    email=GRACE,
    first_name="Grace",
    last_name="Hopper",
    line1="3 quai Voltaire",
    line2="",
    city="Paris",
    postcode="75007",
    country="FR",
)
IP = "203.0.113.9"

# Oscar's apps the plugin writes to, and the plugin's own.
SCANNED_APPS = (
    "popup",
    "popup_stripe",
    "order",
    "basket",
    "customer",
    "reviews",
    "communication",
    "payment",
)


def rows_naming(*needles: str) -> dict[str, int]:
    """Every table of the scanned apps with rows whose text holds one of `needles` (any case)."""
    found = {}
    condition = " OR ".join(["t::text ILIKE %s"] * len(needles))
    with connection.cursor() as cursor:
        for label in SCANNED_APPS:
            for model in apps.get_app_config(label).get_models(include_auto_created=True):
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT count(*) FROM {connection.ops.quote_name(table)} t WHERE {condition}",
                    [f"%{needle}%" for needle in needles],
                )
                if count := cursor.fetchone()[0]:
                    found[table] = count
    return found


def redis_keys_naming(needle: str) -> list[str]:
    return [key.decode() for key in redis_connection().scan_iter(match=f"*{needle}*")]


@dataclass
class Shopper:
    order: object = None
    pledge: object = None
    question: object = None
    idea: object = None


def bought(localstripe, popup, details: ShopperDetails, *, units: int = 1, ad_click=None):
    """An order of `units`; `ad_click`: the query of the ad the shopper came by (fbclid…)."""
    basket = basket_create(popup=popup)
    basket_attribute(basket=basket, ad_click=ad_click)
    product = PopUpProduct.objects.filter(popup=popup).first().product
    hold_set(basket=basket, product_id=product.pk, quantity=units)
    return checkout_pay(basket=basket, details=details, card_token=card_token(localstripe)).order


def pledged(localstripe, popup, details: ShopperDetails, *, card: str = VISA):
    """A backer pledges one unit and saves a card, as the checkout page does."""
    basket = basket_create(popup=popup)
    product = PopUpProduct.objects.filter(popup=popup).first().product
    hold_set(basket=basket, product_id=product.pk, quantity=1)
    setup = pledge_start(basket=basket, details=details)
    setup_intent_confirm(localstripe, setup.client_secret, card, authenticate=True)
    return pledge_confirm(basket_id=basket.pk, setup_intent_id=setup.setup_intent_id)


def shipped(order):
    order.set_status("Being processed")
    order.set_status("Shipped")
    return order


def payment_message(localstripe, order, email: str, name: str) -> None:
    """Stripe's charge.succeeded for the order's payment, as Stripe sends it (with the billing
    details localstripe leaves out), delivered to the store's webhook."""
    intent_id = order.sources.get().reference
    intent = requests.get(
        f"{localstripe.url}/v1/payment_intents/{intent_id}", auth=(SECRET_KEY, ""), timeout=5
    ).json()
    charge = {
        "id": f"ch_{intent_id[3:]}",
        "object": "charge",
        "payment_intent": intent_id,
        "amount": intent["amount"],
        "receipt_email": email,
        "billing_details": {"email": email, "name": name},
    }
    payload = event_payload("charge.succeeded", charge)
    assert deliver(payload, signed(payload, WEBHOOK_SECRET)).status_code == 200


def everywhere(localstripe) -> tuple[Shopper, Shopper]:
    """Ada waits, votes (an idea, a poll), asks, pledges, buys and reviews; Grace beside her."""
    ada, grace = Shopper(), Shopper()
    shop = basket_holding(units=5, quantity=1).popup
    # Meta's click id carries her name: the erasure must find it wherever it went.
    ada_click = {"fbclid": "IwAR0lovelace9Zq", "cart_origin": "instagram"}
    ada.order = shipped(bought(localstripe, shop, ADA_DETAILS, units=2, ad_click=ada_click))
    grace.order = bought(localstripe, shop, GRACE_DETAILS)
    payment_message(localstripe, ada.order, ADA, "Ada Lovelace")
    payment_message(localstripe, grace.order, GRACE, "Grace Hopper")

    presale, _candle = all_or_nothing()
    ada_details = ShopperDetails(**{**ADA_DETAILS.__dict__, "email": "ada.lovelace@gmail.com"})
    ada.pledge = pledged(localstripe, presale, ada_details, card=ADA_CARD)
    grace.pledge = pledged(localstripe, presale, GRACE_DETAILS)

    soon = popup_with_products(
        1, opens_at=timezone.now() + timedelta(days=1), closes_at=timezone.now() + timedelta(days=3)
    )
    waited = PopUpProduct.objects.get(popup=soon).product
    waitlist_join(popup=soon, product_id=waited.pk, email="ADA.LOVELACE@gmail.com", client_ip=IP)
    waitlist_join(popup=soon, product_id=waited.pk, email=GRACE, client_ip=IP)

    ada.question = question_ask(
        popup=shop,
        body="Is it soft enough for a baby? Write to me at ada.lovelace@gmail.com",
        email="ada.lovelace@gmail.com",
        name="Ada",
        client_ip=IP,
    )
    question_answer(question=ada.question, answer="Yes, it is merino.", by=None)
    question_ask(popup=shop, body="Do you ship to Lyon?", email=ADA, client_ip=IP)
    grace.question = question_ask(popup=shop, body="Is it warm?", email=GRACE, client_ip=IP)

    ada.idea = idea_post(
        popup=shop, title="A sage-green scarf", email=ADA, name="Ada", client_ip=IP
    )
    grace.idea = idea_post(popup=shop, title="Mittens to match", email=GRACE, client_ip=IP)
    idea_vote(idea=grace.idea, email="ada.lovelace@googlemail.com", client_ip=IP)
    idea_vote(idea=ada.idea, email=GRACE, client_ip=IP)

    poll = poll_create(popup=shop, question="Which colour next?", options=["Sage", "Rust"])
    sage, rust = poll.options.all()
    poll_vote_confirm(token=poll_vote(poll=poll, option_id=sage.pk, email=ADA, client_ip=IP).token)
    poll_vote_confirm(
        token=poll_vote(poll=poll, option_id=rust.pk, email=GRACE, client_ip=IP).token
    )

    invite = ReviewInvite.objects.create(order=ada.order, popup=shop)
    review_submit(
        invite=invite,
        product_id=ada.order.lines.get().product_id,
        score=5,
        title="Soft and warm",
        body="Lovely colour.",
        name="Ada L.",
    )
    return ada, grace
