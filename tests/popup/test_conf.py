"""Settings with defaults: a store that sets none of the plugin's settings gets its defaults, never an
AttributeError, and a store without Stripe keys gets a checkout that says so."""

import json

import pytest
from django.core.checks import run_checks

from popup.conf import DEFAULTS, popup_settings
from popup.models import PopUpBasket
from tests.popup.checkout.support import basket_holding

pytestmark = pytest.mark.django_db

PLUGIN_SETTINGS = [*DEFAULTS, "REDIS_URL", "LOCALSTRIPE_URL"]


@pytest.fixture
def bare_settings(settings):
    """The store's settings without any of the plugin's (as in a plain Oscar store)."""
    for name in PLUGIN_SETTINGS:
        if hasattr(settings, name):
            delattr(settings, name)
    return settings


def test_every_setting_has_its_default(bare_settings):
    for name, default in DEFAULTS.items():
        assert getattr(popup_settings, name) == default
    with pytest.raises(AttributeError):
        popup_settings.NOT_A_SETTING  # noqa: B018


def test_a_store_without_the_plugin_settings_serves_every_page(client, bare_settings):
    basket = basket_holding()
    slug = basket.popup.slug
    for page in [
        f"/popup/{slug}/",
        f"/popup/{slug}/embed/",
        f"/popup/{slug}/share.png",
        f"/popup/oembed?url=http://testserver/popup/{slug}/&format=json",
        f"/popup/checkout/{basket.token}/",
    ]:
        assert client.get(page).status_code == 200, page


def test_without_stripe_keys_the_checkout_says_payments_are_not_configured(client, bare_settings):
    basket = basket_holding()
    page = client.get(f"/popup/checkout/{basket.token}/").content.decode()
    assert "Payments are not configured for this shop yet" in page
    assert "data-checkout-form" not in page and "js.stripe.com" not in page
    paid = client.post(
        f"/popup/checkout/{basket.token}/pay/",
        json.dumps({"email": "ada@example.com", "card_token": "tok_visa"}),
        content_type="application/json",
    )
    assert paid.status_code == 503
    assert paid.json()["code"] == "payments_not_configured"
    assert PopUpBasket.objects.get(pk=basket.pk).payment_intent_id == ""


def test_the_checks_name_the_missing_settings(bare_settings):
    bare_settings.DEBUG = False
    bare_settings.POPUP_TRUSTED_PROXIES = ["10.0.0.0/8", "a proxy"]
    found = {message.id: message for message in run_checks()}
    assert "STRIPE_SECRET_KEY" in found["popup.W001"].hint
    assert "POPUP_SITE_URL" in found["popup.W030"].msg
    assert "'a proxy'" in found["popup.E050"].msg
    bare_settings.STRIPE_SECRET_KEY = "sk_test_x"
    bare_settings.STRIPE_PUBLISHABLE_KEY = "pk_test_x"
    found = {message.id for message in run_checks()}
    assert "popup.W001" not in found and "popup.W002" in found


def test_a_production_store_is_told_to_set_its_terms_and_where_withdrawals_go(bare_settings):
    bare_settings.DEBUG = False
    found = {message.id: message for message in run_checks()}
    assert "POPUP_TERMS_URL" in found["popup.W070"].msg
    assert "POPUP_MERCHANT_ADDRESS and POPUP_MERCHANT_EMAIL are" in found["popup.W071"].msg
    bare_settings.POPUP_TERMS_URL = {"fr": "/cgv/"}
    bare_settings.POPUP_MERCHANT_ADDRESS = "12 rue des Lilas\n69001 Lyon"
    found = {message.id: message for message in run_checks()}
    assert "popup.W070" not in found
    assert found["popup.W071"].msg.startswith("POPUP_MERCHANT_EMAIL is not set")
