"""integrations/stripe/static/popup_stripe/card.js in Chromium, against localstripe and its Stripe.js."""

import pytest
from playwright.sync_api import Page, expect

from integrations.stripe import client
from integrations.stripe.facade import AUTHENTICATION_FAILED_MESSAGE

from .support import card_fill

pytestmark = pytest.mark.browser


@pytest.fixture
def card_page(page: Page, live_server, settings, stripe_settings) -> Page:
    settings.ROOT_URLCONF = "tests.stripe_urls"
    page.goto(f"{live_server.url}/stripe-test/card/")
    return page


def pay_with(page: Page, number: str) -> None:
    card_fill(page, number)
    page.get_by_role("button", name="Pay").click()


def paid_intent(page: Page) -> client.PaymentIntent:
    payment_intent_id = page.locator("#result").get_attribute("data-payment-intent")
    return client.payment_intent_retrieve(payment_intent_id=payment_intent_id)


def test_a_good_card_is_authorised_then_captured(card_page: Page):
    pay_with(card_page, "4242424242424242")

    expect(card_page.locator("#result")).to_have_text("Authorised")
    intent = paid_intent(card_page)
    assert intent.status == "requires_capture"
    assert intent.amount == 1234 and intent.currency == "eur"
    assert intent.metadata == {"page": "stripe-test"}

    captured = client.payment_intent_capture(
        payment_intent_id=intent.id, idempotency_key=f"{intent.id}:capture"
    )
    assert captured.status == "succeeded"


def test_a_declined_card_says_so(card_page: Page):
    pay_with(card_page, "4000000000000341")

    expect(card_page.locator("#result")).to_have_text("Your card was declined.")
    assert card_page.locator("#result").get_attribute("data-payment-intent") == ""


def test_3d_secure_completed_authorises(card_page: Page):
    pay_with(card_page, "4000002760003184")

    card_page.get_by_role("button", name="Complete authentication").click()

    expect(card_page.locator("#result")).to_have_text("Authorised")
    assert paid_intent(card_page).status == "requires_capture"


def test_3d_secure_failed_is_a_clear_failure(card_page: Page):
    pay_with(card_page, "4000002760003184")

    card_page.get_by_role("button", name="Fail authentication").click()

    expect(card_page.locator("#result")).to_have_text(AUTHENTICATION_FAILED_MESSAGE)
