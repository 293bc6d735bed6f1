"""Reading the checkout links Meta's shops and Google send buyers with (popup.channels.checkout_links)."""

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, quote, unquote

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from popup.analytics.counters import rate_used
from popup.analytics.stats import stats_flush
from popup.channels.checkout_links import MAX_LINES, checkout_link_offers, checkout_link_parse
from popup.channels.placements import (
    WRONG_CODES_PER_HOUR,
    channel_placement_get,
    payment_metadata,
)
from popup.channels.selectors import channel_figures
from popup.core.holds import MAX_UNITS_PER_LINE
from popup.feedback.shopper_input import ip_key
from popup.models import (
    Ambassador,
    Hold,
    Placement,
    PopUpBasket,
    PopUpDayStats,
    PopUpProduct,
    reserved_slugs,
)
from tests.factories import PopUpFactory, popup_with_products

# Instagram's in-app browser on an iPhone, as it names itself.
INSTAGRAM = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148 Instagram 334.0.4.32.98 (iPhone15,2; iOS 17_5; fr_FR; fr; scale=3.00; "
    "1179x2556; 612263497)"
)


def asked(query: str):
    """The link as Django's request.GET gives it: the query decoded once."""
    values = parse_qs(query, keep_blank_values=True)
    return checkout_link_parse(
        products=values.get("products", [""])[0], coupon=values.get("coupon", [""])[0]
    )


def taken(link) -> list[tuple[int, int, int]]:
    return [(line.popup_id, line.product_id, line.quantity) for line in link.wanted]


def test_meta_s_documented_form_with_its_separators_escaped():
    # Meta's example, "products=12345%3A3%2C23456%3A1&coupon=SUMMERSALE20", with our content ids.
    link = asked("products=popup7-12%3A3%2Cpopup7-13%3A1&coupon=SUMMERSALE20")
    assert taken(link) == [(7, 12, 3), (7, 13, 1)]
    assert link.coupon == "SUMMERSALE20"
    assert link.notices == () and all(not line.problem for line in link.lines)


@pytest.mark.parametrize(
    "query",
    [
        "products=popup7-12:3,popup7-13:1",  # not escaped
        "products=popup7-12%253A3%252Cpopup7-13%253A1",  # escaped twice
        "products=popup7-12%25253A3%25252Cpopup7-13%25253A1",  # three times
        "products=popup7-12:3+popup7-13:1",  # "+" for the comma
        "products=+popup7-12:3+,+,popup7-13:1,+",  # spaces and empty items
        "products=POPUP7-12:3,Popup7-13:1",  # capitals
        "products=popup7-12:1,popup7-13:1,popup7-12:2",  # one product twice: one line
    ],
)
def test_every_way_the_same_link_arrives_reads_the_same(query):
    assert taken(asked(query)) == [(7, 12, 3), (7, 13, 1)]


def test_google_s_one_item_template_names_no_quantity():
    assert taken(asked("products=popup7-12")) == [(7, 12, 1)]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("0", "A quantity must be at least 1."),
        ("-2", "A quantity must be at least 1."),
        ("two", "“two” is not a number of units."),
        ("1.5", "“1.5” is not a number of units."),
        ("9" * 40, f"“{'9' * 20}” is not a number of units."),
    ],
)
def test_a_quantity_that_is_no_quantity_refuses_its_line_and_says_why(value, problem):
    link = asked(f"products=popup7-12:{quote(value)},popup7-13:1")
    first, second = link.lines
    assert (first.quantity, first.problem, first.asked) == (0, problem, value[:20])
    assert taken(link) == [(7, 13, 1)]


def test_a_huge_quantity_is_cut_to_what_a_line_may_hold_and_said():
    (line,) = asked("products=popup7-12:100000").lines
    assert line.quantity == MAX_UNITS_PER_LINE
    assert (
        line.problem
        == f"At most {MAX_UNITS_PER_LINE} units per product: {MAX_UNITS_PER_LINE} asked for."
    )
    (again,) = asked("products=popup7-12:60,popup7-12:60").lines
    assert again.quantity == MAX_UNITS_PER_LINE and again.problem


def test_ids_that_are_not_ours_are_refused_by_name_not_dropped():
    link = asked("products=12345:3,popup7-13:1,popup-13:1,popup7-:1,../../etc:1")
    assert taken(link) == [(7, 13, 1)]
    refused = [line.content_id for line in link.lines if line.problem]
    assert refused == ["12345", "popup-13", "popup7-", "../../etc"]
    assert {line.problem for line in link.lines if line.problem} == {
        "This product is not sold in our pop-up shops."
    }


def test_hundreds_of_items_are_cut_and_the_shopper_told():
    items = ",".join(f"popup7-{number}:1" for number in range(1, 501))
    link = asked(f"products={quote(items)}")
    assert len(link.lines) == MAX_LINES
    assert link.notices == (
        f"The link names more than {MAX_LINES} products: only the first {MAX_LINES} are taken.",
    )


@pytest.mark.parametrize(
    "query", ["", "products=", "products=%2C%3A", "coupon=WELCOME", "products=:::"]
)
def test_a_link_naming_nothing_says_so(query):
    link = asked(query)
    assert link.wanted == []
    assert "This link names no product." in link.notices or all(line.problem for line in link.lines)


@given(st.text(max_size=300), st.text(max_size=80))
def test_nothing_a_link_carries_raises_and_nothing_beyond_the_caps_is_asked(products, coupon):
    link = checkout_link_parse(products=products, coupon=coupon)
    assert len(link.lines) <= MAX_LINES
    assert all(0 <= line.quantity <= MAX_UNITS_PER_LINE for line in link.lines)
    assert all(line.problem for line in link.lines if line.popup_id is None)
    assert len(link.coupon) <= 64


@pytest.mark.django_db
class TestOffers:
    """Which pop-up sells each line of a link now (checkout_link_offers)."""

    def test_each_line_is_offered_by_the_pop_up_its_id_names_in_one_query(
        self, django_assert_num_queries
    ):
        popup = popup_with_products(2)
        scarf, tote = popup.range.all_products().order_by("pk")
        link = checkout_link_parse(
            products=f"popup{popup.pk}-{scarf.pk}:2,popup{popup.pk}-{tote.pk}:1,popup{popup.pk}-999999:1"
        )
        with django_assert_num_queries(1):
            offers = checkout_link_offers(link=link)
        assert [(offer.popup, offer.terms.product, offer.problem) for offer in offers[:2]] == [
            (popup, scarf, ""),
            (popup, tote, ""),
        ]
        assert (offers[2].popup, offers[2].problem) == (
            None,
            "This product is not sold in our pop-up shops.",
        )

    def test_a_closed_pop_up_s_product_is_offered_in_its_live_relaunch(self):
        closed = popup_with_products(
            1,
            opens_at=timezone.now() - timedelta(days=9),
            closes_at=timezone.now() - timedelta(days=2),
        )
        (scarf,) = closed.range.all_products()
        link = checkout_link_parse(products=f"popup{closed.pk}-{scarf.pk}:1")
        (offer,) = checkout_link_offers(link=link)
        assert (offer.popup, offer.problem) == (closed, "This pop-up has closed.")

        relaunch = PopUpFactory(relaunched_from=closed)
        relaunch.range.add_product(scarf)
        PopUpProduct.objects.create(popup=relaunch, product=scarf, units_offered=5)
        (offer,) = checkout_link_offers(link=link)
        assert (offer.popup, offer.named, offer.problem) == (relaunch, closed, "")

    def test_drafts_and_event_only_pop_ups_are_not_named_unless_unlocked(self):
        draft = popup_with_products(1, is_published=False)
        event = popup_with_products(1, event_only=True, unlock_code="VIP-NIGHT")
        soon = popup_with_products(1, opens_at=timezone.now() + timedelta(days=1))
        products = ",".join(
            f"popup{popup.pk}-{popup.range.all_products().get().pk}:1"
            for popup in (draft, event, soon)
        )
        link = checkout_link_parse(products=products)
        problems = [offer.problem for offer in checkout_link_offers(link=link)]
        assert problems[:2] == ["This product is not sold in our pop-up shops."] * 2
        assert problems[2].startswith("Not open yet: opens ")

        unlocked = checkout_link_offers(link=link, unlocked=frozenset({event.pk}))
        assert (unlocked[1].popup, unlocked[1].problem) == (event, "")
        assert unlocked[0].popup is None  # a draft stays a draft


@pytest.mark.django_db
class TestPage:
    """GET /popup/checkout-link/: the page shows, and only the shopper's POST holds."""

    def link(self, popup, *quantities) -> str:
        products = popup.range.all_products().order_by("pk")
        items = ",".join(
            f"popup{popup.pk}-{product.pk}:{quantity}"
            for product, quantity in zip(products, quantities, strict=False)
        )
        return quote(items)

    def test_opening_the_link_holds_nothing(self, client):
        popup = popup_with_products(2, units_offered=3)
        response = client.get(f"/popup/checkout-link/?products={self.link(popup, 2, 1)}")
        assert response.status_code == 200
        page = response.content.decode()
        assert "Product 000" in page and "Product 001" in page and "data-auto" in page
        assert response["Cache-Control"] == "no-store"
        assert not PopUpBasket.objects.exists() and not Hold.objects.exists()

    def test_the_shopper_s_press_holds_and_goes_to_the_checkout(self, client):
        popup = popup_with_products(2, units_offered=3)
        response = client.post(
            "/popup/checkout-link/",
            {
                "products": f"popup{popup.pk}-0:1," + unquote(self.link(popup, 2, 1)),
                "popup": popup.pk,
            },
        )
        basket = PopUpBasket.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/popup/checkout/{basket.token}/"
        held = dict(Hold.objects.values_list("terms__product__title", "quantity"))
        assert held == {"Product 000": 2, "Product 001": 1}
        assert basket.source == "checkout-link"

    def test_what_cannot_be_held_is_said_and_the_rest_goes_on(self, client):
        popup = popup_with_products(2, units_offered=1)
        link = f"/popup/checkout-link/?products={self.link(popup, 1, 5)}&fbclid=abc"
        page = client.get(link).content.decode()
        fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page))
        response = client.post(link, {key: unescape(value) for key, value in fields.items()})
        # The outcome is a page of its own: a reload or a language switch shows it again.
        assert response.status_code == 302
        assert response["Location"].startswith(f"{link}&held=")
        for _again in range(2):
            outcome = client.get(response["Location"])
            page = unescape(outcome.content.decode())
            assert "Only 1 left." in page and "Continue to checkout" in page
            assert "data-auto" not in page
        basket = PopUpBasket.objects.get()
        assert f'href="/popup/checkout/{basket.token}/"' in page
        assert dict(Hold.objects.values_list("terms__product__title", "quantity")) == {
            "Product 000": 1
        }

    def test_an_outcome_whose_holds_lapsed_no_longer_says_they_are_held(self, client):
        popup = popup_with_products(2, units_offered=1)
        link = f"/popup/checkout-link/?products={self.link(popup, 1, 5)}"
        response = client.post(
            link, {"products": unquote(self.link(popup, 1, 5)), "popup": popup.pk}
        )
        Hold.objects.update(reserved_until=timezone.now() - timedelta(seconds=1))
        page = unescape(client.get(response["Location"]).content.decode())
        assert "Only 1 left." in page  # what could not be held, as it was said
        assert "is held for you" not in page and "Continue to checkout" not in page

    def test_an_outcome_that_is_not_ours_shows_the_link_again_and_holds_nothing(self, client):
        popup = popup_with_products(1)
        page = client.get(f"/popup/checkout-link/?products={self.link(popup, 1)}&held=forged")
        assert "Hold and check out" in page.content.decode()
        assert "data-auto" not in page.content.decode()
        assert not PopUpBasket.objects.exists()

    @pytest.mark.parametrize(
        "query",
        [
            "products=%ZZ",
            "products=popup1-1:999999999999999999999",
            "products=" + "popup1-1:1," * 500,
            "products=popup99999999999999999999-1:1",
            "products=%00%01:%FF&coupon=%00",
            "coupon=" + "x" * 5000,
        ],
    )
    def test_hostile_links_get_a_clear_page(self, client, query):
        response = client.get(f"/popup/checkout-link/?{query}")
        assert response.status_code == 200
        assert b"Your selection" in response.content
        assert not PopUpBasket.objects.exists()

    def test_a_post_naming_no_pop_up_of_the_link_holds_nothing(self, client):
        popup = popup_with_products(1)
        other = popup_with_products(1)
        response = client.post(
            "/popup/checkout-link/", {"products": unquote(self.link(popup, 1)), "popup": other.pk}
        )
        assert response.status_code == 400
        assert not PopUpBasket.objects.exists()

    def test_checkout_link_is_a_reserved_slug(self):
        assert "checkout-link" in reserved_slugs()


@pytest.mark.django_db
class TestAttribution:
    """Who brought the link's shopper: the Meta shop's (or Google's) placement, or the coupon's
    ambassador; unlock codes as coupons; what is counted as an arrival."""

    META = "utm_source=IGShopping&utm_medium=Social&fbclid=IwAR0abc_9-Z&cart_origin=instagram"

    def url(self, popup, *, query: str = "", quantity: int = 1) -> str:
        product = popup.range.all_products().order_by("pk").first()
        items = quote(f"popup{popup.pk}-{product.pk}:{quantity}", safe="")
        return f"/popup/checkout-link/?products={items}" + (f"&{query}" if query else "")

    def hold(self, client, popup, url: str) -> PopUpBasket:
        """The page's form posts to the link's own URL, as the browser does."""
        page = client.get(url)
        assert page.status_code == 200
        fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.content.decode()))
        response = client.post(url, {key: unescape(value) for key, value in fields.items()})
        assert response.status_code == 302, response.content.decode()
        return PopUpBasket.objects.select_related("placement").get(
            token=response["Location"].split("/")[-2]
        )

    def test_a_meta_shop_buyer_s_basket_is_the_meta_shop_placement_s_with_its_campaign(
        self, client
    ):
        popup = popup_with_products(1)
        basket = self.hold(client, popup, self.url(popup, query=self.META))
        placement = basket.placement
        assert (placement.name, placement.channel) == ("Meta shop", Placement.Channel.META_SHOP)
        assert basket.utm == {"source": "IGShopping", "medium": "Social"}
        assert basket.ad_click == {"fbclid": "IwAR0abc_9-Z", "cart_origin": "instagram"}
        metadata = payment_metadata(basket)
        assert metadata["popup_placement_name"] == "Meta shop"
        assert (metadata["fbclid"], metadata["cart_origin"]) == ("IwAR0abc_9-Z", "instagram")
        # The next buyer's basket counts under the same placement.
        again = self.hold(client, popup, self.url(popup))
        assert again.placement == placement
        assert Placement.objects.filter(popup=popup).count() == 1

    def test_the_placement_is_named_in_the_store_s_language_not_the_shopper_s(self, client):
        popup = popup_with_products(1)
        page = client.get(self.url(popup), HTTP_ACCEPT_LANGUAGE="fr-FR")  # the first arrival
        assert "Votre sélection" in page.content.decode()
        assert Placement.objects.get(popup=popup).name == "Meta shop"

    def test_google_s_template_counts_under_its_own_placement(self, client):
        popup = popup_with_products(1)
        basket = self.hold(
            client, popup, self.url(popup, query="utm_source=google&utm_medium=checkout_link")
        )
        assert basket.placement.channel == Placement.Channel.GOOGLE
        assert basket.placement.name == "Google checkout link"

    def test_a_placement_the_merchant_switched_off_attributes_nothing(self, client):
        popup = popup_with_products(1)
        placement = channel_placement_get(popup=popup, channel=Placement.Channel.META_SHOP)
        Placement.objects.filter(pk=placement.pk).update(is_active=False)
        basket = self.hold(client, popup, self.url(popup, query=self.META))
        assert basket.placement is None and basket.ad_click["cart_origin"] == "instagram"

    def test_an_ambassador_s_code_as_coupon_gives_them_the_sale_and_their_discount(self, client):
        popup = popup_with_products(1)
        sophie = Ambassador.objects.create(
            name="Sophie", email="sophie@example.com", code="SOPHIE10", discount_percent=10
        )
        url = self.url(popup, query=f"coupon=sophie10&{self.META}")
        page = unescape(client.get(url).content.decode())
        assert "Sophie's code SOPHIE10: 10% off, applied in your basket." in page
        basket = self.hold(client, popup, url)
        assert basket.placement.ambassador == sophie
        assert basket.ad_click["fbclid"] == "IwAR0abc_9-Z"  # the Meta click stays on record
        checkout = client.get(f"/popup/checkout/{basket.token}/").content.decode()
        assert "€36.00" in checkout and "€40.00" not in checkout  # 10% off the €40.00 scarf

    def test_an_unlock_code_as_coupon_opens_an_event_only_pop_up_and_its_prices(self, client):
        event = popup_with_products(1, event_only=True, unlock_code="VIP-NIGHT")
        page = client.get(self.url(event)).content.decode()
        assert "This product is not sold in our pop-up shops." in page
        url = self.url(event, query="coupon=vip-night")
        page = client.get(url).content.decode()
        assert "Event prices unlocked." in page and "data-auto" in page
        PopUpProduct.objects.filter(popup=event).update(event_price=25)
        basket = self.hold(client, event, url)
        assert basket.unlocked and Hold.objects.filter(basket=basket).exists()
        checkout = client.get(f"/popup/checkout/{basket.token}/").content.decode()
        assert "€25.00" in checkout and "€40.00" not in checkout  # the event price

    def test_an_unknown_coupon_is_said_not_applied_and_nothing_goes_on_by_itself(self, client):
        popup = popup_with_products(1)
        page = client.get(self.url(popup, query="coupon=SUMMERSALE20")).content.decode()
        assert "The code “SUMMERSALE20” does not apply here: the prices are without it." in page
        assert "data-auto" not in page  # the shopper reads that first, then presses
        basket = self.hold(client, popup, self.url(popup, query="coupon=SUMMERSALE20"))
        assert not basket.unlocked and basket.placement.channel == Placement.Channel.META_SHOP

    def test_a_shopper_s_wrong_coupon_is_one_try_however_often_the_page_reads_it(self, client):
        popup = popup_with_products(1)
        url = self.url(popup, query="coupon=SUMMERSALE20")
        self.hold(client, popup, url)  # the page, its form
        client.get(url)  # a reload
        assert rate_used(f"popup-code:{ip_key('127.0.0.1')}", window=3600) == 1

    def test_a_coupon_beyond_ascii_is_no_error(self, client):
        event = popup_with_products(1, event_only=True, unlock_code="VIP-NIGHT")
        response = client.get(self.url(event, query="coupon=%C3%89T%C3%89"))
        assert response.status_code == 200
        assert "The code “ÉTÉ” does not apply here" in response.content.decode()

    def test_wrong_coupons_count_against_the_address_like_wrong_codes_on_the_page(self, client):
        event = popup_with_products(1, event_only=True, unlock_code="VIP-NIGHT")
        for number in range(WRONG_CODES_PER_HOUR):
            client.get(self.url(event, query=f"coupon=GUESS{number}"))
        page = client.get(self.url(event, query="coupon=VIP-NIGHT")).content.decode()
        assert "The code “VIP-NIGHT” does not apply here" in page  # guessing stops here
        assert "This product is not sold in our pop-up shops." in page

    def test_a_shopper_s_arrival_is_counted_a_robot_s_is_not(self, client):
        popup = popup_with_products(1)
        for agent in (
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "meta-externalagent/1.1",
            "Googlebot/2.1",
        ):
            client.get(self.url(popup), HTTP_USER_AGENT=agent)
        stats_flush()
        assert PopUpDayStats.objects.filter(popup=popup).count() == 0
        client.get(self.url(popup, query=self.META), HTTP_USER_AGENT=INSTAGRAM)
        self.hold(client, popup, self.url(popup, query=self.META))
        stats_flush()
        placement = Placement.objects.get(popup=popup)
        figures = channel_figures(by="placement", ids=[placement.pk])[placement.pk]
        assert (figures.views, figures.baskets) == (2, 1)  # the hold's page was an arrival too
        day = PopUpDayStats.objects.get(popup=popup)
        assert (day.views, day.baskets) == (2, 1)
