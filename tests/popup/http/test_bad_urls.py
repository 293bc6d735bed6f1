"""Bad input in the URL is a 4xx, never a 500: NUL bytes, undecodable paths, an empty basket's checkout."""

import pytest
from django.test import Client

from popup.core.holds import basket_create
from tests.factories import popup_with_products

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/popup/%00/",
        "/popup/winter%00drop/",
        "/popup/checkout/%00/",
        "/popup/p/%00/",
        "/popup/%ff%fe/",
        "/catalogue/%00/",
        "/%00",
    ],
)
def test_a_nul_byte_or_undecodable_path_is_a_client_error(path):
    response = Client(raise_request_exception=False).get(path)

    assert 400 <= response.status_code < 500, response.status_code


def test_the_checkout_of_an_empty_basket_says_so(client):
    popup = popup_with_products(1)
    basket = basket_create(popup=popup)

    response = client.get(f"/popup/checkout/{basket.token}/")

    assert response.status_code == 200
    assert b"Your basket is empty" in response.content
