"""WCAG 2.2 A and AA on every page of the Pop-ups dashboard, checked by axe-core in Debian's
Chromium, with data on them (and the create form with its errors shown): 0 serious or critical
violations in what the plugin draws (Oscar's own navigation bars above it are Oscar's)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from oscar.test.factories import create_order
from playwright.sync_api import Page, expect

from popup.models import (
    Ambassador,
    Idea,
    Placement,
    Pledge,
    Poll,
    PollOption,
    PopUp,
    PopUpBasket,
    PopUpDayStats,
    Question,
)
from tests.factories import PopUpFactory, create_product, popup_with_products

from .dashboard import dashboard_violations
from .support import signed_in_as_staff

pytestmark = pytest.mark.browser

WIDTHS = [390, 1280]


@pytest.fixture
def merchant(page: Page, context, store_url) -> Page:
    signed_in_as_staff(context, store_url)
    return page


@pytest.fixture
def shop():
    """A live drop with sales, a placement and feedback; a pre-sale with a pledge; an archived one."""
    drop = popup_with_products(2, title="Winter drop", owns_range=True)
    ambassador = Ambassador.objects.create(
        name="Sophie", email="sophie@example.com", code="SOPHIE10", invited_at=timezone.now()
    )
    Placement.objects.create(popup=drop, name="Instagram bio")
    Placement.objects.create(popup=drop, name="Sophie", ambassador=ambassador)
    PopUpDayStats.objects.create(
        popup=drop, day=timezone.localdate(), views=200, baskets=10, checkouts=4, unmet=6
    )
    Question.objects.create(popup=drop, email="ada@example.com", body="Is it wool?")
    Idea.objects.create(popup=drop, title="Sage green", email="ada@example.com", votes=3)
    poll = Poll.objects.create(popup=drop, question="Which colour next?")
    PollOption.objects.create(poll=poll, label="Sage", votes=8)
    PollOption.objects.create(poll=poll, label="Rust", votes=2)
    presale = popup_with_products(
        1, title="Cargo bike", kind=PopUp.Kind.PRESALE, presale_goal_units=10
    )
    Pledge.objects.create(
        popup=presale, email="ada@example.com", currency="EUR", amount=Decimal("40.00")
    )
    archived = PopUpFactory(title="Old drop", is_published=False, archived_at=timezone.now())
    PopUpBasket.objects.create(popup=archived, order=create_order())
    PopUpFactory(
        title="Next drop",
        opens_at=timezone.now() + timedelta(days=2),
        closes_at=timezone.now() + timedelta(days=4),
    )
    create_product(title="Wool hat")
    return {"drop": drop, "presale": presale, "archived": archived}


def pages(shop) -> list[str]:
    drop, presale, archived = shop["drop"], shop["presale"], shop["archived"]
    return [
        "",
        "?state=archived",
        "create/",
        f"{drop.pk}/",
        f"{archived.pk}/",
        f"{drop.pk}/edit/",
        f"{drop.pk}/delete/",
        f"{presale.pk}/delete/",
        f"{presale.pk}/report/",
        f"{drop.pk}/drop/",
        f"compare/?a={drop.pk}&b={presale.pk}",
        "questions/",
        "ideas/",
        "polls/",
        "ambassadors/",
        "shoppers-data/",
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_of_the_dashboard(merchant: Page, store_url, shop, width):
    merchant.set_viewport_size({"width": width, "height": 900})
    found, sideways = {}, {}
    for path in pages(shop):
        merchant.goto(f"{store_url}/dashboard/popups/{path}")
        expect(merchant.locator(".page-content")).to_be_visible()
        found[path] = dashboard_violations(merchant)
        # On a phone too, the page never scrolls sideways: wide tables scroll in their own box.
        sideways[path] = merchant.evaluate("() => document.documentElement.scrollWidth") > width
    assert found == {path: [] for path in pages(shop)}
    assert not any(sideways.values()), sideways


def test_the_actions_menu_opens_out_of_its_scrolling_table(merchant: Page, store_url, shop):
    merchant.set_viewport_size({"width": 390, "height": 844})
    merchant.goto(f"{store_url}/dashboard/popups/")
    merchant.get_by_role("button", name="Actions").last.click()
    expect(merchant.get_by_role("link", name="Delete")).to_be_visible()
    expect(merchant.get_by_role("link", name="Delete")).to_be_in_viewport()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_create_form_with_its_errors_shown(merchant: Page, store_url, shop, width):
    merchant.set_viewport_size({"width": width, "height": 900})
    merchant.goto(f"{store_url}/dashboard/popups/create/")
    merchant.get_by_label("Product 1", exact=True).select_option("Product 000")
    merchant.get_by_label("Units offered, product 1").fill("-4")
    merchant.get_by_label("Units offered, product 2").fill("3")
    merchant.get_by_label("Publish and open now").check()
    merchant.get_by_text("Embedding and contact").click()  # folded until opened
    merchant.get_by_label("Whatsapp number").fill("06 12")
    merchant.get_by_role("button", name="Create pop-up").click()

    expect(merchant.get_by_text("Nothing was saved.")).to_be_visible()
    expect(merchant.locator("#id_rows-0-product_errors")).to_contain_text(
        "also in the published pop-up “Winter drop”"
    )
    expect(merchant.locator("#id_rows-1-product_errors")).to_contain_text(
        "Choose the product these units and price are for."
    )
    expect(merchant.locator("#popup_sharing")).to_have_attribute("open", "")
    assert dashboard_violations(merchant) == []
    merchant.screenshot(path=f"/tmp/dash/errors{width}.png", full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_shoppers_data_by_keyboard_with_what_is_held_and_a_wrong_confirmation(
    merchant: Page, store_url, shop, width
):
    merchant.set_viewport_size({"width": width, "height": 900})
    merchant.goto(f"{store_url}/dashboard/popups/shoppers-data/")
    merchant.get_by_label("Shopper's e-mail address").fill("sophie@example.com")
    merchant.keyboard.press("Enter")  # the form's first button: show what is held

    expect(merchant.locator("#shopper_data_held")).to_contain_text("Ambassador")
    assert dashboard_violations(merchant) == []
    with merchant.expect_download() as download:
        merchant.get_by_role("button", name="Download the JSON").press("Enter")
    assert download.value.suggested_filename.startswith("shopper-data-")

    merchant.get_by_role("button", name="Erase…").press("Enter")
    merchant.get_by_label("To confirm, type the address again").fill("ada@example.com")
    merchant.keyboard.press("Enter")

    expect(
        merchant.get_by_text("This is not the address above: nothing was erased.")
    ).to_be_visible()
    assert dashboard_violations(merchant) == []
    assert Ambassador.objects.get().is_active  # nothing was erased
