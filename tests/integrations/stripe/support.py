"""What the browser does in the card flow, done from the tests: tokens and card setups at localstripe."""

import requests

from tests.localstripe_server import PUBLISHABLE_KEY, LocalStripe

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
