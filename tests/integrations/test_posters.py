"""Printable QR posters: page sizes, a code that scans to the right URL, text that stays on the
page, the dashboard download and its cache."""

import re
from datetime import UTC, datetime
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from django.urls import reverse
from PIL import Image

from integrations.social.posters import (
    POSTER_LAYOUTS,
    poster_cache_key,
    poster_content_build,
    poster_fingerprint,
)
from popup.core.selectors import popup_storefront
from popup.models import Placement, PopUp, PopUpProduct
from tests.factories import PopUpFactory, create_product

pytestmark = pytest.mark.django_db

MM_PER_POINT = 25.4 / 72


def poster_path(popup, fmt: str) -> str:
    return reverse("popup-dashboard:popup-poster", kwargs={"pk": popup.pk, "fmt": fmt})


def download(client, popup, fmt: str = "png", size: str = "a4", placement=None):
    query = {"size": size} | ({"placement": placement.pk} if placement is not None else {})
    return client.get(poster_path(popup, fmt), query)


def png(response) -> Image.Image:
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(BytesIO(response.content))
    assert image.format == "PNG"
    return image.convert("RGB")


def pdf_page_mm(data: bytes) -> tuple[float, float]:
    """The size of the PDF's one page, in mm, read from its MediaBox."""
    assert data.startswith(b"%PDF-")
    (box,) = re.findall(rb"/MediaBox\s*\[\s*([-\d.\s]+)\]", data)
    left, bottom, right, top = (float(number) for number in box.split())
    return (right - left) * MM_PER_POINT, (top - bottom) * MM_PER_POINT


def pdf_picture(data: bytes) -> Image.Image:
    """The page's picture: the JPEG stream the PDF embeds."""
    return Image.open(BytesIO(data[data.index(b"\xff\xd8\xff") :])).convert("RGB")


def scanned(image: Image.Image) -> list[str]:
    """What a phone reads from the poster: the text of every QR code found on it."""
    return [
        code.text
        for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        if code.valid
    ]


def picture(colour: str, size=(1600, 900)) -> ContentFile:
    output = BytesIO()
    Image.new("RGB", size, colour).save(output, "PNG")
    return ContentFile(output.getvalue())


def add(popup, product, **terms):
    popup.range.add_product(product)
    return PopUpProduct.objects.create(popup=popup, product=product, **terms)


def content_of(popup, url="http://testserver/popup/x/"):
    storefront = popup_storefront(popup=popup)
    return poster_content_build(
        popup=popup, url=url, storefront=storefront, shop_name=settings.OSCAR_SHOP_NAME
    )


def is_blank(image: Image.Image, box) -> bool:
    """Nothing but white paper in `box`."""
    return image.crop(box).getextrema() == ((255, 255),) * 3


@pytest.fixture
def popup():
    popup = PopUpFactory(title="Indigo scarves", slug="indigo-scarves", accent_colour="#1e3a8a")
    add(popup, create_product(title="Scarf", price=Decimal("40.00")), price=Decimal("25.00"))
    return popup


class TestSizes:
    def test_a4_png_is_300_dpi_a4_portrait(self, admin_client, popup):
        image = png(download(admin_client, popup, "png", "a4"))
        assert image.size == (2480, 3508)
        dpi = Image.open(BytesIO(download(admin_client, popup, "png", "a4").content)).info["dpi"]
        assert [round(value) for value in dpi] == [300, 300]

    def test_square_png(self, admin_client, popup):
        assert png(download(admin_client, popup, "png", "square")).size == (2000, 2000)

    def test_a4_pdf_page_is_exactly_a4(self, admin_client, popup):
        response = download(admin_client, popup, "pdf", "a4")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        width, height = pdf_page_mm(response.content)
        assert width == pytest.approx(210, abs=0.01)
        assert height == pytest.approx(297, abs=0.01)
        assert pdf_picture(response.content).size == (2480, 3508)

    def test_square_pdf_page_is_20_cm(self, admin_client, popup):
        data = download(admin_client, popup, "pdf", "square").content
        assert pdf_page_mm(data) == (pytest.approx(200, abs=0.01), pytest.approx(200, abs=0.01))


class TestCode:
    def test_the_code_opens_the_pop_up_tagged_as_a_poster(self, admin_client, popup):
        image = png(download(admin_client, popup, "png", "a4"))
        expected = "http://testserver/popup/indigo-scarves/?utm_source=poster&utm_medium=qr"
        assert scanned(image) == [expected]

    def test_a_placement_poster_carries_its_short_link(self, admin_client, popup):
        placement = Placement.objects.create(popup=popup, name="Market stand")
        short_link = reverse("popup:short-link", kwargs={"code": placement.code})
        assert short_link == f"/popup/p/{placement.code}/"
        for size in POSTER_LAYOUTS:
            image = png(download(admin_client, popup, "png", size, placement=placement))
            assert scanned(image) == [f"http://testserver{short_link}"]

    def test_the_code_in_the_pdf_scans_too(self, admin_client, popup):
        data = download(admin_client, popup, "pdf", "square").content
        assert scanned(pdf_picture(data)) == [
            "http://testserver/popup/indigo-scarves/?utm_source=poster&utm_medium=qr"
        ]

    def test_the_short_link_lands_on_the_pop_up_with_the_placement(self, client, popup):
        placement = Placement.objects.create(popup=popup, name="Market stand")
        response = client.get(placement.get_absolute_url())
        assert response.status_code == 302
        assert response["Location"] == f"/popup/indigo-scarves/?pl={placement.code}"


class TestContent:
    def test_one_price_with_the_regular_price_it_undercuts(self, popup):
        content = content_of(popup)
        assert (content.price_text, content.regular_price_text) == ("€25.00", "€40.00")

    def test_different_prices_read_from_the_lowest(self, popup):
        add(popup, create_product(title="Mug", price=Decimal("30.00")))
        content = content_of(popup)
        assert content.price_text == "from €25.00"

    def test_no_strike_through_without_a_lower_pop_up_price(self):
        popup = PopUpFactory()
        add(popup, create_product(price=Decimal("30.00")))
        content = content_of(popup)
        assert (content.price_text, content.regular_price_text) == ("€30.00", "")

    def test_a_pre_sale_tells_its_goal_and_ship_date(self):
        popup = PopUpFactory(
            kind=PopUp.Kind.PRESALE, presale_goal_units=200, presale_ships_on=datetime(2031, 3, 1)
        )
        assert content_of(popup).note == "Pre-sale · goal 200 units · ships March 2031"

    def test_dates_are_told_in_the_store_time_zone(self):
        opens = datetime(2031, 3, 14, 9, 0, tzinfo=UTC)
        closes = datetime(2031, 3, 21, 17, 30, tzinfo=UTC)
        popup = PopUpFactory(opens_at=opens, closes_at=closes)
        store = ZoneInfo(settings.TIME_ZONE)
        content = content_of(popup)
        assert content.opens_text.startswith("Opens ")
        assert opens.astimezone(store).strftime("%H:%M") in content.opens_text
        assert "14 March 2031" in content.opens_text
        assert closes.astimezone(store).strftime("%H:%M") in content.closes_text
        assert "21 March 2031" in content.closes_text

    def test_the_url_is_written_short(self, popup):
        content = content_of(popup, url="https://shop.example.com/popup/p/ab3k9x2m/")
        assert content.url_label == "shop.example.com/popup/p/ab3k9x2m"


class TestLayout:
    @pytest.mark.parametrize("size", ["a4", "square"])
    @pytest.mark.parametrize(
        "title",
        [
            "Hand-dyed indigo scarves, wool blankets, ceramic mugs and candles " * 2,
            "W" * 120,  # one word wider than the page
        ],
    )
    def test_long_titles_stay_within_the_margins(self, admin_client, size, title):
        popup = PopUpFactory(title=title[:120], tagline="Dyed in small batches " * 7)
        add(popup, create_product(price=Decimal("1240.00")), price=Decimal("999.00"))
        add(popup, create_product(price=Decimal("12.00")))
        image = png(download(admin_client, popup, "png", size))
        layout = POSTER_LAYOUTS[size]
        below_picture = layout.hero_height + layout.margin // 6 + 1
        width, height, margin = layout.width, layout.height, layout.margin
        assert is_blank(image, (0, below_picture, margin, height))  # left margin
        assert is_blank(image, (width - margin, below_picture, width, height))  # right margin
        assert is_blank(image, (0, height - margin + 20, width, height))  # bottom margin
        assert scanned(image) == [
            f"http://testserver/popup/{popup.slug}/?utm_source=poster&utm_medium=qr"
        ]

    def test_without_a_hero_image_the_top_is_the_accent_colour(self, admin_client, popup):
        image = png(download(admin_client, popup, "png", "a4"))
        assert image.getpixel((2480 - 20, 20)) == (30, 58, 138)
        assert image.getpixel((2480 - 20, 980)) == (30, 58, 138)

    def test_the_hero_image_covers_the_top(self, admin_client, popup):
        popup.hero_image.save("hero.png", picture("#00ff00", size=(800, 1200)))
        image = png(download(admin_client, popup, "png", "square"))
        for point in ((5, 5), (1995, 5), (1000, 600)):
            red, green, blue = image.getpixel(point)
            assert green > 240 and red < 15 and blue < 15
        assert image.getpixel((1000, 630)) == (30, 58, 138)  # the accent band under it

    def test_an_unreadable_hero_image_is_left_out(self, admin_client, popup):
        popup.hero_image.save("hero.png", ContentFile(b"not a picture"))
        image = png(download(admin_client, popup, "png", "a4"))
        assert image.getpixel((2480 - 20, 20)) == (30, 58, 138)


class TestDownload:
    def test_a_named_attachment(self, admin_client, popup):
        response = download(admin_client, popup, "pdf", "a4")
        assert response["Content-Disposition"] == (
            'attachment; filename="indigo-scarves-poster-a4.pdf"'
        )
        placement = Placement.objects.create(popup=popup, name="Market stand")
        response = download(admin_client, popup, "png", "square", placement=placement)
        assert response["Content-Disposition"] == (
            'attachment; filename="indigo-scarves-poster-market-stand-square.png"'
        )

    def test_drafts_have_posters_too(self, admin_client):
        draft = PopUpFactory(is_published=False)
        assert png(download(admin_client, draft)).size == (2480, 3508)

    def test_anonymous_visitors_are_sent_to_log_in(self, client, popup):
        response = download(client, popup)
        assert response.status_code == 302
        assert response["Location"].startswith(f"{reverse('dashboard:login')}?next=")

    def test_customers_are_refused(self, client, popup):
        customer = get_user_model().objects.create_user(
            username="shopper", email="shopper@example.com", password="pw"
        )
        client.force_login(customer)
        assert download(client, popup).status_code == 403

    def test_a_placement_of_another_pop_up_is_not_found(self, admin_client, popup):
        elsewhere = Placement.objects.create(popup=PopUpFactory(), name="Elsewhere")
        assert download(admin_client, popup, placement=elsewhere).status_code == 404
        response = admin_client.get(poster_path(popup, "png"), {"placement": "x1"})
        assert response.status_code == 404

    def test_an_unknown_size_is_a_bad_request(self, admin_client, popup):
        response = admin_client.get(poster_path(popup, "png"), {"size": "a3"})
        assert response.status_code == 400
        assert "a4" in response.content.decode() and "square" in response.content.decode()

    def test_only_png_and_pdf(self, admin_client, popup):
        assert admin_client.get(f"/dashboard/popups/{popup.pk}/poster.gif").status_code == 404

    def test_an_unknown_pop_up_is_not_found(self, admin_client):
        assert admin_client.get("/dashboard/popups/999999/poster.png").status_code == 404


class TestCache:
    def test_a_poster_is_drawn_once_then_served_from_the_cache(self, admin_client, popup):
        first = download(admin_client, popup, "pdf", "a4")
        content = content_of(
            popup, url="http://testserver/popup/indigo-scarves/?utm_source=poster&utm_medium=qr"
        )
        key = poster_cache_key(
            fingerprint=poster_fingerprint(popup=popup, content=content), size="a4", fmt="pdf"
        )
        assert cache.get(key) == first.content
        assert download(admin_client, popup, "pdf", "a4").content == first.content

    def test_a_changed_pop_up_gets_a_new_poster(self, admin_client, popup):
        before = download(admin_client, popup, "png", "square").content
        popup.title = "Spring ceramics"
        popup.save()
        assert download(admin_client, popup, "png", "square").content != before

    def test_each_placement_has_its_own_poster(self, admin_client, popup):
        stand = Placement.objects.create(popup=popup, name="Market stand")
        window = Placement.objects.create(popup=popup, name="Shop window")
        first = download(admin_client, popup, "png", "square", placement=stand).content
        second = download(admin_client, popup, "png", "square", placement=window).content
        assert first != second


class TestLinks:
    def test_the_partial_links_the_four_posters(self, admin_client, popup):
        html = render_to_string(
            "popup/dashboard/partials/poster_links.html", {"popup": popup}
        ).replace("&amp;", "&")
        for fmt in ("pdf", "png"):
            for size in ("a4", "square"):
                href = f"{poster_path(popup, fmt)}?size={size}"
                assert f'href="{href}"' in html
                assert admin_client.get(href).status_code == 200

    def test_for_a_placement(self, admin_client, popup):
        placement = Placement.objects.create(popup=popup, name="Market stand")
        html = render_to_string(
            "popup/dashboard/partials/poster_links.html", {"popup": popup, "placement": placement}
        ).replace("&amp;", "&")
        hrefs = re.findall(r'href="([^"]+)"', html)
        assert len(hrefs) == 4
        assert all(href.endswith(f"&placement={placement.pk}") for href in hrefs)
