"""From a Facebook or Instagram shop to a paid order: Meta's checkout URL, as its in-app browser on a
phone opens it, held by the page's own script, paid with localstripe, attributed to "Meta shop"."""

import csv
import io
import re
from urllib.parse import quote, urlsplit

import pytest
import requests
from oscar.core.loading import get_model
from playwright.sync_api import expect

from integrations.social.feeds import feed_links
from popup.analytics.stats import stats_flush
from popup.channels.selectors import channel_figures
from popup.models import Hold, Placement, PopUpBasket
from tests.localstripe_server import SECRET_KEY

from .support import card_fill, live_popup, shopper_details_fill, violations

Country = get_model("address", "Country")
Order = get_model("order", "Order")

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("stripe_settings")]

# Instagram's in-app browser on an Android phone, as it names itself.
INSTAGRAM = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/131.0.0.0 Mobile Safari/537.36 Instagram 361.0.0.35.82 Android"
)
# What Meta adds to the checkout URL besides the products.
META_QUERY = "fbclid=IwAR2xYz_meta&cart_origin=instagram&utm_source=IGShopping&utm_medium=Social"
# How far the document reaches beyond the screen's right edge.
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def meta_feed_ids(store_url: str, popup) -> list[str]:
    """The content ids the pop-up's Meta feed gives Meta's catalogue, in the feed's order."""
    (link,) = [
        link
        for link in feed_links(popup=popup)
        if link.platform.code == "meta" and link.format == "csv"
    ]
    response = requests.get(store_url + urlsplit(link.url).path, timeout=10)
    assert response.status_code == 200
    return [row["id"] for row in csv.DictReader(io.StringIO(response.text))]


def phone_in_instagram(browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        user_agent=INSTAGRAM,
    )
    context.set_default_timeout(10_000)
    return context


def test_a_meta_shop_buyer_lands_in_a_held_basket_and_pays_attributed_to_meta_shop(
    browser, store_url, host, localstripe
):
    Country.objects.update_or_create(
        iso_3166_1_a2="FR",
        defaults={"name": "France", "printable_name": "France", "is_shipping_country": True},
    )
    localstripe.register_webhook(f"{store_url}/popup/stripe/webhook/")
    popup = live_popup(2, units_offered=5)
    first, second = meta_feed_ids(store_url, popup)
    # Meta's form: the separators percent-escaped, the tracking parameters after.
    products = quote(f"{first}:2,{second}:1", safe="")
    link = f"{store_url}/popup/checkout-link/?products={products}&{META_QUERY}"

    context = phone_in_instagram(browser)
    page = context.new_page()
    windows = []
    context.on("page", lambda opened: windows.append(opened))  # no second window in an app
    # The shop's product page inside Instagram, with its button to the seller's website.
    shop = host.serve("/atelier.nord/shop", f'<a href="{link}">Check out on the website</a>')
    page.goto(shop)

    page.get_by_role("link", name="Check out on the website").click()
    # The page's own script holds and goes on to the checkout: nothing for the shopper to press.
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    basket = PopUpBasket.objects.get()
    assert page.url == f"{store_url}/popup/checkout/{basket.token}/"
    held = dict(Hold.objects.values_list("terms__product__title", "quantity"))
    assert held == {"Product 000": 2, "Product 001": 1}

    # The link's page gave its place in the history to the checkout: Back returns to the shop,
    # and forward to the same basket; nothing is held twice.
    page.go_back()
    expect(page).to_have_url(shop)
    page.go_forward()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    assert page.url == f"{store_url}/popup/checkout/{basket.token}/"
    assert PopUpBasket.objects.count() == 1 and Hold.objects.count() == 2

    assert page.evaluate(SIDEWAYS) <= 0
    shopper_details_fill(page)
    card_fill(page, "4242424242424242")
    page.get_by_role("button", name=re.compile("^Order and pay")).click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    assert windows == []

    order = Order.objects.get()
    basket.refresh_from_db()
    assert basket.order == order
    placement = basket.placement
    assert (placement.name, placement.channel) == ("Meta shop", Placement.Channel.META_SHOP)
    assert basket.utm == {"source": "IGShopping", "medium": "Social"}
    assert basket.ad_click == {"fbclid": "IwAR2xYz_meta", "cart_origin": "instagram"}
    note = order.notes.get(message__startswith="Placement:").message
    assert f"Placement: Meta shop ({placement.code})." in note
    assert "fbclid=IwAR2xYz_meta" in note and "utm_source=IGShopping" in note
    intent = requests.get(
        f"{localstripe.url}/v1/payment_intents/{order.sources.get().reference}",
        auth=(SECRET_KEY, ""),
        timeout=5,
    ).json()
    assert intent["metadata"]["popup_placement_name"] == "Meta shop"
    assert intent["metadata"]["fbclid"] == "IwAR2xYz_meta"
    assert intent["metadata"]["cart_origin"] == "instagram"
    # Counted like any placement: the arrival, the basket, the order.
    stats_flush()
    figures = channel_figures(by="placement", ids=[placement.pk])[placement.pk]
    assert (figures.views, figures.baskets, figures.orders) == (1, 1, 1)
    context.close()


def test_a_link_naming_two_pop_ups_asks_which_basket_to_start_and_reads_well_on_a_phone(
    browser, store_url
):
    winter = live_popup(1, units_offered=5, title="Indigo winter")
    spring = live_popup(1, units_offered=5, title="Spring ceramics")
    ids = meta_feed_ids(store_url, winter) + meta_feed_ids(store_url, spring)
    products = quote(",".join(f"{content_id}:1" for content_id in ids) + ",12345:1", safe="")

    context = phone_in_instagram(browser)
    page = context.new_page()
    page.goto(f"{store_url}/popup/checkout-link/?products={products}&{META_QUERY}")
    page.wait_for_timeout(500)  # time for a script that would choose by itself
    assert not PopUpBasket.objects.exists()  # two baskets to choose from: none started alone
    expect(page.get_by_role("heading", name="Not available here")).to_be_visible()
    assert page.evaluate(SIDEWAYS) <= 0
    assert violations(page) == []

    buttons = page.get_by_role("button", name="Hold and check out")
    expect(buttons).to_have_count(2)
    box = buttons.nth(1).bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24
    buttons.nth(1).click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    basket = PopUpBasket.objects.get()
    assert basket.popup == spring
    assert basket.placement.channel == Placement.Channel.META_SHOP
    context.close()


def test_what_could_not_be_held_is_said_on_a_page_a_reload_never_holds_again(browser, store_url):
    popup = live_popup(2, units_offered=1)
    first, second = meta_feed_ids(store_url, popup)
    products = quote(f"{first}:3,{second}:1", safe="")

    context = phone_in_instagram(browser)
    page = context.new_page()
    page.goto(f"{store_url}/popup/checkout-link/?products={products}&{META_QUERY}")
    # Held by the page's own script, as far as it goes: the rest is said, line by line.
    expect(page.get_by_role("alert")).to_have_text("Not everything could be held for you:")
    expect(page.get_by_text("Only 1 left.")).to_be_visible()
    assert "&held=" in page.url
    assert page.evaluate(SIDEWAYS) <= 0
    assert violations(page) == []
    page.reload()
    expect(page.get_by_text("Only 1 left.")).to_be_visible()
    assert PopUpBasket.objects.count() == 1 and Hold.objects.count() == 1

    page.get_by_role("link", name="Continue to checkout").click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    assert page.url == f"{store_url}/popup/checkout/{PopUpBasket.objects.get().token}/"
    context.close()
