"""The embed origins a merchant types, and the pages a shopper's loader says it sits on."""

import pytest
from django.core.exceptions import ValidationError

from popup.models.core import origin_cut, validate_origins


@pytest.mark.parametrize(
    ("pasted", "origin"),
    [
        ("https://www.instagram.com/atelier.nord", "https://www.instagram.com"),
        (" https://blog.example:8443/shop?x=1 ", "https://blog.example:8443"),
        ("http://[", "http://["),  # left as it is, for validate_origins to refuse
        ("linktr.ee", "linktr.ee"),
    ],
)
def test_a_pasted_page_address_is_cut_to_its_origin(pasted, origin):
    assert origin_cut(pasted) == origin


@pytest.mark.parametrize(
    "text", ["http://[", "https://shop.example:0", "ftp://shop.example", "https://shop.example/x"]
)
def test_what_is_not_an_origin_is_refused_by_name_never_a_500(text):
    with pytest.raises(ValidationError) as refused:
        validate_origins(text)
    assert text in str(refused.value)


def test_origins_with_subdomains_and_ports_are_accepted():
    validate_origins("https://*.myblog.com\nhttp://localhost:8001, https://linktr.ee")
