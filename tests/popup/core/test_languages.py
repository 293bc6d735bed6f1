"""The shopper's language: asked for in the URL, else the pop-up's own; said by the page's calls in
Accept-Language; kept by the basket for its checkout and e-mails. Never a Vary: Accept-Language on
a shared page, never a cookie."""

import json
from decimal import Decimal

import pytest
from django.core import mail
from django.http import HttpResponse
from django.test import override_settings
from django.utils import translation

from popup.core.languages import (
    language_from_header,
    language_match,
    languages_offered,
)
from popup.core.shells import shells_forget
from popup.http.locale import StoreLocaleMiddleware
from popup.models import OutgoingEmail, PopUpBasket
from popup.notifications.messages import checkout_lost_email
from tests.factories import popup_with_products

pytestmark = pytest.mark.django_db

FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9,en;q=0.5"}


@pytest.fixture(autouse=True)
def _fresh_shells():
    shells_forget()
    yield
    shells_forget()


def test_the_store_offers_its_default_then_each_language_of_its_own_the_plugin_speaks():
    assert languages_offered() == ["en-gb", "fr"]
    with override_settings(LANGUAGE_CODE="fr", LANGUAGES=[("fr", "Français"), ("de", "Deutsch")]):
        assert languages_offered() == ["fr"]  # no German catalogue: not offered
    with override_settings(POPUP_LANGUAGES=("fr", "en")):
        assert languages_offered() == ["fr", "en"]


@pytest.mark.parametrize(
    ("asked", "offered"),
    [
        ("fr", "fr"),
        ("fr-BE", "fr"),
        ("FR_ca", "fr"),
        ("en", "en-gb"),
        ("en-US", "en-gb"),
        ("en-gb", "en-gb"),
        ("de", None),
        ("", None),
        ("f" * 40, None),
        (None, None),
        (["fr"], None),
    ],
)
def test_a_code_asks_for_the_offered_language_of_the_same_tongue(asked, offered):
    assert language_match(asked) == offered


def test_a_header_gives_the_offered_language_it_prefers_most():
    assert language_from_header("de-DE,de;q=0.9,fr;q=0.8,en;q=0.5") == "fr"
    assert language_from_header("de, it") is None
    assert language_from_header("") is None


def page(client, popup, query="", **headers):
    response = client.get(f"/popup/{popup.slug}/{query}", **headers)
    assert response.status_code == 200
    return response, response.content.decode()


def test_the_page_speaks_its_url_s_language_else_the_pop_up_s_never_the_header_s(client):
    popup = popup_with_products(1)
    response, html = page(client, popup, **FRENCH)
    assert '<html lang="en-gb">' in html and "Checkout" in html
    assert response["Content-Language"] == "en-gb"
    assert "Accept-Language" not in response.get("Vary", "")
    assert "Set-Cookie" not in response

    response, html = page(client, popup, "?lang=fr")
    assert '<html lang="fr">' in html and "Paiement" in html and "Checkout" not in html
    assert response["Content-Language"] == "fr"
    # Each language is its own shell, served again as it was rendered.
    for query, lang in (("?lang=fr", "fr"), ("", "en-gb"), ("?lang=fr-FR", "fr")):
        response, html = page(client, popup, query, **FRENCH)
        assert response["X-Popup-Shell"] == "1"
        assert f'<html lang="{lang}">' in html


def test_a_pop_up_speaks_its_own_default_to_those_who_ask_for_nothing(client):
    popup = popup_with_products(1, language="fr")
    _response, html = page(client, popup)
    assert '<html lang="fr">' in html and "Paiement" in html
    _response, html = page(client, popup, "?lang=en")
    assert '<html lang="en-gb">' in html and "Checkout" in html
    _response, html = page(client, popup, "?lang=de")  # not offered: the pop-up's own
    assert '<html lang="fr">' in html


def basket_new(client, popup, **headers):
    response = client.post(
        f"/popup/{popup.slug}/basket/new/", "{}", content_type="application/json", **headers
    )
    assert response.status_code == 201, response.content
    return PopUpBasket.objects.get(token=response.json()["basket"]["token"])


def test_a_basket_keeps_the_language_its_page_said_and_the_calls_answer_in_it(client):
    popup = popup_with_products(1)
    basket = basket_new(client, popup, **FRENCH)
    assert basket.language == "fr"
    assert basket_new(client, popup).language == "en-gb"  # no header: the pop-up's own
    french = popup_with_products(1, language="fr")
    assert basket_new(client, french).language == "fr"

    product_id = popup.product_terms.get().product_id
    response = client.post(
        f"/popup/{popup.slug}/basket/lines/",
        json.dumps({"product": product_id, "quantity": 99}),
        content_type="application/json",
        HTTP_X_POPUP_BASKET=basket.token,
        **FRENCH,
    )
    assert response.status_code == 429, response.json()  # more than one connection may hold
    assert response["Content-Language"] == "fr"
    assert response.json()["error"].startswith("Trop de pièces sont déjà réservées")


def test_the_checkout_speaks_the_basket_s_language_and_a_link_s_lang_becomes_it(client):
    popup = popup_with_products(1)
    basket = basket_new(client, popup, **FRENCH)
    html = client.get(f"/popup/checkout/{basket.token}/").content.decode()
    assert '<html lang="fr">' in html

    html = client.get(f"/popup/checkout/{basket.token}/?lang=en").content.decode()
    assert '<html lang="en-gb">' in html
    basket.refresh_from_db()
    assert basket.language == "en-gb"


def test_an_e_mail_sent_later_speaks_the_basket_s_language(client):
    popup = popup_with_products(1)
    basket = basket_new(client, popup, HTTP_ACCEPT_LANGUAGE="fr")
    PopUpBasket.objects.filter(pk=basket.pk).update(email="ada@example.com", payment_intent_id="pi")

    checkout_lost_email(
        basket_id=basket.pk, reason="sold_out"
    )  # as the task does, outside any page
    assert OutgoingEmail.objects.get().language == "fr"
    assert mail.outbox[0].body.startswith("Bonjour")


def test_a_page_gives_its_scripts_their_words_and_a_switch_to_each_language(client):
    popup = popup_with_products(1)
    _response, html = page(client, popup, "?lang=fr")
    texts = json.loads(
        html.split('<script id="popup-text" type="application/json">')[1].split("<")[0]
    )
    assert texts["expired"] == "Votre panier a expiré, veuillez réessayer."
    assert texts["countdown"] == "__H__\u00a0h __M__\u00a0min __S__\u00a0s"
    assert '<nav class="languages" aria-label="Langue" data-languages="en-gb fr">' in html
    assert '<a href="?lang=en-gb" hreflang="en-gb" lang="en-gb">English</a>' in html
    assert 'hreflang="fr" lang="fr" aria-current="true">Français</a>' in html

    with override_settings(LANGUAGES=[("en-gb", "English")]):
        shells_forget()
        _response, html = page(client, popup, "?lang=en")
    assert "data-languages" not in html  # one language: nothing to switch


def test_the_store_and_its_dashboard_follow_the_merchant_s_browser_the_pop_ups_do_not(
    admin_client,
):
    response = admin_client.get("/dashboard/", **FRENCH)
    html = response.content.decode()
    assert response.status_code == 200 and "Tableau de bord" in html
    assert "Accept-Language" in response["Vary"]

    popup = popup_with_products(1)
    response = admin_client.get(f"/popup/{popup.slug}/embed/", **FRENCH)
    assert response.status_code == 200 and "Accept-Language" not in response.get("Vary", "")
    assert '<html lang="en-gb">' in response.content.decode()  # the pop-up's own, not the header's


REGIONS = [
    ("fr", "Français"),
    ("fr-ch", "Français (Suisse)"),
    ("fr-ca", "Français (Canada)"),
    ("en", "English"),
]


@override_settings(LANGUAGE_CODE="fr", LANGUAGES=REGIONS)
@pytest.mark.parametrize(
    ("asked", "currency", "price"),
    [
        ("fr-FR", "EUR", "59,00\u00a0€"),
        ("fr-BE", "EUR", "59,00\u00a0€"),
        ("fr-CH", "CHF", "59,00\u00a0CHF"),
        ("fr-CA", "CAD", "59,00\u00a0$"),  # not "$CA", as French in France writes it
        ("en-CA", "CAD", "CA$59.00"),  # no English of Canada in this store: the plain one's
    ],
)
def test_a_store_s_regional_languages_write_prices_as_their_region_does(
    client, asked, currency, price
):
    assert languages_offered() == ["fr", "fr-ch", "fr-ca", "en"]
    popup = popup_with_products(1)
    popup.range.all_products().first().stockrecords.update(
        price=Decimal("59.00"), price_currency=currency
    )
    _response, html = page(client, popup, f"?lang={asked}")
    assert price in html

    code = language_match(asked)
    switch = html.split("data-languages=")[1].split("</nav>")[0]
    assert switch.startswith('"fr fr-ch fr-ca en"')
    assert switch.count("<a ") == 2  # one link a language: the page's own variant of French
    french = code if code.startswith("fr") else "fr"
    assert f'hreflang="{french}"' in switch


def test_the_live_figures_of_one_language_are_never_served_to_another(client):
    popup = popup_with_products(1)
    labels = {}
    for lang in ("fr", "en-gb", "fr"):  # within the second the figures are kept
        response = client.get(
            f"/popup/{popup.slug}/live/?view=page&lang={lang}", HTTP_ACCEPT_LANGUAGE=lang
        )
        labels.setdefault(lang, set()).add(response.json()["state_label"])
    assert labels == {"fr": {"En cours"}, "en-gb": {"Live"}}

    # Shared under the page's language: what the URL asks, else the pop-up's, never the header's.
    french = popup_with_products(1, language="fr")
    for query, header, label in (("&lang=zz", "en", "En cours"), ("", "en", "En cours")):
        response = client.get(
            f"/popup/{french.slug}/live/?view=page{query}", HTTP_ACCEPT_LANGUAGE=header
        )
        assert response.json()["state_label"] == label


def test_a_call_about_what_is_gone_is_answered_in_json_in_the_page_s_language(client):
    popup = popup_with_products(1)
    response = client.post(
        f"/popup/{popup.slug}/basket/time/",
        "{}",
        content_type="application/json",
        HTTP_X_POPUP_BASKET="no-such-basket",
        **FRENCH,
    )
    assert response.status_code == 404
    assert response.json() == {
        "error": "Cet élément n'existe plus. Veuillez recharger la page.",
        "code": "not_found",
    }


def test_a_pop_up_request_starts_from_the_store_s_language_whatever_the_thread_served_before(
    rf,
):
    seen = []

    def view(request):
        seen.append(translation.get_language())
        return HttpResponse("")

    middleware = StoreLocaleMiddleware(view)
    translation.activate("fr")  # the French dashboard this thread served last
    try:
        middleware(rf.get("/popup/oembed", HTTP_ACCEPT_LANGUAGE="fr"))
        middleware(rf.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="fr"))
    finally:
        translation.deactivate()
    assert seen == ["en-gb", "fr"]
