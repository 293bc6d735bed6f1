"""Countries at checkout in the shopper's language and its alphabetical order, the store's own
(or the region of the shopper's French) first and chosen."""

import pytest
from django.utils import translation
from oscar.core.loading import get_model

from popup.checkout.forms import country_choices

from .support import basket_holding

Country = get_model("address", "Country")

STORE = {
    "US": ("United States", 0),
    "DE": ("Germany", 0),
    "CH": ("Switzerland", 0),
    "FR": ("France", 0),
    "ES": ("Spain", 0),
    "GB": ("United Kingdom", 0),
}


def names(choices) -> list[str]:
    return [name for _code, name in choices]


def test_french_names_sorted_as_a_dictionary_does_with_the_store_s_country_first():
    with translation.override("fr"):
        choices, first = country_choices(STORE)
    assert first == "FR"
    assert names(choices) == [
        "France",
        "Allemagne",
        "Espagne",
        "États-Unis",  # among the E, not after the Z
        "Royaume-Uni",
        "Suisse",
    ]
    with translation.override("en-gb"):  # a British page of a French store: France still first
        choices, first = country_choices(STORE)
    assert (first, names(choices)[:3]) == ("FR", ["France", "Germany", "Spain"])


def test_the_merchant_s_display_order_comes_before_the_alphabet(settings):
    with translation.override("fr"):
        choices, _first = country_choices(STORE | {"CH": ("Switzerland", 5)})
    assert names(choices)[:3] == ["France", "Suisse", "Allemagne"]
    settings.POPUP_WALLET_COUNTRY = "BE"  # a Belgian store shipping to none of its neighbours
    with translation.override("fr"):
        choices, first = country_choices({"US": ("United States", 0), "DE": ("Germany", 0)})
    assert (first, [code for code, _name in choices]) == ("", ["DE", "US"])


@pytest.mark.django_db
def test_the_checkout_offers_them_so(client, france):
    for code, name in (("DE", "Germany"), ("US", "United States")):
        Country.objects.create(
            iso_3166_1_a2=code, printable_name=name, name=name, is_shipping_country=True
        )
    basket = basket_holding(quantity=1)
    html = client.get(f"/popup/checkout/{basket.token}/?lang=fr").content.decode()
    options = html.split('<select name="country"')[1].split("</select>")[0]
    assert (
        options.index('<option value="FR" selected>France</option>')
        < options.index('<option value="DE">Allemagne</option>')
        < options.index('<option value="US">États-Unis</option>')
    )
    assert '<option value="">' not in options  # something is chosen: no empty first line
