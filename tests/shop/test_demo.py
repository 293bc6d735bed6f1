import pytest
from django.core.management import call_command

from popup.models import PopUp
from popup.selectors import popup_storefront

pytestmark = pytest.mark.django_db


def test_demo_has_a_pop_up_in_every_public_state_and_can_be_seeded_again():
    call_command("demo", "--seed-only")
    call_command("demo", "--seed-only")

    states = {popup.slug: popup_storefront(popup=popup).state for popup in PopUp.objects.all()}
    assert states == {
        "indigo-winter": PopUp.State.LIVE,
        "spring-ceramics": PopUp.State.COMING_SOON,
        "smart-candle": PopUp.State.LIVE,
        "autumn-clearance": PopUp.State.CLOSED,
    }


def test_demo_products_have_photos_prices_and_stock():
    call_command("demo", "--seed-only")
    storefront = popup_storefront(popup=PopUp.objects.get(slug="indigo-winter"))
    assert len(storefront.items) == 4
    for item in storefront.items:
        assert item.image is not None and item.image.original.size > 5_000
        assert item.price is not None and item.units_left > 0
    presale = popup_storefront(popup=PopUp.objects.get(slug="smart-candle"))
    assert [item.units_left for item in presale.items] == [300, 200]


def test_demo_staff_can_sign_in_to_the_dashboard(client):
    call_command("demo", "--seed-only")
    assert client.login(username="staff@example.com", password="popup-demo")
    assert client.get("/dashboard/popups/").status_code == 200
