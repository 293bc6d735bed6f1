from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.utils import timezone

from popup.core.selectors import popup_storefront
from popup.models import PopUp, PopUpProduct
from tests.factories import PopUpFactory, PopUpProductFactory, create_product, popup_with_products
from tests.popup.checkout.support import page_queries

pytestmark = pytest.mark.django_db


def add(popup, product, **terms):
    popup.range.add_product(product)
    return PopUpProduct.objects.create(popup=popup, product=product, **terms)


class TestState:
    def test_states_follow_the_clock_without_any_job(self):
        popup = popup_with_products(1)
        opens, closes = popup.opens_at, popup.closes_at
        before, during, after = opens - timedelta(seconds=1), opens, closes
        assert popup_storefront(popup=popup, now=before).state == PopUp.State.COMING_SOON
        assert popup_storefront(popup=popup, now=during).state == PopUp.State.LIVE
        assert popup_storefront(popup=popup, now=after).state == PopUp.State.CLOSED

    def test_unpublished_is_draft_whatever_the_time(self):
        popup = popup_with_products(1, is_published=False)
        assert popup_storefront(popup=popup).state == PopUp.State.DRAFT

    def test_sold_out_when_every_cap_is_reached(self):
        popup = PopUpFactory()
        terms = add(popup, create_product(), units_offered=3)
        PopUpProduct.objects.filter(pk=terms.pk).update(units_sold=3)
        storefront = popup_storefront(popup=popup)
        assert storefront.state == PopUp.State.SOLD_OUT
        assert storefront.units_left == 0

    def test_warehouse_stock_caps_units_left_below_the_offer(self):
        popup = PopUpFactory()
        add(popup, create_product(stock=4), units_offered=10)
        assert popup_storefront(popup=popup).items[0].units_left == 4

    def test_no_cap_and_untracked_stock_means_not_counted(self):
        popup = PopUpFactory()
        product = create_product()
        product.product_class.track_stock = False
        product.product_class.save()
        add(popup, product)
        storefront = popup_storefront(popup=popup)
        assert storefront.items[0].units_left is None
        assert storefront.units_left is None
        assert storefront.state == PopUp.State.LIVE


class TestPrices:
    def test_popup_price_wins_and_regular_price_is_kept_for_strikethrough(self):
        popup = PopUpFactory(kind=PopUp.Kind.CLEARANCE)
        add(popup, create_product(price=Decimal("40.00")), price=Decimal("25.00"))
        item = popup_storefront(popup=popup).items[0]
        assert (item.price, item.regular_price, item.is_discounted) == (
            Decimal("25.00"),
            Decimal("40.00"),
            True,
        )

    def test_display_order_is_the_merchants(self):
        popup = PopUpFactory()
        add(popup, create_product(title="B"), display_order=2)
        add(popup, create_product(title="A"), display_order=1)
        assert [item.title for item in popup_storefront(popup=popup).items] == ["A", "B"]


class TestDatabaseGuards:
    def test_inverted_schedule_is_refused_by_the_database(self):
        now = timezone.now()
        with pytest.raises(IntegrityError):
            PopUpFactory(opens_at=now, closes_at=now - timedelta(hours=1))

    def test_selling_beyond_the_offer_is_refused_by_the_database(self):
        terms = PopUpProductFactory(units_offered=2)
        with pytest.raises(IntegrityError):
            PopUpProduct.objects.filter(pk=terms.pk).update(units_sold=3)


class TestPages:
    def test_page_shows_the_shop(self, client):
        popup = PopUpFactory(title="Indigo scarves", kind=PopUp.Kind.CLEARANCE)
        add(
            popup,
            create_product(title="Scarf", price=Decimal("40")),
            price=Decimal("25"),
            units_offered=10,
        )
        html = client.get(f"/popup/{popup.slug}/").content.decode()
        assert "Indigo scarves" in html
        assert "Scarf" in html
        assert "€25.00" in html and "<del" in html and "€40.00" in html
        assert "10</strong> left" in html
        assert "Ends in" in html

    def test_coming_soon_counts_down_to_opening(self, client):
        popup = PopUpFactory(
            opens_at=timezone.now() + timedelta(days=3),
            closes_at=timezone.now() + timedelta(days=5),
        )
        html = client.get(f"/popup/{popup.slug}/").content.decode()
        assert "Coming soon" in html and "Opens in" in html and "2d 23h" in html

    def test_unknown_slug_is_404(self, client):
        assert client.get("/popup/no-such-drop/").status_code == 404
        assert client.get("/popup/no-such-drop/embed/").status_code == 404

    def test_drafts_are_invisible_to_the_public_and_previewed_by_staff(self, client, admin_client):
        popup = PopUpFactory(is_published=False)
        assert client.get(f"/popup/{popup.slug}/").status_code == 404
        assert client.get(f"/popup/{popup.slug}/embed/").status_code == 404
        response = admin_client.get(f"/popup/{popup.slug}/")
        assert response.status_code == 200
        assert "Draft preview" in response.content.decode()

    def test_full_page_cannot_be_framed(self, client):
        popup = PopUpFactory()
        response = client.get(f"/popup/{popup.slug}/")
        assert response["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]

    def test_embed_is_framable_only_by_allowed_origins(self, client):
        popup = PopUpFactory(allowed_embed_origins="https://linktr.ee\nhttps://*.myblog.com")
        response = client.get(f"/popup/{popup.slug}/embed/")
        assert "X-Frame-Options" not in response
        assert (
            "frame-ancestors 'self' https://linktr.ee https://*.myblog.com"
            in (response["Content-Security-Policy"])
        )

    def test_other_store_pages_stay_unframable(self, client):
        assert client.get("/").get("X-Frame-Options") == "DENY" or (
            client.get("/", follow=True).get("X-Frame-Options") == "DENY"
        )

    def test_only_our_own_scripts_may_run(self, client):
        popup = popup_with_products(2)
        response = client.get(f"/popup/{popup.slug}/")
        assert "script-src 'self'" in response["Content-Security-Policy"]
        html = response.content.decode()
        assert "https://js.stripe.com" not in html

    @pytest.mark.parametrize("path", ["", "embed/"])
    def test_query_count_does_not_grow_with_products(self, client, path):
        small, large = popup_with_products(5), popup_with_products(100)

        def queries(popup):
            return page_queries(client, f"/popup/{popup.slug}/{path}")

        queries(small)  # warm per-process caches (content types, site)
        assert queries(small) == queries(large)


class TestLoader:
    def test_loader_is_small_and_served_as_javascript(self, client):
        import gzip

        response = client.get("/popup/embed.js")
        assert response["Content-Type"].startswith("text/javascript")
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert len(gzip.compress(body, 9)) <= 2048
