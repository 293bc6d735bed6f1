"""The drop report: the first-party funnel, sales, speed, sell-out and unmet demand of a pop-up."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oscar.core.loading import get_model

from popup.models import PopUp, PopUpDayStats, PopUpProduct
from popup.services.checkout import checkout_pay
from popup.services.holds import basket_create, hold_set
from tests.integrations.stripe.support import card_token

from .test_checkout import SHOPPER, basket_holding, france  # noqa: F401

ProductAlert = get_model("customer", "ProductAlert")

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("stripe_settings")]


def url(popup, suffix="drop/"):
    return f"/dashboard/popups/{popup.pk}/{suffix}"


def test_a_sold_out_drop_reports_its_funnel_speed_and_lost_sales(localstripe, admin_client):
    basket = basket_holding(units=3, quantity=2, price=Decimal("25.00"))
    popup = basket.popup
    PopUp.objects.filter(pk=popup.pk).update(opens_at=timezone.now() - timedelta(hours=2))
    checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe))
    second = basket_create(popup=popup)
    product = PopUpProduct.objects.get(popup=popup).product
    hold_set(basket=second, product_id=product.pk, quantity=1)
    checkout_pay(basket=second, details=SHOPPER, card_token=card_token(localstripe))
    PopUpDayStats.objects.create(
        popup=popup,
        day=timezone.localdate(),
        views=80,
        embed_views=120,
        baskets=20,
        checkouts=5,
        unmet=7,
    )
    ProductAlert.objects.create(product=product, email="late@example.com")

    page = " ".join(admin_client.get(url(popup)).content.decode().split())
    for text in (
        "Views (page and embeds)</th> <td>200</td>",
        "Baskets</th> <td>20</td> <td>10.0%</td>",  # of the views
        "Paid orders</th> <td>2</td> <td>40.0%</td>",  # of the checkouts
        "3 / 3 (100.0% sell-through)",
        "7 add-to-basket attempts refused",
        "1 waitlist sign-ups",
        "units: the rate before selling out",
    ):
        assert text in page, text
    csv = b"".join(admin_client.get(url(popup, "drop.csv")).streaming_content).decode()
    assert csv.splitlines()[1].startswith("Indigo scarf,3,3,100.0,75.00,1")


def test_the_report_makes_as_many_queries_with_1_or_5_orders(localstripe, admin_client):
    basket = basket_holding(units=20, quantity=1)
    popup = basket.popup
    checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe))

    def queries():
        with CaptureQueriesContext(connection) as context:
            assert admin_client.get(url(popup)).status_code == 200
        return len(context.captured_queries)

    few = queries()
    product = PopUpProduct.objects.get(popup=popup).product
    for _ in range(4):
        more = basket_create(popup=popup)
        hold_set(basket=more, product_id=product.pk, quantity=1)
        checkout_pay(basket=more, details=SHOPPER, card_token=card_token(localstripe))
    assert queries() == few
