"""From the Pop-ups list to a live pop-up of two products, with their caps and pop-up prices, in
Debian's Chromium: the clicks and saves a merchant needs are counted (Stripe Payment Links: about 5).
"""

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from popup.models import PopUp
from tests.factories import create_product

from .dashboard import Clicks
from .support import signed_in_as_staff

pytestmark = pytest.mark.browser


def test_a_live_pop_up_of_two_products_in_six_clicks_and_one_save(page: Page, context, store_url):
    scarf = create_product(title="Silk scarf", price=Decimal("40.00"))
    tote = create_product(title="Linen tote", price=Decimal("30.00"))
    create_product(title="Wool hat")
    signed_in_as_staff(context, store_url)
    page.goto(f"{store_url}/dashboard/popups/")
    mouse = Clicks(page)

    mouse.click(page.get_by_role("link", name="Create new pop-up"))
    page.get_by_label("Title").fill("Winter scarves")
    mouse.choose(page.get_by_label("Product 1", exact=True), "Silk scarf")
    page.get_by_label("Units offered, product 1").fill("12")
    page.get_by_label("Pop-up price, product 1").fill("35.00")
    mouse.choose(page.get_by_label("Product 2", exact=True), "Linen tote")
    page.get_by_label("Units offered, product 2").fill("5")
    page.get_by_label("Pop-up price, product 2").fill("25.00")
    mouse.click(page.get_by_label("Publish and open now"))
    mouse.save(page.get_by_role("button", name="Create pop-up"))

    expect(page.get_by_text("Pop-up “Winter scarves” created and published.")).to_be_visible()
    assert (mouse.clicks, mouse.saves) == (5, 1)  # at most 6 clicks and 1 save, as promised
    popup = PopUp.objects.get(title="Winter scarves")
    terms = {
        row.product: (row.units_offered, row.price, row.display_order)
        for row in popup.product_terms.all()
    }
    assert terms == {scarf: (12, Decimal("35.00"), 0), tote: (5, Decimal("25.00"), 1)}

    page.goto(f"{store_url}{popup.get_absolute_url()}")
    expect(page.locator("[data-state]")).to_have_text("Live")
    for title in ("Silk scarf", "Linen tote"):
        expect(page.get_by_role("button", name=f"Add {title}")).to_be_enabled()
