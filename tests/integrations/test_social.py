"""Social previews of a pop-up: the page's tags and JSON-LD, the share image, the oEmbed provider."""

import json
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from io import BytesIO
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from integrations.social.previews import share_card_build, share_image_cache_key
from popup.core.selectors import popup_storefront
from popup.models import PopUp, PopUpProduct
from tests.factories import PopUpFactory, create_product, popup_with_products

pytestmark = pytest.mark.django_db

SCHEMA = "https://schema.org/"


class HeadParser(HTMLParser):
    """The meta tags, links and JSON-LD blocks of a page, as a crawler reads them."""

    def __init__(self):
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: list[dict] = []
        self.json_ld: list[str] = []
        self.scripts = 0
        self._in_ld = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and ("property" in attrs or "name" in attrs):
            self.meta[attrs.get("property") or attrs["name"]] = attrs.get("content")
        elif tag == "link":
            self.links.append(attrs)
        elif tag == "script":
            self.scripts += 1
            self._in_ld = attrs.get("type") == "application/ld+json"
            if self._in_ld:
                self.json_ld.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_ld = False

    def handle_data(self, data):
        if self._in_ld:
            self.json_ld[-1] += data

    def link(self, rel: str, type_: str | None = None) -> dict:
        return next(
            link
            for link in self.links
            if link.get("rel") == rel and (type_ is None or link.get("type") == type_)
        )


def add(popup, product, **terms):
    popup.range.add_product(product)
    return PopUpProduct.objects.create(popup=popup, product=product, **terms)


def page(client, popup) -> HeadParser:
    response = client.get(f"/popup/{popup.slug}/")
    assert response.status_code == 200
    parser = HeadParser()
    parser.feed(response.content.decode())
    return parser


def products(parser: HeadParser) -> list[dict]:
    (block,) = parser.json_ld
    data = json.loads(block)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "ItemList"
    return [element["item"] for element in data["itemListElement"]]


def png(response) -> Image.Image:
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(BytesIO(response.content))
    assert image.format == "PNG"
    return image.convert("RGB")


def picture(colour: str, size=(1600, 900)) -> ContentFile:
    output = BytesIO()
    Image.new("RGB", size, colour).save(output, "PNG")
    return ContentFile(output.getvalue())


def day(moment) -> str:
    local, now = timezone.localtime(moment), timezone.localtime()
    text = f"{local.day} {local.strftime('%B')}"
    return text if local.year == now.year else f"{text} {local.year}"


class TestPageTags:
    def test_open_graph_and_twitter_tags_describe_the_popup(self, client):
        popup = PopUpFactory(title="Indigo scarves", tagline="Hand-dyed, 50 pieces only")
        add(popup, create_product(title="Scarf", price=Decimal("40")), price=Decimal("25"))
        head = page(client, popup)
        url = f"http://testserver/popup/{popup.slug}/"

        assert head.link("canonical")["href"] == url
        assert head.meta["og:type"] == "website"
        assert head.meta["og:title"] == "Indigo scarves"
        assert head.meta["og:description"] == "Hand-dyed, 50 pieces only"
        assert head.meta["og:url"] == url
        assert head.meta["og:site_name"] == "Atelier Nord"
        image = urlsplit(head.meta["og:image"])
        assert (image.scheme, image.netloc, image.path) == (
            "http",
            "testserver",
            f"/popup/{popup.slug}/share.png",
        )
        assert parse_qs(image.query)["v"][0]
        assert (head.meta["og:image:width"], head.meta["og:image:height"]) == ("1200", "630")
        assert "Indigo scarves" in head.meta["og:image:alt"]
        assert "€25.00" in head.meta["og:image:alt"]
        assert head.meta["twitter:card"] == "summary_large_image"
        assert head.meta["twitter:title"] == "Indigo scarves"
        assert head.meta["twitter:image"] == head.meta["og:image"]
        assert "robots" not in head.meta

    def test_the_advertised_share_image_is_served(self, client):
        popup = popup_with_products(2)
        response = client.get(page(client, popup).meta["og:image"])
        assert png(response).size == (1200, 630)

    def test_description_falls_back_to_the_plain_text_description(self, client):
        popup = PopUpFactory(tagline="", description="<p>Twelve <b>wool</b> blankets.</p>")
        assert page(client, popup).meta["og:description"] == "Twelve wool blankets."

    def test_image_version_changes_with_what_the_image_shows(self, client):
        popup = popup_with_products(1)
        before = page(client, popup).meta["og:image"]
        assert page(client, popup).meta["og:image"] == before
        popup.title = "Spring drop"
        popup.save()
        assert page(client, popup).meta["og:image"] != before

    def test_oembed_discovery_link_points_at_the_provider(self, client):
        popup = PopUpFactory(title="Indigo scarves")
        link = page(client, popup).link("alternate", "application/json+oembed")
        assert link["title"] == "Indigo scarves"
        href = urlsplit(link["href"])
        assert (href.scheme, href.netloc, href.path) == ("http", "testserver", "/popup/oembed")
        assert parse_qs(href.query) == {
            "url": [f"http://testserver/popup/{popup.slug}/"],
            "format": ["json"],
        }
        response = client.get(link["href"])
        assert response.status_code == 200
        assert response.json()["title"] == "Indigo scarves"

    def test_staff_draft_preview_is_not_indexed(self, admin_client):
        popup = PopUpFactory(is_published=False)
        assert "noindex" in page(admin_client, popup).meta["robots"]


class TestJsonLd:
    def test_products_and_offers(self, client):
        popup = PopUpFactory()
        add(
            popup,
            create_product(title="Scarf", price=Decimal("40"), image=True, upc="SCARF-1"),
            price=Decimal("25"),
            units_offered=7,
            display_order=1,
        )
        add(popup, create_product(title="Hat", price=Decimal("30")), display_order=2)
        scarf, hat = products(page(client, popup))
        url = f"http://testserver/popup/{popup.slug}/"

        assert scarf["@type"] == "Product"
        assert scarf["name"] == "Scarf"
        assert scarf["sku"] == "SCARF-1"
        assert scarf["url"] == url
        assert scarf["image"][0].startswith("http://testserver/media/")
        offer = scarf["offers"]
        assert offer["@type"] == "Offer"
        assert (offer["price"], offer["priceCurrency"]) == ("25.00", "EUR")
        assert offer["availability"] == SCHEMA + "InStock"
        assert offer["url"] == url
        opens, closes = timezone.localtime(popup.opens_at), timezone.localtime(popup.closes_at)
        assert offer["validFrom"] == opens.isoformat()
        assert offer["priceValidUntil"] == closes.date().isoformat()
        assert offer["inventoryLevel"]["value"] == 7
        assert hat["name"] == "Hat"
        assert hat["offers"]["price"] == "30.00"
        assert "image" not in hat

    def test_a_product_without_a_price_has_no_offer(self, client):
        popup = PopUpFactory()
        product = create_product(title="Prototype")
        product.stockrecords.all().delete()
        add(popup, product)
        (item,) = products(page(client, popup))
        assert item["name"] == "Prototype"
        assert "offers" not in item

    @pytest.mark.parametrize(
        ("kind", "schedule", "sold", "availability"),
        [
            (PopUp.Kind.LIMITED, "live", 0, "InStock"),
            (PopUp.Kind.LIMITED, "live", 5, "SoldOut"),
            (PopUp.Kind.PRESALE, "live", 0, "PreOrder"),
            (PopUp.Kind.LIMITED, "coming_soon", 0, "PreOrder"),
            (PopUp.Kind.LIMITED, "closed", 0, "Discontinued"),
            (PopUp.Kind.CLEARANCE, "closed", 0, "Discontinued"),
            (PopUp.Kind.SEASONAL, "closed", 0, "OutOfStock"),
            (PopUp.Kind.PRESALE, "closed", 0, "OutOfStock"),
            (PopUp.Kind.SEASONAL, "closed", 5, "SoldOut"),
        ],
    )
    def test_availability_follows_state_and_stock(self, client, kind, schedule, sold, availability):
        now = timezone.now()
        opens, closes = {
            "live": (now - timedelta(hours=1), now + timedelta(days=1)),
            "coming_soon": (now + timedelta(days=1), now + timedelta(days=2)),
            "closed": (now - timedelta(days=2), now - timedelta(days=1)),
        }[schedule]
        popup = PopUpFactory(kind=kind, opens_at=opens, closes_at=closes)
        terms = add(popup, create_product(), units_offered=5)
        PopUpProduct.objects.filter(pk=terms.pk).update(units_sold=sold)
        (item,) = products(page(client, popup))
        assert item["offers"]["availability"] == SCHEMA + availability

    def test_a_hostile_product_title_cannot_break_out_of_the_script(self, client):
        title = "</script><script>alert(1)</script>"
        popup = PopUpFactory(title="Drop & <friends>")
        add(popup, create_product(title=title))
        response = client.get(f"/popup/{popup.slug}/")
        html = response.content.decode()
        assert "<script>alert(1)" not in html
        head = HeadParser()
        head.feed(html)
        # The JSON-LD block, the scripts' words (#popup-text) and the page's own live.js,
        # basket.js, feedback.js and popup.js.
        assert head.scripts == 6
        (item,) = products(head)
        assert item["name"] == title
        assert json.loads(head.json_ld[0])["name"] == "Drop & <friends>"


class TestShareImage:
    def test_a_1200_by_630_png_with_a_drawing_on_it(self, client):
        popup = popup_with_products(2)
        response = client.get(f"/popup/{popup.slug}/share.png")
        image = png(response)
        assert image.size == (1200, 630)
        assert len(image.getcolors(maxcolors=1_000_000)) > 20  # text, not a flat fill
        assert response["Cache-Control"] == "public, max-age=300"
        assert response["ETag"]

    def test_hero_image_covers_the_card(self, client):
        popup = PopUpFactory(accent_colour="#c2410c")
        popup.hero_image.save("hero.png", picture("#00ff00"))
        image = png(client.get(f"/popup/{popup.slug}/share.png"))
        red, green, blue = image.getpixel((1190, 10))  # a corner without text, lightly shaded
        assert green > 150 and red < 40 and blue < 40

    def test_without_hero_the_first_product_photo_is_shown(self, client):
        popup = PopUpFactory(accent_colour="#c2410c")
        add(popup, create_product(title="Plain", price=Decimal("10")), display_order=1)
        add(popup, create_product(title="Pictured", image=True), display_order=2)
        image = png(client.get(f"/popup/{popup.slug}/share.png"))
        red, green, blue = image.getpixel((1190, 315))  # Oscar's factory image is a blue JPEG
        assert blue > 240 and red < 10 and green < 10
        assert image.getpixel((10, 315)) == (0xC2, 0x41, 0x0C)  # the accent colour

    def test_a_changed_title_draws_a_new_image(self, client):
        popup = popup_with_products(1)
        first = client.get(f"/popup/{popup.slug}/share.png")
        popup.title = "A completely different title"
        popup.save()
        second = client.get(f"/popup/{popup.slug}/share.png")
        assert second["ETag"] != first["ETag"]
        assert second.content != first.content

    def test_a_sale_draws_a_new_image(self, client):
        popup = popup_with_products(1)
        first = client.get(f"/popup/{popup.slug}/share.png")
        PopUpProduct.objects.filter(popup=popup).update(units_sold=3)
        second = client.get(f"/popup/{popup.slug}/share.png")
        assert second["ETag"] != first["ETag"]

    def test_an_unchanged_popup_is_served_from_the_cache(self, client):
        popup = popup_with_products(1)
        first = client.get(f"/popup/{popup.slug}/share.png")
        fingerprint = first["ETag"].strip('"').rsplit("-", 1)[0]
        key = share_image_cache_key(fingerprint=fingerprint, width=1200)
        assert cache.get(key) == first.content
        # Whatever is cached for this content is what is served: nothing is drawn again.
        marker = BytesIO()
        Image.new("RGB", (1200, 630), "black").save(marker, "PNG")
        cache.set(key, marker.getvalue())
        second = client.get(f"/popup/{popup.slug}/share.png")
        assert second["ETag"] == first["ETag"]
        assert second.content == marker.getvalue()

    def test_if_none_match_gets_304(self, client):
        popup = popup_with_products(1)
        etag = client.get(f"/popup/{popup.slug}/share.png")["ETag"]
        response = client.get(f"/popup/{popup.slug}/share.png", headers={"if-none-match": etag})
        assert response.status_code == 304
        assert response.content == b""
        assert response["ETag"] == etag
        assert response["Cache-Control"] == "public, max-age=300"
        stale = client.get(f"/popup/{popup.slug}/share.png", headers={"if-none-match": '"old"'})
        assert stale.status_code == 200

    def test_smaller_widths_keep_the_proportions(self, client):
        popup = popup_with_products(1)
        assert png(client.get(f"/popup/{popup.slug}/share.png?width=480")).size == (480, 252)
        assert png(client.get(f"/popup/{popup.slug}/share.png?width=500")).size == (480, 252)
        assert png(client.get(f"/popup/{popup.slug}/share.png?width=²")).size == (1200, 630)

    def test_drafts_are_hidden_from_the_public_and_previewed_privately_by_staff(
        self, client, admin_client
    ):
        popup = PopUpFactory(is_published=False)
        assert client.get(f"/popup/{popup.slug}/share.png").status_code == 404
        response = admin_client.get(f"/popup/{popup.slug}/share.png")
        assert png(response).size == (1200, 630)
        assert "private" in response["Cache-Control"]

    def test_unknown_slug_is_404(self, client):
        assert client.get("/popup/no-such-drop/share.png").status_code == 404


class TestShareCard:
    """What the share image writes, in words."""

    def card(self, popup):
        return share_card_build(storefront=popup_storefront(popup=popup), shop_name="Atelier Nord")

    def test_live_with_a_cap_shows_the_lowest_price_and_units_left(self):
        popup = PopUpFactory(title="Indigo scarves")
        add(popup, create_product(price=Decimal("40")), price=Decimal("25"), units_offered=4)
        add(popup, create_product(price=Decimal("60")), units_offered=3)
        card = self.card(popup)
        assert (card.title, card.price_text, card.status_text, card.shop_name) == (
            "Indigo scarves",
            "from €25.00",
            "7 left",
            "Atelier Nord",
        )

    def test_a_single_price_is_not_a_from_price(self):
        popup = PopUpFactory()
        add(popup, create_product(price=Decimal("40")))
        assert self.card(popup).price_text == "€40.00"

    def test_coming_soon_shows_the_opening_day(self):
        opens = timezone.now() + timedelta(days=3)
        popup = PopUpFactory(opens_at=opens, closes_at=opens + timedelta(days=2))
        add(popup, create_product())
        assert self.card(popup).status_text == f"Opens {day(opens)}"

    def test_closed_shows_the_end_day(self):
        closes = timezone.now() - timedelta(days=1)
        popup = PopUpFactory(opens_at=closes - timedelta(days=2), closes_at=closes)
        add(popup, create_product())
        assert self.card(popup).status_text == f"Ended {day(closes)}"

    def test_sold_out(self):
        popup = PopUpFactory()
        terms = add(popup, create_product(), units_offered=2)
        PopUpProduct.objects.filter(pk=terms.pk).update(units_sold=2)
        assert self.card(popup).status_text == "Sold out"


class TestOEmbed:
    def oembed(self, client, url, **params):
        return client.get("/popup/oembed", {"url": url, "format": "json", **params})

    def test_a_popup_page_is_embedded_as_a_rich_iframe(self, client):
        popup = PopUpFactory(title="Indigo scarves")
        response = self.oembed(client, f"http://testserver/popup/{popup.slug}/")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        data = response.json()
        assert data["type"] == "rich"
        assert data["version"] == "1.0"
        assert data["title"] == "Indigo scarves"
        assert data["provider_name"] == "Atelier Nord"
        assert data["provider_url"] == "http://testserver/"
        assert data["cache_age"] > 0
        iframe = HTMLParser()
        attrs = {}
        iframe.handle_starttag = lambda tag, a: attrs.update(dict(a), tag=tag)
        iframe.feed(data["html"])
        assert attrs["tag"] == "iframe"
        assert attrs["src"] == f"http://testserver/popup/{popup.slug}/embed/"
        assert (int(attrs["width"]), int(attrs["height"])) == (data["width"], data["height"])
        assert "Indigo scarves" in attrs["title"]
        assert client.get(attrs["src"]).status_code == 200

    def test_the_thumbnail_is_the_share_image(self, client):
        popup = popup_with_products(1)
        data = self.oembed(client, f"http://testserver/popup/{popup.slug}/").json()
        assert urlsplit(data["thumbnail_url"]).path == f"/popup/{popup.slug}/share.png"
        image = png(client.get(data["thumbnail_url"]))
        assert image.size == (data["thumbnail_width"], data["thumbnail_height"]) == (1200, 630)

    def test_the_embed_page_url_works_too(self, client):
        popup = PopUpFactory(title="Indigo scarves")
        response = self.oembed(client, f"http://testserver/popup/{popup.slug}/embed/")
        assert response.status_code == 200
        assert response.json()["title"] == "Indigo scarves"

    def test_maxwidth_and_maxheight_are_honoured(self, client):
        popup = popup_with_products(1)
        url = f"http://testserver/popup/{popup.slug}/"
        data = self.oembed(client, url, maxwidth=300, maxheight=400).json()
        assert data["width"] <= 300 and data["height"] <= 400
        assert f'width="{data["width"]}"' in data["html"]
        assert data["thumbnail_width"] <= 300 and data["thumbnail_height"] <= 400
        thumbnail = png(client.get(data["thumbnail_url"]))
        assert thumbnail.size == (data["thumbnail_width"], data["thumbnail_height"])

        tiny = self.oembed(client, url, maxwidth=100).json()
        assert tiny["width"] <= 100
        assert "thumbnail_url" not in tiny  # no thumbnail fits: none is offered

    def test_a_bad_maxwidth_is_400(self, client):
        popup = PopUpFactory()
        response = self.oembed(client, f"http://testserver/popup/{popup.slug}/", maxwidth="wide")
        assert response.status_code == 400
        assert "maxwidth" in response.content.decode()

    def test_foreign_host_is_404(self, client):
        popup = PopUpFactory()
        assert self.oembed(client, f"http://evil.example/popup/{popup.slug}/").status_code == 404

    def test_unknown_slug_is_404(self, client):
        assert self.oembed(client, "http://testserver/popup/no-such-drop/").status_code == 404

    def test_other_pages_of_the_shop_are_404(self, client):
        assert self.oembed(client, "http://testserver/popup/embed.js").status_code == 404
        assert self.oembed(client, "http://testserver/").status_code == 404
        assert self.oembed(client, "javascript:alert(1)").status_code == 404
        assert self.oembed(client, "http://[::1/popup/").status_code == 404

    def test_draft_is_404(self, client):
        popup = PopUpFactory(is_published=False)
        assert self.oembed(client, f"http://testserver/popup/{popup.slug}/").status_code == 404

    def test_xml_is_not_implemented(self, client):
        popup = PopUpFactory()
        url = f"http://testserver/popup/{popup.slug}/"
        assert client.get("/popup/oembed", {"url": url, "format": "xml"}).status_code == 501

    def test_missing_url_is_400_with_a_reason(self, client):
        response = client.get("/popup/oembed", {"format": "json"})
        assert response.status_code == 400
        assert "url" in response.content.decode()


def test_crawlers_get_the_pop_up_s_language_and_each_language_its_own_tags_and_image(client):
    popup = popup_with_products(2)
    url = f"http://testserver/popup/{popup.slug}/"
    parser = page(client, popup)  # a crawler asks for no language
    assert (parser.meta["og:locale"], parser.meta["og:locale:alternate"]) == ("en_GB", "fr_FR")
    alternates = {link["hreflang"]: link["href"] for link in parser.links if "hreflang" in link}
    assert alternates == {
        "en-gb": f"{url}?lang=en-gb",
        "fr": f"{url}?lang=fr",
        "x-default": url,
    }
    english = urlsplit(parser.meta["og:image"])
    assert parse_qs(english.query)["lang"] == ["en-gb"]

    response = client.get(f"/popup/{popup.slug}/?lang=fr")
    asked = HeadParser()
    asked.feed(response.content.decode())
    assert asked.link("canonical")["href"] == f"{url}?lang=fr"  # an alternate is its own canonical
    assert asked.meta["og:url"] == url

    popup.language = "fr"
    popup.save()
    parser = page(client, popup)
    assert (parser.meta["og:locale"], parser.meta["og:locale:alternate"]) == ("fr_FR", "en_GB")
    assert parser.meta["og:url"] == url  # one address to share, whatever the language
    french = urlsplit(parser.meta["og:image"])
    assert parse_qs(french.query)["lang"] == ["fr"]
    assert "40,00\u00a0€" in parser.meta["og:image:alt"]  # as the image draws it

    images = {
        language: client.get(f"{split.path}?{split.query}")
        for language, split in (("en", english), ("fr", french))
    }
    assert images["en"]["ETag"] != images["fr"]["ETag"]  # "€40.00" and "40,00 €" are drawn
    assert png(images["fr"]).size == png(images["en"]).size
