"""WCAG 2.2 A and AA, checked by axe-core (from the npm registry: `make test` installs it) in each
state a shopper meets, on a phone's screen: 0 serious or critical violations."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from popup.channels.placements import ambassador_invite
from popup.core.holds import basket_create, hold_set

from .showcase import showcase_popup
from .support import violations

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(browser) -> Page:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_the_pop_up_page_in_every_state_a_shopper_meets(phone, store_url):
    popup = showcase_popup()
    mug = popup.product_terms.get(product__title="Speckled stoneware mug")
    url = f"{store_url}{popup.get_absolute_url()}"
    phone.goto(url)
    for summary in phone.locator("details.fold > summary").all():  # feedback, unfolded
        summary.click()
    expect(phone.locator("[data-ask]")).to_be_visible()
    assert violations(phone) == []

    # The basket open, then a refusal shown.
    phone.locator("button[data-add]:visible").first.click()
    expect(phone.locator("[data-basket] [data-checkout]")).to_be_visible()
    assert violations(phone) == []
    popup.per_customer_limit = 1
    popup.save()
    phone.locator("button[data-more]:visible").first.click()
    expect(phone.locator("[data-error]:visible").first).not_to_be_empty()
    assert violations(phone) == []

    # All in baskets, and sold out (the showcase's tote).
    for _ in range(2):  # one each: the limit is 1 now
        hold_set(basket=basket_create(popup=popup), product_id=mug.product_id, quantity=1)
    phone.goto(url)
    expect(phone.locator(f'[data-product="{mug.product_id}"] [data-stock]')).to_contain_text(
        "All in baskets"
    )
    assert violations(phone) == []


@pytest.mark.parametrize("moment", ["coming_soon", "closed"])
def test_the_pop_up_page_before_and_after_its_drop(phone, store_url, moment):
    now = timezone.now()
    popup = showcase_popup()
    if moment == "coming_soon":
        popup.opens_at, popup.closes_at = now + timedelta(days=1), now + timedelta(days=3)
    else:
        popup.opens_at, popup.closes_at = now - timedelta(days=3), now - timedelta(hours=1)
    popup.save()
    for path in (popup.get_absolute_url(), f"{popup.get_absolute_url()}embed/"):
        phone.goto(f"{store_url}{path}")
        expect(phone.locator("h1")).to_have_text(popup.title)
        assert violations(phone) == [], path


def test_the_embed_with_its_basket_open(phone, store_url):
    popup = showcase_popup()
    phone.goto(f"{store_url}{popup.get_absolute_url()}embed/")
    phone.locator("button[data-add]:visible").first.click()
    expect(phone.locator("[data-basket] [data-checkout]")).to_be_visible()
    assert violations(phone) == []


def test_the_event_lock_and_its_refusal(phone, store_url):
    popup = showcase_popup(unlock_code="GALA26", event_only=True)
    phone.goto(f"{store_url}{popup.get_absolute_url()}")
    expect(phone.get_by_role("heading", name="This pop-up opens with a code")).to_be_visible()
    assert violations(phone) == []
    phone.get_by_label("Code").fill("gala25")
    phone.get_by_role("button", name="Open").click()
    expect(phone.get_by_role("alert")).to_contain_text("does not open this pop-up")
    assert violations(phone) == []


def test_the_ambassador_s_own_page(phone, store_url):
    popup = showcase_popup()
    placement = ambassador_invite(popup=popup, name="Sophie", email="sophie@example.com")
    phone.goto(f"{store_url}{placement.ambassador.get_absolute_url()}")
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    assert violations(phone) == []
