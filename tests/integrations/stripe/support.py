"""What the browser does in the card flow, done from the tests: tokens and card setups at localstripe."""

import hashlib
import hmac
import json
import time
import uuid

import requests
from django.test import Client

from tests.localstripe_server import PUBLISHABLE_KEY, SECRET_KEY, LocalStripe

VISA = "4242424242424242"
DECLINED_ON_CHARGE = "4000000000000341"
THREE_D_SECURE = "4000002760003184"
DECLINED_ON_SETUP = ("4000000000000002",)


def card_token(localstripe: LocalStripe, number: str = VISA) -> str:
    """A card token, as Stripe.js createToken gets one with the publishable key."""
    response = requests.post(
        f"{localstripe.url}/v1/tokens",
        data={
            "card[number]": number,
            "card[exp_month]": "12",
            "card[exp_year]": "2034",
            "card[cvc]": "123",
            "key": PUBLISHABLE_KEY,
        },
        timeout=5,
    )
    response.raise_for_status()
    return response.json()["id"]


def setup_intent_confirm(
    localstripe: LocalStripe, client_secret: str, number: str = VISA, *, authenticate: bool = False
) -> None:
    """Save a card on a SetupIntent, as Stripe.js confirmCardSetup does (passing 3-D Secure if asked)."""
    setup_intent_id = client_secret.split("_secret_")[0]
    response = requests.post(
        f"{localstripe.url}/v1/setup_intents/{setup_intent_id}/confirm",
        json={
            "key": PUBLISHABLE_KEY,
            "client_secret": client_secret,
            "payment_method_data": {
                "type": "card",
                "card": {"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"},
            },
        },
        timeout=5,
    )
    if number in DECLINED_ON_SETUP:
        assert response.status_code == 402, response.text
        return
    response.raise_for_status()
    if authenticate and response.json()["status"] == "requires_action":
        again = requests.post(
            f"{localstripe.url}/v1/setup_intents/{setup_intent_id}/confirm",
            json={"key": PUBLISHABLE_KEY, "client_secret": client_secret},
            timeout=5,
        )
        again.raise_for_status()


def signed(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A Stripe-Signature header, computed as Stripe (and localstripe) compute it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), b"%d.%s" % (timestamp, payload), hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def event_payload(event_type: str, obj: dict, *, event_id: str = "", created: int = 0) -> bytes:
    return json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:14]}",
            "object": "event",
            "type": event_type,
            "api_version": "2017-08-15",
            "livemode": False,
            "created": created or int(time.time()),
            "data": {"object": obj},
        }
    ).encode()


def deliver(payload: bytes, signature: str | None, http: Client | None = None):
    headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature is not None else {}
    return (http or Client()).post(URL, payload, content_type="application/json", **headers)


URL = "/popup/stripe/webhook/"


def payment_intents_all(localstripe) -> list[dict]:
    """Every PaymentIntent localstripe holds, page by page (a test session makes hundreds)."""
    intents, after = [], None
    while True:
        params = {"limit": 100, **({"starting_after": after} if after else {})}
        response = requests.get(
            f"{localstripe.url}/v1/payment_intents",
            params=params,
            auth=(SECRET_KEY, ""),
            timeout=5,
        )
        response.raise_for_status()
        page = response.json()
        intents += page["data"]
        if not page.get("has_more") or not page["data"]:
            return intents
        after = page["data"][-1]["id"]
