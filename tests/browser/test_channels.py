"""A placement's short link inside a fan's page: the shopper buys, and the merchant sees the order
attributed to that placement and to the ambassador in the dashboard."""

import re

import pytest
from oscar.core.loading import get_model
from playwright.sync_api import expect

from popup.channels.placements import ambassador_invite, placement_create
from popup.models import Commission
from tests.browser.support import pay, signed_in_as_staff, to_checkout, wait_for

from .support import card_fill, live_popup, shopper_details_fill

Country = get_model("address", "Country")
Order = get_model("order", "Order")

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("stripe_settings")]


def test_a_sale_through_an_ambassadors_short_link_is_theirs_in_the_dashboard(
    page, context, store_url, host, localstripe
):
    Country.objects.update_or_create(
        iso_3166_1_a2="FR",
        defaults={"name": "France", "printable_name": "France", "is_shipping_country": True},
    )
    popup = live_popup(2, units_offered=5, allowed_embed_origins=host.origin)
    placement = ambassador_invite(
        popup=popup, name="Sophie", email="sophie@example.com", code="SOPHIE"
    )
    short_link = f"{store_url}/popup/p/{placement.code}/?utm_source=blog&utm_medium=embed"
    html = (
        "<h1>Sophie's picks</h1>"
        f'<p><a data-popup-link href="{short_link}">{popup.title}</a></p>'
        f'<script src="{store_url}/popup/embed.js" async></script>'
    )

    page.goto(host.serve("/sophies-picks", html))

    # The loader turned the short link into the embedded shop, through the placement.
    expect(page.locator("a[data-popup-link]")).to_have_count(0)
    frame = page.frame_locator(f'iframe[src*="/popup/p/{placement.code}/embed/"]')
    expect(frame.locator("h1")).to_have_text(popup.title)
    checkout = to_checkout(page, frame)
    pay(checkout, "4242424242424242")
    expect(checkout.get_by_role("heading", name="Thank you!")).to_be_visible()

    order = Order.objects.get()
    basket = order.popup_basket
    assert (basket.placement, basket.utm) == (placement, {"source": "blog", "medium": "embed"})
    wait_for(lambda: Commission.objects.filter(order=order).exists())
    assert Commission.objects.get(order=order).amount == 8  # 10% of €80.00

    signed_in_as_staff(context, store_url)
    merchant = context.new_page()
    merchant.goto(f"{store_url}/dashboard/popups/{popup.pk}/")
    row = merchant.locator(f'#placements tr[data-placement="{placement.code}"]')
    expect(row).to_contain_text("Ambassador: Sophie")
    expect(row.locator("[data-orders]")).to_have_text("1")
    expect(row.locator("[data-revenue]")).to_have_text("€80.00")

    merchant.goto(f"{store_url}/dashboard/popups/ambassadors/")
    sophie = merchant.locator(f'tr[data-ambassador="{placement.ambassador_id}"]')
    expect(sophie.locator("[data-orders]")).to_have_text("1")
    expect(sophie.locator("[data-due]")).to_have_text("€8.00")
    sophie.get_by_label("Payment reference").fill("SEPA-2026-11")
    sophie.get_by_role("button", name="Mark paid").click()
    expect(merchant.locator(".alert-success")).to_contain_text("marked paid")
    expect(sophie.locator("[data-due]")).to_have_text("€0.00")

    # Oscar's own order page says where the order came from.
    merchant.goto(f"{store_url}/dashboard/orders/{order.number}/")
    merchant.get_by_role("link", name="Notes").click()
    expect(
        merchant.get_by_text(f"Placement: Ambassador: Sophie ({placement.code}).")
    ).to_be_visible()


def test_a_guest_at_the_event_unlocks_the_pop_up_and_pays_the_event_price(
    page, context, store_url, localstripe
):
    Country.objects.update_or_create(
        iso_3166_1_a2="FR",
        defaults={"name": "France", "printable_name": "France", "is_shipping_country": True},
    )
    popup = live_popup(2, units_offered=5, unlock_code="GALA26", event_only=True)
    popup.product_terms.filter(product__title="Product 000").update(event_price=30)

    page.goto(f"{store_url}/popup/{popup.slug}/")
    expect(page.get_by_role("heading", name="This pop-up opens with a code")).to_be_visible()
    page.get_by_label("Code").fill("gala25")
    page.get_by_role("button", name="Open").click()
    expect(page.get_by_role("alert")).to_contain_text("does not open this pop-up")
    page.get_by_label("Code").fill("gala26")
    page.get_by_role("button", name="Open").click()

    expect(page.get_by_text("Event prices unlocked.")).to_be_visible()
    page.get_by_role("button", name="Add Product 000").click()
    expect(page.locator("[data-basket]")).to_contain_text("1 item in your basket · €30.00")
    page.get_by_role("link", name="Checkout").click()
    shopper_details_fill(page)
    card_fill(page, "4242424242424242")
    page.get_by_role("button", name=re.compile(r"^Order and pay €30\.00$")).click()

    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    assert Order.objects.get().total_incl_tax == 30


def test_the_share_buttons_copy_the_placements_short_link(page, context, store_url):
    popup = live_popup(1)
    placement = placement_create(popup=popup, name="Story")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=store_url)

    page.goto(f"{store_url}/popup/p/{placement.code}/")
    # The share links learn the placement from the live call: a tap before it answers copies
    # the pop-up's own address, so the test waits for it (the WhatsApp link shows it came).
    whatsapp = page.locator(".share a", has_text="WhatsApp")
    expect(whatsapp).to_have_attribute(
        "href", re.compile(rf"^https://wa\.me/\?text=.*%2Fpopup%2Fp%2F{placement.code}%2F$")
    )
    page.get_by_role("button", name="Copy link").click()

    expect(page.locator("[data-share-status]")).to_have_text("Link copied.")
    assert page.evaluate("navigator.clipboard.readText()") == (
        f"{store_url}/popup/p/{placement.code}/"
    )
