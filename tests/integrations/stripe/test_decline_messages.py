"""What a shopper reads when Stripe declines a card: our own words for the reason, by Stripe's
decline code (Stripe's message is English only), in the shopper's language."""

from django.utils import translation

from integrations.stripe import facade
from integrations.stripe.client import PaymentIntent


def declined(code: str) -> PaymentIntent:
    return PaymentIntent(
        id="pi_1",
        status="requires_payment_method",
        amount=5900,
        currency="eur",
        client_secret="pi_1_secret",
        capture_method="automatic",
        last_payment_error_code=code,
        last_payment_error_message="Stripe's own English, never shown.",
    )


def test_a_decline_code_the_shopper_can_act_on_is_said_in_our_words():
    assert facade.payment_failure(declined("expired_card")) == (
        "expired_card",
        "Your card has expired.",
    )
    assert facade.decline_message("insufficient_funds") == "Your card has insufficient funds."


def test_lost_stolen_and_unknown_codes_get_the_plain_decline():
    for code in ("stolen_card", "lost_card", "fraudulent", "something_new", ""):
        assert facade.payment_failure(declined(code))[1] == "Your card was declined."


def test_the_reason_is_said_in_french():
    with translation.override("fr"):
        assert facade.decline_message("expired_card") == "Votre carte a expiré."
