"""The merchant's drop report in Debian's Chromium: its charts are drawn, a suggestion is applied
with a number the merchant changed, and two pop-ups are compared."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from popup.checkout.services import checkout_pay
from popup.feedback.reviews import review_submit
from popup.models import Poll, PollOption, PopUpDayStats, PopUpProduct, ReviewInvite
from tests.browser.support import signed_in_as_staff
from tests.factories import popup_with_products
from tests.integrations.stripe.support import card_token
from tests.popup.checkout.support import SHOPPER, basket_holding

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("stripe_settings"),
    pytest.mark.usefixtures("france"),
]


def bar_widths(page, chart_id: str) -> list[float]:
    return [
        bar.bounding_box()["width"] for bar in page.locator(f"#{chart_id} rect.popup-bar").all()
    ]


def test_the_merchant_reads_the_charts_restocks_and_compares(page, context, store_url, localstripe):
    basket = basket_holding(units=3, quantity=3)
    popup = basket.popup
    order = checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe)).order
    product = PopUpProduct.objects.get(popup=popup).product
    PopUpDayStats.objects.create(
        popup=popup, day=timezone.localdate(), views=200, baskets=10, checkouts=4, unmet=6
    )
    invite = ReviewInvite.objects.create(order=order, popup=popup)
    review_submit(
        invite=invite, product_id=product.pk, score=5, title="Soft", body="Warm.", name="Ada"
    )
    poll = Poll.objects.create(popup=popup, question="Which colour next?")
    PollOption.objects.create(poll=poll, label="Sage", votes=8)
    PollOption.objects.create(poll=poll, label="Rust", votes=2)
    other = popup_with_products(1, title="Autumn drop")
    signed_in_as_staff(context, store_url)

    page.goto(f"{store_url}/dashboard/popups/{popup.pk}/drop/")

    sales = page.locator("#drop_sales_chart polyline")
    expect(sales).to_be_visible()
    assert sales.bounding_box()["width"] > 300
    views, baskets, checkouts, paid = bar_widths(page, "drop_funnel_chart")
    assert views > baskets > checkouts > paid > 0
    assert bar_widths(page, "drop_rating_chart")[0] > 0  # five stars: the only score given
    sage, rust = bar_widths(page, f"drop_poll_{poll.pk}")
    assert sage == pytest.approx(4 * rust, rel=0.02)

    restock = page.locator("#suggest_restock")
    restock.get_by_label(f"Units of {product.get_title()}").fill("7")
    restock.get_by_role("button", name="Restock").click()
    expect(page.get_by_text("Restocked 1 product in this pop-up.")).to_be_visible()
    assert PopUpProduct.objects.get(popup=popup).units_offered == 7

    page.get_by_label("Compare with").select_option(str(other.pk))
    page.get_by_role("button", name="Compare").click()
    expect(page.locator("#drop_compare")).to_contain_text("Autumn drop")
    expect(page.locator("#drop_compare tr", has_text="Paid orders")).to_contain_text("1")
    assert all(width > 0 for width in bar_widths(page, "compare_funnel_1"))
