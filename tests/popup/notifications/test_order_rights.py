"""The order confirmation as the EU's durable medium (Directive 2011/83/EU, art. 8(7)): Oscar's
ORDER_PLACED e-mail carries the terms, the withdrawal information and its model form, and for a
pre-order the ship date, in the language the shopper bought in, whatever the merchant's wording."""

import pytest
from django.core import mail
from oscar.core.loading import get_model
from oscar.test import factories as oscar_factories

from popup import tasks
from popup.core.holds import basket_create
from popup.models import PopUpBasket
from tests.factories import PopUpFactory
from tests.popup.checkout.test_consumer_rights import CONTACT, made_to_order
from tests.popup.presales.support import presale

CommunicationEventType = get_model("communication", "CommunicationEventType")

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"


@pytest.fixture
def store(settings):
    settings.POPUP_SITE_URL = "https://shop.example.com"
    settings.POPUP_TERMS_URL = {"fr": "/cgv/", "en": "/terms/"}
    settings.POPUP_MERCHANT_NAME = "Atelier Nord SAS"
    settings.POPUP_MERCHANT_ADDRESS = "12 rue des Lilas\n69001 Lyon\nFrance"
    settings.POPUP_MERCHANT_EMAIL = "retours@atelier-nord.fr"
    settings.POPUP_MERCHANT_PHONE = "+33 4 72 00 00 00"
    return settings


def ordered_in(popup, *, language: str):
    """An order placed from a basket of `popup` made in `language`."""
    order = oscar_factories.create_order(guest_email="ada@example.com")
    basket = basket_create(popup=popup)
    PopUpBasket.objects.filter(pk=basket.pk).update(order=order, language=language)
    return order


def confirmation(order) -> tuple[str, str]:
    tasks.order_placed_email_send.delay(order.pk)
    (message,) = mail.outbox
    (html, kind), *_ = message.alternatives
    assert kind == "text/html"
    return message.body, html


def test_the_confirmation_carries_the_terms_and_the_withdrawal_information(store):
    order = ordered_in(PopUpFactory(), language="en-gb")

    body, html = confirmation(order)

    assert str(order.number) in body  # Oscar's own confirmation, then the plugin's part
    assert body.index(str(order.number)) < body.index("Right of withdrawal")
    assert "Our terms of sale: https://shop.example.com/terms/" in body
    assert (
        "The withdrawal information below, online: "
        "https://shop.example.com/popup/withdrawal/?lang=en-gb"
    ) in body
    assert (
        "You have the right to withdraw from this contract within 14 days without giving any "
        "reason."
    ) in body
    assert f"you must inform us ({CONTACT}) of your decision" in body
    assert "Model withdrawal form" in body and f"- To: {CONTACT}" in body
    assert "This is a pre-order" not in body
    # The HTML part says the same, inside its page.
    assert '<a href="https://shop.example.com/terms/">Our terms of sale</a>' in html
    assert '<h2 id="withdrawal-right">Right of withdrawal</h2>' in html
    assert html.index("Model withdrawal form") < html.rindex("</body>")


def test_a_pre_order_confirmed_in_french_says_when_it_ships(store):
    popup, _candle = presale()

    body, html = confirmation(ordered_in(popup, language="fr"))

    says = (
        f"Il s'agit d'une précommande{NBSP}: expédition prévue en avril 2027, et les 14{NBSP}jours "
        "pour vous rétracter courent à partir de sa réception."
    )
    assert says in body and says in html
    assert f"Nos conditions générales de vente{NBSP}: https://shop.example.com/cgv/" in body
    assert "https://shop.example.com/popup/withdrawal/?lang=fr" in body
    assert "Droit de rétractation" in body
    assert (
        "Vous avez le droit de vous rétracter du présent contrat sans donner de motif dans un "
        "délai de quatorze jours."
    ) in body
    assert "Modèle de formulaire de rétractation" in body
    assert "Right of withdrawal" not in body


def test_a_product_made_to_order_is_named_in_the_confirmation(store):
    order = ordered_in(PopUpFactory(), language="en-gb")
    line = order.lines.get()
    made_to_order(line.product)

    body, _html = confirmation(order)

    assert (
        "Made to order or personalised for you, so not covered by the right of withdrawal: "
        f"{line.product.get_title()}."
    ) in body


def test_the_merchant_s_own_wording_still_gets_the_withdrawal_information(store):
    CommunicationEventType.objects.update_or_create(
        code="ORDER_PLACED",
        defaults={
            "name": "Order placed",
            "email_subject_template": "Order {{ order.number }}",
            "email_body_template": "Thanks for order {{ order.number }}.",
        },
    )
    order = ordered_in(PopUpFactory(), language="en-gb")

    body, _html = confirmation(order)

    assert body.startswith(f"Thanks for order {order.number}.")
    assert "You have the right to withdraw from this contract within 14 days" in body
