import html
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from oscar.core.loading import get_model
from PIL import Image

from popup.models import PopUp, PopUpProduct
from tests.factories import PopUpFactory, RangeFactory, create_product, popup_with_products
from tests.popup.dashboard.support import (
    CREATE_URL,
    LIST_URL,
    detail_url,
    edit_url,
    errors_of,
    field,
    form_data,
    jpeg,
    local,
    rows_data,
    terms_data,
)

Range = get_model("offer", "Range")

pytestmark = pytest.mark.django_db


class TestAccess:
    def test_anonymous_visitors_are_sent_to_log_in(self, client):
        response = client.get(LIST_URL)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('dashboard:login')}?next={LIST_URL}"

    def test_customers_are_refused(self, client):
        customer = get_user_model().objects.create_user(
            username="shopper", email="shopper@example.com", password="pw"
        )
        client.force_login(customer)
        popup = PopUpFactory()
        for url in (LIST_URL, CREATE_URL, detail_url(popup), edit_url(popup)):
            assert client.get(url).status_code == 403

    def test_the_dashboard_menu_leads_here(self, admin_client):
        response = admin_client.get(reverse("dashboard:index"))
        assert f'href="{LIST_URL}"' in response.content.decode()


class TestList:
    def test_every_pop_up_with_its_state_kind_and_units_left(self, admin_client):
        now = timezone.now()
        popup_with_products(2, title="Live drop", units_offered=5)
        PopUpFactory(title="Draft drop", is_published=False)
        PopUpFactory(
            title="Next drop", opens_at=now + timedelta(days=2), closes_at=now + timedelta(days=3)
        )
        PopUpFactory(
            title="Old drop", opens_at=now - timedelta(days=3), closes_at=now - timedelta(days=2)
        )
        sold_out = popup_with_products(1, title="Gone drop", units_offered=1)
        sold_out.product_terms.update(units_sold=1)

        response = admin_client.get(LIST_URL)

        rows = {row.popup.title: row for row in response.context["rows"]}
        assert {title: row.state for title, row in rows.items()} == {
            "Live drop": PopUp.State.LIVE,
            "Draft drop": PopUp.State.DRAFT,
            "Next drop": PopUp.State.COMING_SOON,
            "Old drop": PopUp.State.CLOSED,
            "Gone drop": PopUp.State.SOLD_OUT,
        }
        assert rows["Live drop"].units_left == 10
        page = response.content.decode()
        for label in ("Live", "Draft", "Coming soon", "Closed", "Sold out", "Limited series"):
            assert label in page
        assert f'href="{detail_url(rows["Live drop"].popup)}"' in page
        assert f'href="{rows["Live drop"].popup.get_absolute_url()}"' in page

    @pytest.mark.parametrize(
        ("state", "expected"),
        [
            (PopUp.State.LIVE, ["Live drop"]),
            (PopUp.State.SOLD_OUT, ["Gone drop"]),
            (PopUp.State.DRAFT, ["Draft drop"]),
            (PopUp.State.COMING_SOON, []),
        ],
    )
    def test_filter_by_state(self, admin_client, state, expected):
        popup_with_products(1, title="Live drop")
        gone = popup_with_products(1, title="Gone drop", units_offered=1)
        gone.product_terms.update(units_sold=1)
        PopUpFactory(title="Draft drop", is_published=False)
        response = admin_client.get(LIST_URL, {"state": state})
        assert [row.popup.title for row in response.context["rows"]] == expected

    def test_the_list_reads_french_for_a_french_merchant(self, admin_client):
        popup_with_products(1, title="Live drop", units_offered=5)
        PopUpFactory(title="Draft drop", is_published=False)
        with translation.override("fr"):
            page = " ".join(
                admin_client.get(LIST_URL, HTTP_ACCEPT_LANGUAGE="fr").content.decode().split()
            )
        for french in (
            "Tableau de bord",  # Oscar's own French
            "Créer un pop-up",
            "Tous les pop-ups",
            "Ouverture",
            "Unités restantes",
            ">En cours<",
            ">Brouillon<",
            "Série limitée",
            "Tous les statuts",
            "Produits, aperçu et intégration",
        ):
            assert french in page, french
        for english in ("Create new pop-up", "All pop-ups", "Units left", "Limited series"):
            assert english not in page, english

    def test_filter_by_kind_and_title(self, admin_client):
        PopUpFactory(title="Winter sale", kind=PopUp.Kind.CLEARANCE)
        PopUpFactory(title="Winter drop", kind=PopUp.Kind.LIMITED)
        response = admin_client.get(LIST_URL, {"kind": "clearance", "q": "winter"})
        assert [row.popup.title for row in response.context["rows"]] == ["Winter sale"]

    def test_queries_do_not_grow_with_products(self, admin_client):
        def queries():
            with CaptureQueriesContext(connection) as context:
                assert admin_client.get(LIST_URL).status_code == 200
            return len(context.captured_queries)

        popup_with_products(2)
        queries()  # warm per-process caches
        before = queries()
        PopUp.objects.get().range.add_product(create_product(title="One more"))
        assert queries() == before


class TestCreate:
    def test_create_with_an_existing_range(self, admin_client):
        product_range = RangeFactory(name="Scarves")
        scarf = create_product(title="Scarf")
        product_range.add_product(scarf)

        response = admin_client.post(CREATE_URL, form_data(range=product_range.pk))

        popup = PopUp.objects.get()
        assert response.status_code == 302
        assert response["Location"] == detail_url(popup)
        assert (popup.title, popup.slug, popup.range) == (
            "Indigo scarves",
            "indigo-scarves",
            product_range,
        )
        assert popup.opens_at == local(1) and popup.closes_at == local(8)
        assert (popup.accent_colour, popup.per_customer_limit) == ("#1e3a8a", 2)
        assert popup.is_published is False
        assert list(popup.product_terms.values_list("product", flat=True)) == [scarf.pk]

    def test_create_a_new_range_from_products(self, admin_client):
        scarf, tote = create_product(title="Scarf"), create_product(title="Tote")
        data = form_data(slug="scarves", **rows_data([(scarf, "", ""), (tote, "", "")], blank=3))
        admin_client.post(CREATE_URL, data)
        popup = PopUp.objects.get(slug="scarves")
        assert popup.range.name == "Pop-up: Indigo scarves"
        assert set(popup.range.all_products()) == {scarf, tote}
        assert popup.product_terms.count() == 2
        assert popup.owns_range is True

    def test_the_form_shows_times_in_the_store_time_zone(self, admin_client):
        popup = PopUpFactory(opens_at=local(3, hour=9), closes_at=local(4, hour=18))
        page = admin_client.get(edit_url(popup)).content.decode()
        assert 'type="datetime-local"' in page
        assert f'value="{field(local(3, hour=9))}"' in page
        assert 'type="color"' in page

    def test_the_edit_page_uses_oscars_product_lookup(self, admin_client):
        page = admin_client.get(edit_url(PopUpFactory())).content.decode()
        assert f'data-ajax-url="{reverse("dashboard:catalogue-product-lookup")}"' in page
        assert "Embedding and contact" in page

    @pytest.mark.parametrize(
        ("overrides", "error"),
        [
            (
                {"opens_at": field(local(3)), "closes_at": field(local(2))},
                "The pop-up must close after it opens.",
            ),
            ({"opens_at": "tomorrow"}, "Enter a valid date/time."),
            ({"title": ""}, "This field is required."),
            ({"slug": "embed"}, "“embed” is reserved, choose another slug."),
            ({"slug": "Not a slug!"}, "Enter a valid “slug”"),
            ({"accent_colour": "orange"}, "Use a colour like #c2410c."),
            (
                {"allowed_embed_origins": "linktr.ee/me\nftp://files.example.com"},
                "Not an origin: linktr.ee/me, ftp://files.example.com.",
            ),
            (
                {"allowed_embed_origins": "https://linktr.ee:port"},
                "Not an origin: https://linktr.ee:port.",
            ),
            ({"whatsapp_number": "06 12"}, "International format, e.g. +33612345678."),
            ({"instagram_username": "me!"}, "Letters, digits, dots, underscores."),
            ({"messenger_username": "my page"}, "Letters, digits and dots only."),
            ({"per_customer_limit": "-1"}, "Ensure this value is greater than or equal to 0."),
            ({"kind": "flash"}, "Select a valid choice."),
            ({"range": ""}, "Pick the pop-up's products here, or choose an existing range."),
        ],
    )
    def test_invalid_input_is_a_form_error(self, admin_client, overrides, error):
        product_range = RangeFactory()
        data = form_data(range=product_range.pk)
        data.update(overrides)
        response = admin_client.post(CREATE_URL, data)
        assert response.status_code == 200
        assert error in errors_of(response)
        assert not PopUp.objects.exists()

    def test_a_pasted_page_address_counts_as_its_origin(self, admin_client):
        origins = "https://www.instagram.com/atelier.nord/\nhttps://*.myblog.com:8443/shop?x=1"
        data = form_data(range=RangeFactory().pk, allowed_embed_origins=origins)
        admin_client.post(CREATE_URL, data)
        assert PopUp.objects.get().allowed_embed_origins == (
            "https://www.instagram.com\nhttps://*.myblog.com:8443"
        )

    def test_range_and_products_at_once_is_refused(self, admin_client):
        data = form_data(range=RangeFactory().pk, **rows_data([(create_product(), "5", "")]))
        response = admin_client.post(CREATE_URL, data)
        assert "Pick an existing range or products for a new range, not both." in errors_of(
            response
        )

    def test_slug_already_taken(self, admin_client):
        PopUpFactory(slug="scarves")
        response = admin_client.post(CREATE_URL, form_data(range=RangeFactory().pk, slug="scarves"))
        assert "Pop-up with this Slug already exists." in errors_of(response)

    def test_empty_slug_comes_from_the_title_and_stays_unique(self, admin_client):
        PopUpFactory(slug="indigo-scarves")
        admin_client.post(CREATE_URL, form_data(range=RangeFactory().pk))
        assert PopUp.objects.filter(slug="indigo-scarves-2").exists()

    def test_daylight_saving_gap_is_a_form_error_not_a_crash(self, admin_client):
        response = admin_client.post(
            CREATE_URL,
            form_data(range=RangeFactory().pk, opens_at="2031-03-30T02:30"),
        )
        assert response.status_code == 200
        assert "couldn’t be interpreted in time zone Europe/Paris" in errors_of(response)


class TestOverlappingSchedules:
    @pytest.fixture
    def scarf_drop(self):
        scarf = create_product(title="Silk scarf")
        popup = PopUpFactory(title="Winter drop", opens_at=local(2), closes_at=local(6))
        popup.range.add_product(scarf)
        return popup

    def test_publishing_over_another_published_pop_up_is_refused(self, admin_client, scarf_drop):
        response = admin_client.post(
            CREATE_URL, form_data(range=scarf_drop.range.pk, publishing="scheduled", slug="again")
        )
        text = errors_of(response)
        assert "“Silk scarf” is also in the published pop-up “Winter drop”" in text
        assert not PopUp.objects.filter(slug="again").exists()

    def test_also_for_a_new_range_of_the_same_product(self, admin_client, scarf_drop):
        scarf = scarf_drop.range.all_products().get()
        data = form_data(publishing="scheduled", slug="again", **rows_data([(scarf, "5", "")]))
        response = admin_client.post(CREATE_URL, data)
        assert "“Silk scarf” is also in the published pop-up “Winter drop”" in errors_of(response)
        assert not PopUp.objects.filter(slug="again").exists()

    def test_a_draft_may_overlap(self, admin_client, scarf_drop):
        admin_client.post(CREATE_URL, form_data(range=scarf_drop.range.pk, slug="draft"))
        assert PopUp.objects.get(slug="draft").is_published is False

    def test_a_following_window_may_be_published(self, admin_client, scarf_drop):
        data = form_data(
            range=scarf_drop.range.pk,
            publishing="scheduled",
            slug="next",
            opens_at=field(local(6)),
            closes_at=field(local(9)),
        )
        admin_client.post(CREATE_URL, data)
        assert PopUp.objects.get(slug="next").is_published is True

    def test_moving_a_published_pop_up_into_the_other_window_is_refused(
        self, admin_client, scarf_drop
    ):
        later = PopUpFactory(range=scarf_drop.range, opens_at=local(10), closes_at=local(12))
        data = form_data(
            title=later.title,
            slug=later.slug,
            range=later.range.pk,
            is_published="on",
            opens_at=field(local(5)),
        )
        data["closes_at"] = field(local(12))
        response = admin_client.post(edit_url(later), data)
        assert "also in the published pop-up “Winter drop”" in errors_of(response)
        later.refresh_from_db()
        assert later.opens_at == local(10)

    def test_the_publish_button_rechecks(self, admin_client, scarf_drop):
        draft = PopUpFactory(
            range=scarf_drop.range, is_published=False, opens_at=local(3), closes_at=local(4)
        )
        response = admin_client.post(
            reverse("popup-dashboard:popup-publish", kwargs={"pk": draft.pk}), follow=True
        )
        assert "also in the published pop-up “Winter drop”" in errors_of(response)
        draft.refresh_from_db()
        assert draft.is_published is False

    def test_publish_and_unpublish(self, admin_client):
        draft = PopUpFactory(is_published=False)
        url = reverse("popup-dashboard:popup-publish", kwargs={"pk": draft.pk})
        admin_client.post(url, {"action": "publish"})
        draft.refresh_from_db()
        assert draft.is_published is True
        admin_client.post(url, {"action": "unpublish"})
        draft.refresh_from_db()
        assert draft.is_published is False


class TestHeroImage:
    def post(self, admin_client, image):
        data = form_data(range=RangeFactory().pk)
        data["hero_image"] = image
        return admin_client.post(CREATE_URL, data)

    def test_a_jpeg_is_stored(self, admin_client):
        self.post(admin_client, jpeg())
        popup = PopUp.objects.get()
        assert popup.hero_image.name.startswith("popup/hero/hero")
        with Image.open(popup.hero_image) as image:
            assert image.size == (1200, 630)

    def test_a_wide_image_is_scaled_down(self, admin_client):
        self.post(admin_client, jpeg(size=(3600, 1800)))
        with Image.open(PopUp.objects.get().hero_image) as image:
            assert image.size == (2400, 1200)

    @pytest.mark.parametrize(
        ("upload", "error"),
        [
            (lambda: jpeg(image_format="GIF", name="hero.gif"), "GIF images are not accepted"),
            (lambda: jpeg(image_format="BMP", name="hero.jpg"), "BMP images are not accepted"),
            (lambda: jpeg(size=(800, 300)), "800×300 px; it must be at least 600×315 px"),
            (lambda: SimpleUploadedFile("hero.png", b"not really"), "not an image we can read"),
            (
                lambda: SimpleUploadedFile("hero.jpg", jpeg().read() + b"\0" * 8 * 2**20),
                "the limit is 8 MB",
            ),
        ],
    )
    def test_refused_images(self, admin_client, upload, error):
        response = self.post(admin_client, upload())
        assert response.status_code == 200
        assert error in errors_of(response)
        assert not PopUp.objects.exists()


class TestDetailPage:
    def test_preview_public_link_and_snippets(self, admin_client):
        popup = popup_with_products(1, title="Rock & roll", slug="rock-roll")
        response = admin_client.get(detail_url(popup))
        page = response.content.decode()
        assert f'<iframe id="popup_preview" src="{popup.get_embed_url()}"' in page
        assert 'href="http://testserver/popup/rock-roll/"' in page
        script = (
            '<script src="http://testserver/popup/embed.js" data-popup="rock-roll" async></script>'
        )
        link = '<a data-popup-link href="http://testserver/popup/rock-roll/">Rock &amp; roll</a>'
        # Shown as text to copy, never run in the dashboard itself.
        assert html.escape(script) in page
        assert html.escape(link) in page
        assert script not in page
        assert page.count('data-copy="#snippet_') == 2
        assert 'id="no_embed_origins"' not in page

    def test_the_preview_is_framable_from_the_dashboard_even_for_drafts(self, admin_client):
        popup = PopUpFactory(is_published=False)
        response = admin_client.get(popup.get_embed_url())
        assert response.status_code == 200
        assert "frame-ancestors 'self'" in response["Content-Security-Policy"]

    def test_warns_that_nobody_can_frame_it_without_origins(self, admin_client):
        popup = PopUpFactory(allowed_embed_origins="")
        page = errors_of(admin_client.get(detail_url(popup)))
        assert "No allowed embed origins: no other site can frame this pop-up" in page

    def test_the_page_reads_french_with_french_prices(self, admin_client):
        popup = popup_with_products(1, units_offered=10)  # regular price 40.00
        with translation.override("fr"):
            page = admin_client.get(detail_url(popup), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
        for french in (
            "Bilan du drop",
            "Prix normal",
            "40,00\u00a0€",
            "<th>Ordre</th>",  # where the product shows, not an order
            "Emplacements",
            "Aperçu en direct",
        ):
            assert french in page, french
        assert "Regular price" not in page and "40.00" not in page

    def test_lists_the_range_products_with_new_terms_rows(self, admin_client):
        popup = PopUpFactory()
        popup.range.add_product(create_product(title="Added in Ranges"))
        page = admin_client.get(detail_url(popup)).content.decode()
        assert "Added in Ranges" in page
        assert popup.product_terms.count() == 1


class TestTermsFormset:
    def test_saving_caps_prices_and_order(self, admin_client):
        popup = popup_with_products(2, units_offered=10)
        first, second = popup.product_terms.order_by("display_order")
        response = admin_client.post(
            detail_url(popup),
            terms_data(popup, [(first, "4", "25.00", "2"), (second, "", "", "1")]),
        )
        assert response.status_code == 302
        first.refresh_from_db()
        second.refresh_from_db()
        assert (first.units_offered, str(first.price), first.display_order) == (4, "25.00", 2)
        assert (second.units_offered, second.price, second.display_order) == (None, None, 1)
        page = admin_client.get(detail_url(popup)).content.decode()
        assert page.index(second.product.title) < page.index(first.product.title)

    def test_a_pop_up_price_above_the_regular_price_is_saved_with_a_warning(self, admin_client):
        popup = popup_with_products(2, units_offered=10)  # regular price 40.00
        first, second = popup.product_terms.order_by("display_order")
        response = admin_client.post(
            detail_url(popup),
            terms_data(popup, [(first, "4", "45.00", "0"), (second, "4", "35.00", "1")]),
            follow=True,
        )
        page = response.content.decode()
        assert "Products&#x27; terms saved." in page
        assert (
            "Product 000: its pop-up price, €45.00, is above its regular price, €40.00. Shoppers "
            "will pay more in the pop-up than in the shop: check it is meant."
        ) in page.replace("&#x27;", "'")
        assert "Product 001: its pop-up price" not in page
        first.refresh_from_db()
        assert str(first.price) == "45.00"

    def test_a_cap_below_units_sold_is_refused(self, admin_client):
        popup = popup_with_products(1, units_offered=10)
        terms = popup.product_terms.get()
        PopUpProduct.objects.filter(pk=terms.pk).update(units_sold=6)
        response = admin_client.post(detail_url(popup), terms_data(popup, [(terms, "5", "", "0")]))
        assert response.status_code == 200
        assert "6 units are already sold; offer at least that many." in errors_of(response)
        terms.refresh_from_db()
        assert (terms.units_offered, terms.units_sold) == (10, 6)

    def test_a_negative_price_is_refused(self, admin_client):
        popup = popup_with_products(1)
        terms = popup.product_terms.get()
        response = admin_client.post(
            detail_url(popup), terms_data(popup, [(terms, "10", "-1", "0")])
        )
        assert "Ensure this value is greater than or equal to 0." in errors_of(response)
        terms.refresh_from_db()
        assert terms.price is None

    def test_terms_of_another_pop_up_cannot_be_edited_from_here(self, admin_client):
        popup, other = popup_with_products(1), popup_with_products(1)
        foreign = other.product_terms.get()
        response = admin_client.post(
            detail_url(popup), terms_data(popup, [(foreign, "1", "1", "0")])
        )
        assert "Products of this pop-up changed meanwhile" in errors_of(response)
        foreign.refresh_from_db()
        assert foreign.units_offered == 10


class TestEditAndDelete:
    def test_edit_keeps_what_was_not_changed(self, admin_client):
        popup = PopUpFactory(title="Old title", slug="old", hero_image="popup/hero/x.jpg")
        data = form_data(
            title="New title",
            slug="old",
            range=popup.range.pk,
            opens_at=field(local(1)),
            closes_at=field(local(2)),
            action="continue",
        )
        response = admin_client.post(edit_url(popup), data)
        assert response["Location"] == edit_url(popup)
        popup.refresh_from_db()
        assert (popup.title, popup.slug, popup.hero_image.name) == (
            "New title",
            "old",
            "popup/hero/x.jpg",
        )

    def test_delete_asks_then_keeps_the_range(self, admin_client):
        popup = popup_with_products(1)
        url = reverse("popup-dashboard:popup-delete", kwargs={"pk": popup.pk})
        assert "Are you sure you want to delete the pop-up" in errors_of(admin_client.get(url))
        response = admin_client.post(url)
        assert response["Location"] == LIST_URL
        assert not PopUp.objects.exists()
        assert Range.objects.filter(pk=popup.range_id).exists()


class TestDjangoAdmin:
    def test_admin_pages_still_work(self, admin_client):
        popup = popup_with_products(1)
        assert admin_client.get(reverse("admin:popup_popup_changelist")).status_code == 200
        change = reverse("admin:popup_popup_change", args=[popup.pk])
        assert admin_client.get(change).status_code == 200
        assert admin_client.get(reverse("admin:popup_popup_add")).status_code == 200
