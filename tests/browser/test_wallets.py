"""Apple Pay and Google Pay (Stripe's Payment Request): the sheet shows the total the server will
charge, delivery to the wallet's address included, and follows the country chosen on the page.

Real Stripe.js needs Stripe's servers and a verified domain; Stripe's own script is replaced here by
a stand-in that records what the page asks of its Payment Request, and plays the wallet's part."""

import pytest
from playwright.sync_api import expect

from tests.browser.support import wait_for
from tests.popup.checkout.support import basket_holding, shipping_by_country  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("france", "shipping_by_country"),
]

STRIPE_JS = "https://js.stripe.com/v3/"
# What the page uses of Stripe.js: the card element (untouched here) and the Payment Request, whose
# options, updates and event handlers are kept in window.walletSheet.
STAND_IN = """
window.walletSheet = { options: null, updates: [], answers: [], handlers: {} };
window.Stripe = function () {
  var element = { mount: function () {}, on: function () {} };
  return {
    elements: function () { return { create: function () { return element; } }; },
    paymentRequest: function (options) {
      window.walletSheet.options = options;
      return {
        canMakePayment: function () { return Promise.resolve({ applePay: true }); },
        on: function (name, handler) { window.walletSheet.handlers[name] = handler; },
        update: function (options) { window.walletSheet.updates.push(options); }
      };
    }
  };
};
"""


@pytest.fixture
def wallet_page(page, store_url, settings):
    """The checkout of a basket of two scarves at €25, with the wallets offered (real Stripe.js)."""
    settings.STRIPE_SECRET_KEY = "sk_test_unused"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_unused"
    settings.STRIPE_API_BASE = None
    settings.STRIPE_JS_URL = STRIPE_JS
    page.route(
        STRIPE_JS,
        lambda route: route.fulfill(body=STAND_IN, content_type="application/javascript"),
    )
    basket = basket_holding(quantity=2)
    page.goto(f"{store_url}/popup/checkout/{basket.token}/")
    wait_for(
        lambda: page.evaluate(
            "window.walletSheet.options && !document.querySelector('[data-wallet]').hidden"
        )
    )
    return page


def sheet(page) -> dict:
    return page.evaluate("window.walletSheet")


def test_the_wallet_sheet_charges_the_delivery_to_the_wallets_address(wallet_page):
    page = wallet_page
    first = sheet(page)["options"]
    assert first["total"]["amount"] == 5000  # France, preselected: free delivery
    assert [option["amount"] for option in first["shippingOptions"]] == [0]

    # The shopper picks a German address in the wallet: the sheet is told what Germany costs.
    page.evaluate(
        """window.walletSheet.handlers.shippingaddresschange({
             shippingAddress: { country: "DE", city: "Berlin" },
             updateWith: function (answer) { window.walletSheet.answers.push(answer); }
           })"""
    )
    wait_for(lambda: len(sheet(page)["answers"]) == 1)
    (answer,) = sheet(page)["answers"]
    assert answer["status"] == "success"
    assert answer["total"] == {"label": first["total"]["label"], "amount": 5500}
    assert [option["amount"] for option in answer["shippingOptions"]] == [500]

    # A country the pop-up does not deliver to is quoted as no address; a malformed one fails.
    page.evaluate(
        """["ZZ", "D\\u0000"].forEach(function (country) {
             window.walletSheet.handlers.shippingaddresschange({
               shippingAddress: { country: country },
               updateWith: function (answer) { window.walletSheet.answers.push(answer); }
             });
           })"""
    )
    wait_for(lambda: len(sheet(page)["answers"]) == 3)
    answers = sorted(sheet(page)["answers"][1:], key=lambda answer: answer["status"])
    assert answers[0] == {"status": "fail"}
    assert (answers[1]["status"], answers[1]["total"]["amount"]) == ("success", 5000)


def test_the_wallet_sheet_follows_the_country_chosen_on_the_page(wallet_page):
    page = wallet_page
    page.get_by_label("Country").select_option("DE")

    wait_for(lambda: len(sheet(page)["updates"]) == 1)
    (update,) = sheet(page)["updates"]
    assert update["total"]["amount"] == 5500
    assert [option["amount"] for option in update["shippingOptions"]] == [500]
    expect(page.get_by_role("button", name="Order and pay €55.00", exact=True)).to_be_visible()
