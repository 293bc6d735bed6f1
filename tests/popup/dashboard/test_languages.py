"""The dashboard and languages (issue 17): a pop-up's default language chosen in its form and
spoken by its page, and the plugin's menu in the merchant's language."""

import html
import re
from datetime import datetime

import pytest
from django.test import override_settings
from django.utils import translation

from popup.core.shells import shells_forget
from popup.models import Idea, PopUp
from tests.factories import PopUpFactory, create_product, popup_with_products
from tests.popup.dashboard.support import (
    CREATE_URL,
    STORE_TZ,
    edit_url,
    field,
    form_data,
    local,
    rows_data,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_shells():
    shells_forget()
    yield
    shells_forget()


def page_language(client, popup) -> str:
    """The language the pop-up's page speaks to a shopper whose link asks for none."""
    shells_forget()
    page = client.get(popup.get_absolute_url()).content.decode()
    return re.search(r'<html lang="([^"]+)"', page).group(1)


def language_options(page: str) -> list[tuple[str, str]]:
    (select,) = re.findall(r'<select name="language".*?</select>', page, re.S)
    return [
        (value, html.unescape(label).strip())
        for value, label in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)
    ]


def test_the_form_offers_the_stores_languages_each_named_in_itself(admin_client):
    page = admin_client.get(CREATE_URL).content.decode()

    assert language_options(page) == [
        ("", "The store's default (English)"),
        ("en-gb", "English"),
        ("fr", "Français"),
    ]
    # With the pop-up's details: after its description, before its kind.
    assert page.index('name="description"') < page.index('name="language"')
    assert page.index('name="language"') < page.index('name="kind"')
    with translation.override("fr"):
        french = admin_client.get(CREATE_URL, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert language_options(french)[0] == ("", "La langue par défaut de la boutique (English)")
    assert "Langue par défaut" in french


def test_a_pop_up_created_in_french_speaks_french_to_a_link_without_lang(admin_client, client):
    rows = rows_data([(create_product(title="Silk scarf"), "12", "")])
    data = form_data(publishing="now", closes_at=field(local(3)), language="fr", **rows)

    admin_client.post(CREATE_URL, data)

    popup = PopUp.objects.get()
    assert popup.language == "fr"
    assert page_language(client, popup) == "fr"


def test_editing_sets_the_language_and_blank_is_the_stores_again(admin_client, client):
    popup = popup_with_products(1)
    assert page_language(client, popup) == "en-gb"
    data = form_data(
        title=popup.title,
        slug=popup.slug,
        range=popup.range.pk,
        is_published="on",
        opens_at=field(local(-1)),
        closes_at=field(local(3)),
        language="fr",
    )

    admin_client.post(edit_url(popup), data)
    popup.refresh_from_db()
    assert popup.language == "fr" and page_language(client, popup) == "fr"
    assert ("fr", "Français") in language_options(
        admin_client.get(edit_url(popup)).content.decode()
    )
    assert 'value="fr" selected' in admin_client.get(edit_url(popup)).content.decode()

    admin_client.post(edit_url(popup), {**data, "language": ""})
    popup.refresh_from_db()
    assert popup.language == "" and page_language(client, popup) == "en-gb"


def test_a_language_the_store_does_not_offer_is_refused(admin_client):
    rows = rows_data([(create_product(), "3", "")])
    response = admin_client.post(CREATE_URL, form_data(language="de", **rows))
    assert "Select a valid choice." in html.unescape(response.content.decode())
    assert not PopUp.objects.exists()


def test_a_store_with_one_language_has_no_language_field_and_keeps_what_is_stored(admin_client):
    popup = popup_with_products(1, language="fr")
    with override_settings(POPUP_LANGUAGES=("en-gb",)):
        assert 'name="language"' not in admin_client.get(edit_url(popup)).content.decode()
        data = form_data(
            title=popup.title,
            slug=popup.slug,
            range=popup.range.pk,
            is_published="on",
            opens_at=field(local(-1)),
            closes_at=field(local(3)),
        )
        admin_client.post(edit_url(popup), data)
    popup.refresh_from_db()
    assert popup.title == data["title"] and popup.language == "fr"


def test_the_dashboard_menu_reads_french_for_a_french_merchant(admin_client):
    with translation.override("fr"):
        page = html.unescape(
            admin_client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
        )

    for french in ("Questions des clients", "Idées", "Sondages", "Ambassadeurs"):
        assert re.search(rf">\s*{french}\s*<", page), french
    for english in ("Shoppers' questions", ">Ideas<", ">Polls<", ">Ambassadors<"):
        assert english not in page, english


@pytest.mark.parametrize(
    ("month", "english", "french"),
    [
        (12, "7 Dec", "7 déc."),
        (6, "7 Jun", "7 juin"),
        (7, "7 Jul", "7 juil."),
        (3, "7 Mar", "7 mars"),
    ],
)
def test_short_dates_abbreviate_months_as_each_language_does(admin_client, month, english, french):
    """French writes abbreviated months in lower case with a dot, and tells juin from juillet
    (Django's French "M" gives "Déc", and "Jui" for both)."""
    Idea.objects.create(
        popup=PopUpFactory(),
        title="A beanie",
        email="a@example.com",
        status=Idea.Status.DONE,
        shipped_at=datetime(2026, month, 7, 10, tzinfo=STORE_TZ),
    )
    ideas = "/dashboard/popups/ideas/"
    page = admin_client.get(ideas).content.decode()
    with translation.override("fr"):
        page_fr = admin_client.get(ideas, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert f"Voters told {english}<" in page
    assert f"Votants prévenus le {french}<" in page_fr
