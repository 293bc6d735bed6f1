"""Pre-sales, first part: a goal and a ship date, honest progress from real orders, pre-order flags."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.utils import timezone

from popup.core.selectors import popup_storefront
from popup.models import PopUp, PopUpProduct
from tests.factories import PopUpFactory, create_product, popup_with_products
from tests.popup.checkout.support import page_queries
from tests.popup.dashboard.support import CREATE_URL, errors_of, form_data
from tests.popup.presales.support import back, presale

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("france")]


@pytest.mark.usefixtures("stripe_settings")
def test_progress_counts_units_money_and_backers_from_real_orders(localstripe, client):
    popup, candle = presale(presale_goal_units=10)
    back(popup, candle, localstripe, email="ada@example.com", units=2)
    back(popup, candle, localstripe, email="ADA@example.com", units=1)  # the same backer
    order = back(popup, candle, localstripe, email="grace@example.com", units=3)

    progress = popup_storefront(popup=popup).presale
    assert (progress.units, progress.amount, progress.backers) == (6, Decimal("234.00"), 2)
    assert (progress.percent, progress.goal_met) == (60, False)

    html = client.get(f"/popup/{popup.slug}/").content.decode()
    assert "<strong>6</strong> of 10 units · 60% · 2 backers" in html
    assert "Pre-order: ships around April 2027" in html
    assert "Pre-order from the pre-sale" in order.notes.get().message
    assert "April 2027" in order.notes.get().message


@pytest.mark.usefixtures("stripe_settings")
def test_a_money_goal_and_the_outcome_once_closed(localstripe, client):
    popup, candle = presale(presale_goal_units=None, presale_goal_amount=Decimal("100.00"))
    back(popup, candle, localstripe, email="ada@example.com", units=3)  # 117.00

    PopUp.objects.filter(pk=popup.pk).update(
        opens_at=timezone.now() - timedelta(days=10), closes_at=timezone.now() - timedelta(days=1)
    )
    html = client.get(f"/popup/{popup.slug}/").content.decode()
    assert "<strong>€117.00</strong> of €100.00 · 117% · 1 backer" in html
    assert "Funded" in html


def test_a_closed_pre_sale_short_of_its_goal_says_so(client):
    popup, _candle = presale(
        opens_at=timezone.now() - timedelta(days=10), closes_at=timezone.now() - timedelta(days=1)
    )
    html = client.get(f"/popup/{popup.slug}/").content.decode()
    assert "<strong>0</strong> of 10 units · 0% · 0 backers" in html
    assert "Goal not reached" in html


def test_one_goal_only_even_in_the_database():
    with pytest.raises(IntegrityError):
        presale(presale_goal_units=10, presale_goal_amount=Decimal("100"))


@pytest.mark.parametrize(
    ("goals", "message"),
    [
        ({}, "A pre-sale needs a goal."),
        (
            {"presale_goal_units": "200", "presale_goal_amount": "5000"},
            "Set a goal in units or in money, not both.",
        ),
    ],
)
def test_the_dashboard_asks_for_exactly_one_goal(admin_client, goals, message):
    scarf = create_product(title="Candle")
    data = form_data(kind=PopUp.Kind.PRESALE, products=[scarf.pk], **goals)
    response = admin_client.post(CREATE_URL, data)
    assert response.status_code == 200
    assert message in errors_of(response)
    assert not PopUp.objects.exists()


def test_a_pre_sale_page_makes_as_many_queries_with_5_or_100_products(client):
    small = popup_with_products(5, kind=PopUp.Kind.PRESALE, presale_goal_units=100)
    large = popup_with_products(100, kind=PopUp.Kind.PRESALE, presale_goal_units=100)

    def queries(popup):
        return page_queries(client, f"/popup/{popup.slug}/")

    queries(small)
    assert queries(small) == queries(large)


def test_a_pre_sale_shows_products_not_yet_in_the_catalogue_other_pop_ups_do_not(client):
    popup, candle = presale()
    candle.is_public = False
    candle.save()
    assert "Ember smart candle" in client.get(f"/popup/{popup.slug}/").content.decode()

    drop = PopUpFactory(kind=PopUp.Kind.LIMITED)
    drop.range.add_product(candle)
    PopUpProduct.objects.create(popup=drop, product=candle, units_offered=5)
    assert "Ember smart candle" not in client.get(f"/popup/{drop.slug}/").content.decode()
