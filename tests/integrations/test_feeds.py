"""Catalogue feeds for Google Merchant Center and Meta: contents, spellings, secrecy, freshness."""

import csv
import io
import re
import subprocess
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone, translation

from integrations.social.feed_files import (
    WRITING,
    feed_file_name,
    feed_files_write,
    feeds_refresh,
)
from integrations.social.feeds import feed_links, feed_token
from popup.core.shells import shells_outdate
from popup.models import PopUp, PopUpProduct, PriceRecord
from tests.factories import PopUpFactory, create_product, popup_with_products

pytestmark = pytest.mark.django_db

G = "{http://base.google.com/ns/1.0}"
# What each platform requires of every item (their published specifications).
GOOGLE_REQUIRED = (
    "id",
    "title",
    "description",
    "link",
    "image_link",
    "availability",
    "price",
    "brand",
    "condition",
)
META_REQUIRED = (
    "id",
    "title",
    "description",
    "availability",
    "condition",
    "price",
    "link",
    "image_link",
    "brand",
)
REQUIRED = {"google": GOOGLE_REQUIRED, "meta": META_REQUIRED}
AVAILABILITY = {
    "google": {"in_stock", "out_of_stock", "preorder", "backorder"},
    "meta": {"in stock", "out of stock", "preorder", "available for order", "discontinued"},
}
# Google: YYYY-MM-DDThh:mm±hhmm; Meta: YYYY-MM-DDThh:mm±hh:mm.
MOMENT = {
    "google": re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d[+-]\d{4}$"),
    "meta": re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d[+-]\d\d:\d\d$"),
}
PRICE = re.compile(r"^\d+\.\d\d [A-Z]{3}$")
FEEDS = [(platform, fmt) for platform in ("google", "meta") for fmt in ("xml", "csv")]


def add(popup, product, **terms):
    popup.range.add_product(product)
    return PopUpProduct.objects.create(popup=popup, product=product, **terms)


def priced_before_opening(popup) -> None:
    """Every price recorded so far was set the day before the pop-up opened: its reductions start
    at the opening (popup.core.reductions)."""
    PriceRecord.objects.update(since=popup.opens_at - timedelta(days=1))


def url_of(popup=None, platform="google", fmt="xml") -> str:
    (link,) = [
        link
        for link in feed_links(popup=popup)
        if link.platform.code == platform and link.format == fmt
    ]
    return urlsplit(link.url).path


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def parse(content: bytes, fmt: str) -> list[dict]:
    """The feed's items as {field: text}, read as the platforms read them."""
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(content.decode("utf-8"), newline="")))
    root = ET.fromstring(content)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel.findtext("title") and channel.findtext("link")
    return [
        {field.tag.removeprefix(G): field.text or "" for field in item}
        for item in channel.findall("item")
    ]


def feed(client, popup=None, platform="google", fmt="xml") -> list[dict]:
    response = client.get(url_of(popup, platform, fmt))
    assert response.status_code == 200
    expected = "text/csv" if fmt == "csv" else "application/xml"
    assert response["Content-Type"].startswith(expected)
    return parse(body(response), fmt)


def by_id(items: list[dict]) -> dict[str, dict]:
    return {item["id"]: item for item in items}


def item_id(popup, product) -> str:
    return f"popup{popup.pk}-{product.pk}"


def moment(text: str, platform: str) -> datetime:
    assert MOMENT[platform].match(text), text
    return datetime.strptime(text, "%Y-%m-%dT%H:%M%z")  # %z reads +0100 and +01:00


def minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


class TestFields:
    @pytest.mark.parametrize("platform,fmt", FEEDS)
    def test_every_item_has_the_platforms_required_fields(self, client, platform, fmt):
        popup = PopUpFactory(title="Indigo winter")
        add(popup, create_product(title="Scarf", price=Decimal("40"), image=True), price=25)
        add(popup, create_product(title="Mug", price=Decimal("18"), image=True))
        add(popup, create_product(title="Candle", price=Decimal("12"), image=True), units_offered=0)

        for items in (feed(client, popup, platform, fmt), feed(client, None, platform, fmt)):
            assert len(items) == 3
            for item in items:
                for field in REQUIRED[platform]:
                    assert item.get(field), (field, item)
                assert item["availability"] in AVAILABILITY[platform]
                assert item["condition"] == "new"
                assert PRICE.match(item["price"])
                if platform == "google":  # no GTIN nor MPN: Google must be told so
                    assert item["identifier_exists"] == "no"

    def test_links_images_and_texts(self, client):
        popup = PopUpFactory(title="Indigo winter", slug="indigo-winter")
        scarf = create_product(title="Scarf", price=Decimal("40"), image=True)
        scarf.description = "<p>Hand-dyed&nbsp;wool, <b>50</b> pieces.</p>\n\nKeep dry."
        scarf.save()
        add(popup, scarf)
        site = settings.POPUP_SITE_URL

        for platform, source in (("google", "google"), ("meta", "facebook")):
            (item,) = feed(client, popup, platform)
            link = urlsplit(item["link"])
            assert f"{link.scheme}://{link.netloc}{link.path}" == f"{site}/popup/indigo-winter/"
            assert parse_qs(link.query) == {
                "utm_source": [source],
                "utm_medium": ["feed"],
                "utm_campaign": ["indigo-winter"],
                "utm_content": [item_id(popup, scarf)],
            }
            image = scarf.primary_image().original.url
            assert item["image_link"] == f"{site}{image}"
            assert item["title"] == "Scarf"
            assert item["description"] == "Hand-dyed wool, 50 pieces. Keep dry."
            assert item["brand"] == settings.OSCAR_SHOP_NAME

    def test_google_items_carry_the_checkout_link_template_for_their_own_id(self, client):
        popup = PopUpFactory(slug="indigo-winter")
        scarf = create_product(title="Scarf", price=Decimal("40"), image=True)
        add(popup, scarf)
        (item,) = feed(client, popup, "google", "csv")
        template = item["checkout_link_template"]
        assert template.startswith(f"{settings.POPUP_SITE_URL}/popup/checkout-link/?")
        # Google puts the item's id where {id} is: the link then names that one product.
        link = urlsplit(template.replace("{id}", item["id"]))
        assert parse_qs(link.query) == {
            "products": [item_id(popup, scarf)],
            "utm_source": ["google"],
            "utm_medium": ["checkout_link"],
            "utm_campaign": ["indigo-winter"],
        }
        (xml_item,) = feed(client, popup, "google", "xml")
        assert xml_item["checkout_link_template"] == template
        (meta_item,) = feed(client, popup, "meta", "csv")
        assert "checkout_link_template" not in meta_item  # Meta's is set once in Commerce Manager

    def test_long_titles_are_clipped_to_what_the_platforms_take(self, client):
        popup = PopUpFactory()
        add(popup, create_product(title="Scarf " * 40, price=Decimal("40"), image=True))
        for platform in ("google", "meta"):
            (item,) = feed(client, popup, platform)
            assert len(item["title"]) == 150 and item["title"].endswith("…")

    def test_description_falls_back_to_the_popups(self, client):
        popup = PopUpFactory(tagline="Hand-dyed, 50 pieces only")
        add(popup, create_product(title="Scarf", price=Decimal("40"), image=True))
        (item,) = feed(client, popup, "meta", "csv")
        assert item["description"] == "Hand-dyed, 50 pieces only"

    def test_brand_condition_and_identifiers_from_attributes(self, client):
        popup = PopUpFactory()
        branded = create_product(
            title="Teapot",
            price=Decimal("60"),
            image=True,
            upc="4006381333931",  # a valid EAN-13
            attributes={"brand": "Maison Indigo", "condition": "Refurbished"},
        )
        plain = create_product(title="Bowl", price=Decimal("20"), image=True, upc="12345678")
        add(popup, branded)
        add(popup, plain)

        items = by_id(feed(client, popup, "google"))
        teapot, bowl = items[item_id(popup, branded)], items[item_id(popup, plain)]
        assert (teapot["brand"], teapot["condition"]) == ("Maison Indigo", "refurbished")
        assert (teapot["gtin"], teapot["identifier_exists"]) == ("4006381333931", "yes")
        assert "gtin" not in bowl  # 12345678 fails the GTIN check digit: not sent as one
        assert bowl["identifier_exists"] == "no"
        assert by_id(feed(client, popup, "meta", "csv"))[item_id(popup, branded)]["gtin"] == (
            "4006381333931"
        )

    def test_variants_share_an_item_group(self, client):
        popup = PopUpFactory()
        parent = create_product(title="Scarf", structure="parent")
        blue = create_product(title="Blue", parent=parent, price=Decimal("40"), image=True)
        red = create_product(title="Red", parent=parent, price=Decimal("40"), image=True)
        add(popup, blue)
        add(popup, red)

        items = feed(client, popup, "meta", "csv")
        assert {item["id"] for item in items} == {item_id(popup, blue), item_id(popup, red)}
        assert {item["item_group_id"] for item in items} == {f"popup{popup.pk}-{parent.pk}"}

    def test_markup_and_control_characters_cannot_break_the_xml(self, client):
        popup = PopUpFactory()
        product = create_product(title='Mug <b>&</b> "cup"\x0b', price=Decimal("9"), image=True)
        product.description = "]]></g:description><g:price>0.01 EUR</g:price>\x01"
        product.save()
        add(popup, product)
        (item,) = feed(client, popup, "google", "xml")
        assert item["title"] == 'Mug & "cup"'
        assert item["price"] == "9.00 EUR"
        assert item["description"] == "]]>0.01 EUR"  # the tags are text, stripped as markup


class TestPricesAndSchedule:
    @pytest.mark.parametrize("platform", ["google", "meta"])
    def test_a_lower_popup_price_is_a_sale_for_the_popups_schedule(self, client, platform):
        popup = PopUpFactory()
        scarf = create_product(title="Scarf", price=Decimal("40"), image=True)
        mug = create_product(title="Mug", price=Decimal("18"), image=True)
        add(popup, scarf, price=Decimal("25"))
        add(popup, mug)  # the regular price
        priced_before_opening(popup)

        for fmt in ("xml", "csv"):
            items = by_id(feed(client, popup, platform, fmt))
            on_sale, regular = items[item_id(popup, scarf)], items[item_id(popup, mug)]
            assert (on_sale["price"], on_sale["sale_price"]) == ("40.00 EUR", "25.00 EUR")
            starts, ends = on_sale["sale_price_effective_date"].split("/")
            assert moment(starts, platform) == minute(popup.opens_at)
            assert moment(ends, platform) == minute(popup.closes_at)
            assert regular["price"] == "18.00 EUR"
            assert not regular.get("sale_price") and not regular.get("sale_price_effective_date")

    def test_dates_are_in_the_store_time_zone(self, client):
        store = ZoneInfo(settings.TIME_ZONE)
        opens = datetime(2026, 1, 10, 9, 30, tzinfo=store)
        popup = PopUpFactory(opens_at=opens, closes_at=timezone.now() + timedelta(days=3))
        add(popup, create_product(price=Decimal("40"), image=True), price=Decimal("30"))
        priced_before_opening(popup)
        (google,) = feed(client, popup, "google")
        (meta,) = feed(client, popup, "meta")
        assert google["sale_price_effective_date"].startswith("2026-01-10T09:30+0100/")
        assert meta["sale_price_effective_date"].startswith("2026-01-10T09:30+01:00/")

    def test_a_higher_popup_price_is_the_price(self, client):
        popup = PopUpFactory()
        product = create_product(price=Decimal("40"), image=True)
        add(popup, product, price=Decimal("45"))
        (item,) = feed(client, popup, "google")
        assert item["price"] == "45.00 EUR" and "sale_price" not in item

    def test_no_cost_price_nor_event_price_anywhere(self, client):
        # Oscar 4.2's StockRecord has no cost price; stores keep it in an attribute or a fork.
        popup = PopUpFactory(unlock_code="GIG")
        product = create_product(
            title="Scarf", price=Decimal("40"), image=True, attributes={"cost_price": "7.77"}
        )
        add(popup, product, price=Decimal("25"), event_price=Decimal("6.66"))
        for scope in (popup, None):
            for platform, fmt in FEEDS:
                content = body(client.get(url_of(scope, platform, fmt))).decode()
                assert "25.00 EUR" in content
                assert "7.77" not in content and "6.66" not in content


class TestAvailability:
    def test_live_sold_out_and_uncapped(self, client):
        popup = PopUpFactory()
        left = create_product(title="Left", price=Decimal("10"), image=True)
        gone = create_product(title="Gone", price=Decimal("10"), image=True)
        uncapped = create_product(title="Uncapped", price=Decimal("10"), image=True)
        empty_warehouse = create_product(title="Empty", price=Decimal("10"), stock=0, image=True)
        add(popup, left, units_offered=3)
        add(popup, gone, units_offered=2, units_sold=2)
        add(popup, uncapped, units_offered=None)
        add(popup, empty_warehouse, units_offered=None)

        google = by_id(feed(client, popup, "google"))
        meta = by_id(feed(client, popup, "meta", "csv"))
        expected = {left: "in_stock", gone: "out_of_stock", uncapped: "in_stock"}
        expected[empty_warehouse] = "out_of_stock"
        for product, availability in expected.items():
            assert google[item_id(popup, product)]["availability"] == availability
            assert meta[item_id(popup, product)]["availability"] == availability.replace("_", " ")
            assert not google[item_id(popup, product)].get("availability_date")

    @pytest.mark.parametrize("platform,fmt", FEEDS)
    def test_a_live_presale_is_a_preorder_shipping_on_its_ship_date(self, client, platform, fmt):
        ships_on = timezone.localdate() + timedelta(days=40)
        presale = PopUpFactory(
            kind=PopUp.Kind.PRESALE, presale_goal_units=100, presale_ships_on=ships_on
        )
        product = create_product(price=Decimal("80"), image=True)
        add(presale, product, units_offered=None)
        (item,) = feed(client, presale, platform, fmt)
        assert item["availability"] == "preorder"
        midnight = datetime.combine(ships_on, datetime.min.time(), ZoneInfo(settings.TIME_ZONE))
        assert moment(item["availability_date"], platform) == midnight

    def test_a_presale_without_ship_date_ships_when_it_closes(self, client):
        presale = PopUpFactory(kind=PopUp.Kind.PRESALE, presale_goal_units=100)
        add(presale, create_product(price=Decimal("80"), image=True), units_offered=None)
        (item,) = feed(client, presale, "meta")
        assert item["availability"] == "preorder"
        assert moment(item["availability_date"], "meta") == minute(presale.closes_at)

    @pytest.mark.parametrize("kind", [PopUp.Kind.LIMITED, PopUp.Kind.PRESALE])
    def test_coming_soon_cannot_be_ordered_yet(self, client, kind):
        now = timezone.now()
        popup = PopUpFactory(
            kind=kind,
            presale_goal_units=100 if kind == PopUp.Kind.PRESALE else None,
            presale_ships_on=timezone.localdate() + timedelta(days=60),
            opens_at=now + timedelta(days=2),
            closes_at=now + timedelta(days=9),
        )
        add(popup, create_product(price=Decimal("40"), image=True), price=Decimal("30"))
        (google,) = feed(client, popup, "google")
        (meta,) = feed(client, popup, "meta", "csv")
        assert (google["availability"], meta["availability"]) == ("out_of_stock", "out of stock")
        assert not google.get("availability_date") and not meta["availability_date"]
        # Its sale is announced for when it opens.
        starts, _ends = meta["sale_price_effective_date"].split("/")
        assert moment(starts, "meta") == minute(popup.opens_at)


class TestWhatIsLeftOut:
    def test_only_published_public_products_of_open_popups_for_everyone(self, client):
        now = timezone.now()
        live = PopUpFactory()
        coming = PopUpFactory(opens_at=now + timedelta(days=1), closes_at=now + timedelta(days=3))
        closed = PopUpFactory(opens_at=now - timedelta(days=9), closes_at=now - timedelta(hours=1))
        draft = PopUpFactory(is_published=False)
        event = PopUpFactory(event_only=True, unlock_code="GIG")
        shown = {}
        for popup in (live, coming, closed, draft, event):
            product = create_product(title=f"In {popup.slug}", price=Decimal("10"), image=True)
            add(popup, product)
            shown[popup] = product
        hidden = create_product(title="Hidden", price=Decimal("10"), image=True, is_public=False)
        add(live, hidden)
        presale = PopUpFactory(kind=PopUp.Kind.PRESALE, presale_goal_units=10)
        add(
            presale,
            create_product(title="Prototype", price=Decimal("9"), image=True, is_public=False),
        )
        add(live, create_product(title="No price", price=None, stock=None, image=True))
        add(live, create_product(title="No photo", price=Decimal("10")))

        for platform, fmt in FEEDS:
            store = {item["id"] for item in feed(client, None, platform, fmt)}
            assert store == {item_id(live, shown[live]), item_id(coming, shown[coming])}
            for popup in (closed, draft, event, presale):
                assert feed(client, popup, platform, fmt) == []  # served, but empty

    def test_a_product_in_two_popups_is_two_offers(self, client):
        first, second = PopUpFactory(slug="first"), PopUpFactory(slug="second")
        product = create_product(price=Decimal("40"), image=True)
        add(first, product, price=Decimal("30"))
        add(second, product)
        items = by_id(feed(client, None, "google"))
        assert set(items) == {item_id(first, product), item_id(second, product)}
        assert items[item_id(first, product)]["sale_price"] == "30.00 EUR"
        assert "/popup/second/" in items[item_id(second, product)]["link"]


class TestSecrecy:
    def test_a_wrong_token_is_404_and_the_right_one_200(self, client):
        popup = PopUpFactory(slug="indigo")
        other = PopUpFactory(slug="other")
        add(popup, create_product(price=Decimal("10"), image=True))
        for platform, fmt in FEEDS:
            assert client.get(url_of(None, platform, fmt)).status_code == 200
            assert client.get(url_of(popup, platform, fmt)).status_code == 200
        wrong = "0" * 32
        assert client.get(f"/popup/feeds/{wrong}/google.xml").status_code == 404
        assert client.get(f"/popup/feeds/indigo/{wrong}/meta.csv").status_code == 404
        # Another scope's token opens nothing here.
        assert (
            client.get(f"/popup/feeds/indigo/{feed_token(popup=other)}/meta.csv").status_code == 404
        )
        assert client.get(f"/popup/feeds/{feed_token(popup=popup)}/google.xml").status_code == 404
        assert client.get(f"/popup/feeds/{feed_token()}/google.json").status_code == 404
        assert client.get(f"/popup/feeds/nowhere/{feed_token()}/google.xml").status_code == 404

    def test_tokens_are_stable_and_depend_on_the_secret(self, settings):
        popup = PopUpFactory()
        token = feed_token(popup=popup)
        assert re.fullmatch(r"[0-9a-f]{32}", token)
        assert feed_token(popup=popup) == token != feed_token()
        settings.POPUP_FEED_SECRET = "another secret"
        assert feed_token(popup=popup) != token

    def test_feed_files_are_not_under_a_guessable_name(self, client):
        popup = PopUpFactory()
        client.get(url_of(popup))
        name = feed_file_name(popup_id=popup.pk, platform="google", fmt="xml")
        assert default_storage.exists(name)
        assert str(popup.pk) not in name and popup.slug not in name
        assert feed_token(popup=popup) not in name


def feed_work(callbacks: list) -> list:
    """What a commit queued apart from outdating the pages' shells (popup.core.shells) and telling
    the stream processes (popup.core.pushes)."""
    return [
        callback
        for callback in callbacks
        if callback is not shells_outdate and not hasattr(callback, "live_target")
    ]


class TestFreshness:
    def test_a_change_regenerates_the_feeds_once_committed(
        self, client, django_capture_on_commit_callbacks
    ):
        popup = PopUpFactory()
        scarf = create_product(title="Scarf", price=Decimal("40"), image=True)
        terms = add(popup, scarf, price=Decimal("25"))
        assert feed(client, popup)[0]["sale_price"] == "25.00 EUR"
        assert feed(client, None, "meta", "csv")[0]["sale_price"] == "25.00 EUR"
        name = feed_file_name(popup_id=popup.pk, platform="google", fmt="xml")
        written = default_storage.get_modified_time(name)

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            terms.price = Decimal("20")
            terms.save()
            terms.save()  # a second save in the debounce window queues nothing more
            assert default_storage.get_modified_time(name) == written  # not before the commit

        assert len(feed_work(callbacks)) == 1
        assert default_storage.get_modified_time(name) > written
        for platform, fmt in FEEDS:
            assert feed(client, popup, platform, fmt)[0]["sale_price"] == "20.00 EUR"
            assert feed(client, None, platform, fmt)[0]["sale_price"] == "20.00 EUR"

    def test_a_catalogue_change_regenerates_every_feed(
        self, client, django_capture_on_commit_callbacks
    ):
        popup = PopUpFactory()
        scarf = create_product(title="Scarf", price=Decimal("40"), image=True)
        add(popup, scarf)
        assert feed(client, popup)[0]["price"] == "40.00 EUR"

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            for price in ("41", "42", "43"):  # a bulk import, say
                stockrecord = scarf.stockrecords.get()
                stockrecord.price = Decimal(price)
                stockrecord.save()
        assert len(feed_work(callbacks)) == 1
        assert feed(client, popup)[0]["price"] == "43.00 EUR"
        assert feed(client, None, "meta")[0]["price"] == "43.00 EUR"

    def test_a_deleted_popup_leaves_the_feeds(self, client, django_capture_on_commit_callbacks):
        popup = PopUpFactory(slug="gone")
        add(popup, create_product(price=Decimal("10"), image=True))
        url = url_of(popup, "meta", "csv")
        assert len(feed(client, popup, "meta", "csv")) == 1
        assert len(feed(client, None, "meta", "csv")) == 1
        name = feed_file_name(popup_id=popup.pk, platform="meta", fmt="csv")

        with django_capture_on_commit_callbacks(execute=True):
            popup.delete()

        assert not default_storage.exists(name)
        assert client.get(url).status_code == 404
        assert feed(client, None, "meta", "csv") == []

    def test_no_work_queued_before_any_feed_was_requested(self, django_capture_on_commit_callbacks):
        popup = PopUpFactory()
        with django_capture_on_commit_callbacks() as callbacks:
            add(popup, create_product(price=Decimal("10"), image=True))
        assert feed_work(callbacks) == []

    def test_an_opening_without_any_save_is_caught_by_the_request(self, client):
        now = timezone.now()
        popup = PopUpFactory(opens_at=now + timedelta(hours=1), closes_at=now + timedelta(days=2))
        add(popup, create_product(price=Decimal("10"), image=True))
        assert feed(client, popup)[0]["availability"] == "out_of_stock"
        # The clock reaches the opening: nothing is saved (an update sends no signal).
        PopUp.objects.filter(pk=popup.pk).update(opens_at=timezone.now())
        assert feed(client, popup)[0]["availability"] == "in_stock"
        assert feed(client, None)[0]["availability"] == "in_stock"

    def test_while_another_process_writes_them_the_previous_files_are_served(self, client):
        now = timezone.now()
        popup = PopUpFactory(opens_at=now + timedelta(hours=1), closes_at=now + timedelta(days=2))
        add(popup, create_product(price=Decimal("10"), image=True))
        assert feed(client, popup)[0]["availability"] == "out_of_stock"
        PopUp.objects.filter(pk=popup.pk).update(opens_at=timezone.now())
        lock = WRITING.format(popup.pk)
        cache.add(lock, True, 60)  # a worker is writing this pop-up's feeds
        try:
            assert feed(client, popup)[0]["availability"] == "out_of_stock"
        finally:
            cache.delete(lock)
        assert feed(client, popup)[0]["availability"] == "in_stock"

    def test_a_disk_that_refuses_writes_serves_the_last_good_feed(self, client):
        now = timezone.now()
        popup = PopUpFactory(opens_at=now + timedelta(hours=1), closes_at=now + timedelta(days=2))
        add(popup, create_product(price=Decimal("10"), image=True))
        assert feed(client, popup)[0]["availability"] == "out_of_stock"
        PopUp.objects.filter(pk=popup.pk).update(opens_at=timezone.now())  # now stale
        folder = Path(
            default_storage.path(feed_file_name(popup_id=popup.pk, platform="google", fmt="xml"))
        ).parent
        # Immutable (even for root, which these tests run as): no new file can be made in it.
        subprocess.run(["chattr", "+i", str(folder)], check=True)
        try:
            response = client.get(url_of(popup))
            assert response.status_code == 200
            assert parse(body(response), "xml")[0]["availability"] == "out_of_stock"
        finally:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        assert feed(client, popup)[0]["availability"] == "in_stock"

    def test_the_beat_rewrites_feeds_whose_popups_opened_or_closed(self, client):
        now = timezone.now()
        popup = PopUpFactory(
            opens_at=now + timedelta(minutes=5), closes_at=now + timedelta(hours=1)
        )
        add(popup, create_product(price=Decimal("10"), image=True))
        feed(client, popup)
        feed(client, None)
        name = feed_file_name(popup_id=popup.pk, platform="meta", fmt="csv")

        assert feeds_refresh(now=now + timedelta(minutes=1)) == 0  # nothing crossed yet
        assert (
            feeds_refresh(now=now + timedelta(minutes=6)) == 2
        )  # opened: the pop-up's and the store's
        with default_storage.open(name) as stored:
            (item,) = parse(stored.read(), "csv")
        assert item["availability"] == "in stock"

        assert feeds_refresh(now=now + timedelta(hours=2)) == 2  # closed: out of both feeds
        with default_storage.open(name) as stored:
            assert parse(stored.read(), "csv") == []

    def test_if_modified_since_gets_304(self, client):
        popup = PopUpFactory()
        add(popup, create_product(price=Decimal("10"), image=True))
        url = url_of(popup, "meta", "xml")
        first = client.get(url)
        body(first)
        again = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
        assert again.status_code == 304
        assert first["Cache-Control"] == "private, no-cache"


class TestLinks:
    def test_four_absolute_urls_that_work(self, client):
        popup = PopUpFactory()
        add(popup, create_product(price=Decimal("10"), image=True))
        for scope in (popup, None):
            links = feed_links(popup=scope)
            assert [(link.platform.code, link.format) for link in links] == [
                ("google", "xml"),
                ("google", "csv"),
                ("meta", "xml"),
                ("meta", "csv"),
            ]
            for link in links:
                assert link.url.startswith(settings.POPUP_SITE_URL + "/popup/feeds/")
                assert client.get(urlsplit(link.url).path).status_code == 200

    def test_the_dashboard_partial_lists_them_with_copy_buttons(self):
        popup = PopUpFactory(is_published=False)
        request = RequestFactory().get("/dashboard/popups/", HTTP_HOST="localhost")
        html = Template("{% load popup_social %}{% popup_feed_links popup %}").render(
            Context({"popup": popup, "request": request})
        )
        for link in feed_links(popup=popup, request=request):
            assert link.url.startswith("http://localhost/popup/feeds/")
            assert link.url in html
        assert html.count("data-copy=") == 6  # the four feeds, Meta's checkout URL, Google's
        assert '<code id="checkout_url_meta">http://localhost/popup/checkout-link/</code>' in html
        assert "http://localhost/popup/checkout-link/?products={id}&amp;utm_source=google" in html
        assert "never in feeds" in html  # a draft's feeds stay empty

        store = Template("{% load popup_social %}{% popup_feed_links %}").render(
            Context({"request": request})
        )
        assert feed_links(request=request)[0].url in store
        assert "never in feeds" not in store

    def test_the_dashboard_partial_names_the_platforms_in_the_merchants_language(self):
        request = RequestFactory().get("/dashboard/popups/", HTTP_HOST="localhost")
        with translation.override("fr"):
            html = Template("{% load popup_social %}{% popup_feed_links %}").render(
                Context({"request": request})
            )
        assert "Catalogue Meta (Facebook, Instagram)" in html
        assert "Google Merchant Center" in html  # a product's name
        assert "Meta catalogue" not in html


def test_presale_ship_date_in_the_past_falls_back_to_the_closing(client):
    presale = PopUpFactory(
        kind=PopUp.Kind.PRESALE,
        presale_goal_units=10,
        presale_ships_on=date(2020, 1, 1),
    )
    add(presale, create_product(price=Decimal("80"), image=True), units_offered=None)
    (item,) = feed(client, presale, "google")
    assert moment(item["availability_date"], "google") == minute(presale.closes_at)


def test_a_feed_speaks_its_pop_up_s_default_language_whatever_is_active(client):
    popup = popup_with_products(1, language="fr")
    feed_files_write(popup=popup)  # as the beat does, in the store's language
    channel = ET.fromstring(body(client.get(url_of(popup, "meta", "xml")))).find("channel")
    assert channel.findtext("description").startswith("Catalogue Meta (Facebook, Instagram)")
