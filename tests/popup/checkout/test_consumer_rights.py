"""The checkout the EU's Consumer Rights Directive asks for (2011/83/EU, art. 6 and 8): the total
with delivery and tax before paying, a pay button that says it orders, the terms and the withdrawal
information linked before paying, and the withdrawal page itself, in English and French."""

from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from oscar.core.loading import get_class, get_model

from popup.checkout.services import checkout_figures, checkout_pay
from popup.core.holds import basket_create, hold_set
from popup.models import PopUp, reserved_slugs
from tests.integrations.stripe.support import card_token
from tests.popup.checkout.support import (
    SHOPPER,
    basket_holding,
    shipping_by_country,  # noqa: F401
)
from tests.popup.presales.support import all_or_nothing, presale

ProductAttribute = get_model("catalogue", "ProductAttribute")
Default = get_class("partner.strategy", "Default")
US = get_class("partner.strategy", "US")  # prices tax excluded, the tax to be added later

NBSP = "\u00a0"
NEW_TAB = 'target="_blank" rel="noopener"'

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("stripe_settings", "france"),
]


@pytest.fixture
def merchant(settings):
    settings.POPUP_MERCHANT_NAME = "Atelier Nord SAS"
    settings.POPUP_MERCHANT_ADDRESS = "12 rue des Lilas\n69001 Lyon\nFrance"
    settings.POPUP_MERCHANT_EMAIL = "retours@atelier-nord.fr"
    settings.POPUP_MERCHANT_PHONE = "+33 4 72 00 00 00"
    return settings


CONTACT = (
    "Atelier Nord SAS, 12 rue des Lilas, 69001 Lyon, France, +33 4 72 00 00 00, "
    "retours@atelier-nord.fr"
)


def checkout_of(client, basket, query: str = "") -> str:
    response = client.get(f"/popup/checkout/{basket.token}/{query}")
    assert response.status_code == 200
    return response.content.decode()


def made_to_order(product) -> None:
    """Mark `product` made to order, with the yes/no attribute its Oscar product class gets."""
    ProductAttribute.objects.get_or_create(
        product_class=product.get_product_class(),
        code="made_to_order",
        defaults={"name": "Made to order", "type": ProductAttribute.BOOLEAN},
    )
    product.attr.made_to_order = True
    product.attr.save()


def test_the_checkout_says_what_paying_charges_then_orders_with_the_terms_accepted(
    client, settings
):
    settings.POPUP_TERMS_URL = "/terms/"
    basket = basket_holding(quantity=2)  # 2 × €25.00

    html = checkout_of(client, basket)

    assert "<span>Subtotal</span> <span data-subtotal>€50.00</span>" in html
    assert "<span>Delivery</span> <span data-delivery>Free delivery</span>" in html
    assert "<span>Total</span> <strong data-total>€50.00</strong>" in html
    assert '<p class="summary__tax">Tax included</p>' in html  # Oscar's default strategy
    assert (
        f'By ordering, you accept our <a href="/terms/" {NEW_TAB}>terms of sale</a> and confirm '
        f'you have read the <a href="/popup/withdrawal/?lang=en-gb" {NEW_TAB}>withdrawal '
        "information</a>."
    ) in html
    assert ">Order and pay €50.00</button>" in html
    # All of it before the button, which is the last thing the shopper reaches.
    places = [html.index(text) for text in ("data-total>", "By ordering", 'class="pay"')]
    assert places == sorted(places)


def test_the_checkout_in_french(client, settings):
    settings.POPUP_TERMS_URL = {"fr": "/cgv/", "en": "/terms/"}
    basket = basket_holding(quantity=2)

    html = checkout_of(client, basket, "?lang=fr")

    assert f"<span>Sous-total</span> <span data-subtotal>50,00{NBSP}€</span>" in html
    assert "<span>Livraison</span> <span data-delivery>Livraison gratuite</span>" in html
    assert f"<span>Total</span> <strong data-total>50,00{NBSP}€</strong>" in html
    assert '<p class="summary__tax">Toutes taxes comprises (TTC)</p>' in html
    assert (
        f'En commandant, vous acceptez nos <a href="/cgv/" {NEW_TAB}>conditions générales de '
        f'vente</a> et confirmez avoir lu les <a href="/popup/withdrawal/?lang=fr" {NEW_TAB}>'
        "informations concernant l'exercice du droit de rétractation</a>."
    ) in html
    assert "Les liens s'ouvrent dans un nouvel onglet" in html
    assert f">Commander et payer 50,00{NBSP}€</button>" in html
    assert 'data-pay-label="Commander et payer __TOTAL__"' in html


def test_without_terms_of_sale_the_checkout_links_the_withdrawal_information_alone(client):
    html = checkout_of(client, basket_holding())

    assert (
        f'By ordering, you confirm you have read the <a href="/popup/withdrawal/?lang=en-gb" '
        f"{NEW_TAB}>withdrawal information</a>."
    ) in html
    assert "terms of sale" not in html


def test_prices_of_a_strategy_that_adds_tax_later_say_no_tax_is_added():
    """The pop-up's prices are charged as they are: with Oscar's US strategy (tax to be added at
    checkout) the plugin adds none, and says so rather than "tax included"."""
    basket = basket_holding(quantity=2)

    us = checkout_figures(basket=basket, strategy=US())
    default = checkout_figures(basket=basket, strategy=Default())

    assert (us.total, us.tax_known, default.total, default.tax_known) == (
        Decimal("50.00"),
        False,
        Decimal("50.00"),
        True,
    )
    html = render_to_string("popup/partials/checkout_figures.html", {"figures": us})
    assert "No tax is added to these prices: the total is what you pay." in html
    assert "Tax included" not in html


@pytest.mark.usefixtures("shipping_by_country")
def test_the_delivery_and_the_total_follow_the_country_and_are_what_is_charged(client, localstripe):
    basket = basket_holding(quantity=2)
    html = checkout_of(client, basket)
    assert "data-delivery>Free delivery<" in html  # France, the store's country, preselected

    answer = client.get(
        f"/popup/checkout/{basket.token}/figures/?country=DE", HTTP_ACCEPT_LANGUAGE="fr"
    ).json()

    assert f"<span>Livraison</span> <span data-delivery>5,00{NBSP}€</span>" in answer["html"]
    assert f"<strong data-total>55,00{NBSP}€</strong>" in answer["html"]
    assert (answer["total"], answer["amount"]) == (f"55,00{NBSP}€", 5500)
    # A country the store does not ship to is quoted as no address: the default method.
    unknown = client.get(f"/popup/checkout/{basket.token}/figures/?country=ZZ").json()
    assert unknown["total"] == "€50.00"
    # What the page showed for Germany is what paying there charges.
    details = SHOPPER.__class__(**{**SHOPPER.__dict__, "country": "DE", "city": "Berlin"})
    step = checkout_pay(basket=basket, details=details, card_token=card_token(localstripe))
    assert step.order.total_incl_tax == Decimal("55.00")


@pytest.mark.usefixtures("shipping_by_country")
def test_the_figures_take_a_two_letter_country_and_say_so_for_anything_else(client):
    """What comes after ?country= is the shopper's to write: a NUL, which PostgreSQL refuses, or
    300 letters get a clear answer in their language, never a server error."""
    basket = basket_holding(quantity=2)
    url = f"/popup/checkout/{basket.token}/figures/?country="

    def total(country: str) -> str:
        response = client.get(url + country)
        assert response.status_code == 200, response.content
        return response.json()["total"]

    # Any case: the same as the page's select sends. A country the store does not know: none.
    assert (total("DE"), total("de"), total("FR"), total("fr")) == (
        "€55.00",
        "€55.00",
        "€50.00",
        "€50.00",
    )
    assert (total("ZZ"), total("")) == ("€50.00", "€50.00")
    for country in ("%00", "D%00", "E" * 300, "DEU", "D%C3%89", "D+"):
        response = client.get(url + country, HTTP_ACCEPT_LANGUAGE="fr")
        assert response.status_code == 400, country
        assert response.json() == {
            "error": "Veuillez choisir un pays dans la liste.",
            "code": "country",
        }
    # Paying reads the country from the list of the form, which the same values are not on.
    for country in ("\x00", "E" * 300, "ZZ"):
        response = client.post(
            f"/popup/checkout/{basket.token}/pay/",
            {**SHOPPER.__dict__, "country": country, "card_token": "tok_unused"},
            content_type="application/json",
        )
        assert response.status_code == 400 and list(response.json()["errors"]) == ["country"]


@pytest.mark.usefixtures("shipping_by_country")
def test_the_page_is_priced_for_the_country_it_preselects(client, settings):
    settings.POPUP_WALLET_COUNTRY = "DE"
    basket = basket_holding(quantity=2)

    html = checkout_of(client, basket)

    assert "<span>Delivery</span> <span data-delivery>€5.00</span>" in html
    assert ">Order and pay €55.00</button>" in html


def test_a_pledge_keeps_its_own_words_and_says_what_it_accepts(client, settings):
    settings.POPUP_TERMS_URL = "/terms/"
    popup, candle = all_or_nothing()
    basket = basket_create(popup=popup)
    hold_set(basket=basket, product_id=candle.pk, quantity=1)

    html = checkout_of(client, basket)

    assert ">Pledge €39.00</button>" in html and "Order and pay" not in html
    assert "<strong>Nothing is charged today.</strong> Your card is saved and charged " in html
    assert "<span data-total-text>€39.00</span>" in html  # rewritten if the country changes
    assert f'By pledging, you accept our <a href="/terms/" {NEW_TAB}>terms of sale</a>' in html
    assert (
        "This is a pre-order: it ships around April 2027, and the 14 days to withdraw start "
        "when you receive it."
    ) in html


def test_a_pre_order_says_when_it_ships_and_when_the_withdrawal_period_starts(client):
    popup, candle = presale()  # flexible funding: bought and paid at once
    basket = basket_create(popup=popup)
    hold_set(basket=basket, product_id=candle.pk, quantity=1)

    html = checkout_of(client, basket, "?lang=fr")

    assert (
        f"Il s'agit d'une précommande{NBSP}: expédition prévue en avril 2027, et les "
        f"14{NBSP}jours pour vous rétracter courent à partir de sa réception."
    ) in html
    assert f">Commander et payer 39,00{NBSP}€</button>" in html
    PopUp.objects.filter(pk=popup.pk).update(presale_ships_on=None)
    assert "its ship date will be announced" in checkout_of(client, basket, "?lang=en-gb")


def test_a_product_made_to_order_is_named_as_not_returnable(client):
    basket = basket_holding()
    assert "Made to order" not in checkout_of(client, basket)

    made_to_order(basket.holds.get().terms.product)

    assert (
        "Made to order or personalised for you, so not covered by the right of withdrawal: "
        "Indigo scarf."
    ) in checkout_of(client, basket)


def test_the_withdrawal_page_gives_the_model_information_and_form(client, merchant):
    response = client.get("/popup/withdrawal/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<h2 id="withdrawal-right">Right of withdrawal</h2>' in html
    assert (
        "You have the right to withdraw from this contract within 14 days without giving any "
        "reason."
    ) in html
    assert f"you must inform us ({CONTACT}) of your decision to withdraw" in html
    assert "You will have to bear the direct cost of returning the goods." in html
    assert "For a pre-order, the 14 days start on the day you receive the goods" in html
    assert "(Article 16(c) of Directive 2011/83/EU)" in html
    assert "Model withdrawal form" in html and f"<li>To: {CONTACT}</li>" in html
    assert "<li>Ordered on (*)/received on (*):</li>" in html
    merchant.POPUP_RETURN_COSTS = "merchant"
    assert (
        "We will bear the cost of returning the goods."
        in client.get("/popup/withdrawal/").content.decode()
    )


def test_the_withdrawal_page_in_french(client, merchant):
    merchant.POPUP_TERMS_URL = {"fr": "/cgv/", "en": "/terms/"}

    response = client.get("/popup/withdrawal/?lang=fr")

    assert response["Content-Language"] == "fr"
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert '<h2 id="withdrawal-right">Droit de rétractation</h2>' in html
    assert (
        "Vous avez le droit de vous rétracter du présent contrat sans donner de motif dans un "
        "délai de quatorze jours."
    ) in html
    assert f"vous devez nous notifier ({CONTACT}) votre décision" in html
    assert (
        f"Pour une précommande, les 14{NBSP}jours courent à partir du jour où vous recevez le bien"
    ) in html
    assert f"<li>À l'attention de {CONTACT}{NBSP}:</li>" in html
    assert '<a href="/cgv/">Nos conditions générales de vente</a>' in html


def test_withdrawal_is_a_path_no_pop_up_can_take():
    assert "withdrawal" in reserved_slugs()
