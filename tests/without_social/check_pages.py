"""Run by tests/popup/test_without_social.py in a process of its own, with these settings."""

import pytest
from django.apps import apps
from django.urls import NoReverseMatch, reverse
from oscar.test.factories import UserFactory

from popup.core.holds import basket_create, hold_set
from tests.factories import popup_with_products

pytestmark = pytest.mark.django_db


def test_the_social_app_is_really_left_out():
    assert not apps.is_installed("integrations.social")
    with pytest.raises(NoReverseMatch):
        reverse("popup-social:oembed")
    with pytest.raises(NoReverseMatch):
        reverse("popup-dashboard:popup-poster", kwargs={"pk": 1, "fmt": "png"})


def test_a_pop_up_sells_without_it(client):
    popup = popup_with_products(2)
    page = client.get(popup.get_absolute_url())
    assert page.status_code == 200
    assert b"og:title" not in page.content
    assert client.get(f"/popup/{popup.slug}/embed/").status_code == 200
    oembed = client.get("/popup/oembed", {"url": popup.get_absolute_url()}, follow=True)
    assert oembed.status_code == 404

    created = client.post(f"/popup/{popup.slug}/basket/new/", {}, content_type="application/json")
    assert created.status_code == 201
    product = popup.product_terms.first().product
    basket = basket_create(popup=popup)
    hold_set(basket=basket, product_id=product.pk, quantity=1)
    checkout = client.get(reverse("popup:checkout", kwargs={"token": basket.token}))
    assert checkout.status_code == 200


def test_the_dashboard_works_without_it(client):
    popup = popup_with_products(1)
    client.force_login(UserFactory(is_staff=True))
    listing = client.get(reverse("popup-dashboard:popup-list"))
    assert listing.status_code == 200
    assert b"Catalogue feeds" not in listing.content
    detail = client.get(reverse("popup-dashboard:popup-detail", kwargs={"pk": popup.pk}))
    assert detail.status_code == 200
    assert b"popup_posters" not in detail.content and b"/poster." not in detail.content
    assert b"popup_feed_links" not in detail.content
