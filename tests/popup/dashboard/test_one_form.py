"""Issue 16, the merchant's side: a pop-up with its products, caps, pop-up prices and publishing in
one form and one save, all or nothing; deleting removes only what the pop-up made and nobody else
uses, and archives a pop-up that money went through."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from oscar.core.loading import get_model
from oscar.test.factories import (
    BenefitFactory,
    ConditionalOfferFactory,
    ConditionFactory,
    create_order,
)

from popup.core.popups import ProductTerms, popup_create, popup_delete
from popup.dashboard.forms import PRODUCT_CHOICES_MAX
from popup.models import Pledge, PopUp, PopUpBasket, PopUpProduct
from tests.factories import PopUpFactory, create_product, popup_with_products
from tests.popup.dashboard.support import (
    CREATE_URL,
    LIST_URL,
    detail_url,
    errors_of,
    field,
    form_data,
    local,
    rows_data,
)

Product = get_model("catalogue", "Product")
Range = get_model("offer", "Range")

pytestmark = pytest.mark.django_db


def delete_url(popup) -> str:
    return reverse("popup-dashboard:popup-delete", kwargs={"pk": popup.pk})


class TestCreateInOneForm:
    def test_products_caps_prices_and_publishing_in_one_post(self, admin_client):
        scarf = create_product(title="Silk scarf", price=Decimal("40.00"))
        tote = create_product(title="Linen tote", price=Decimal("30.00"))
        rows = rows_data([(scarf, "12", "35.00"), (tote, "5", "")], blank=3)
        data = form_data(publishing="now", closes_at=field(local(3)), **rows)

        response = admin_client.post(CREATE_URL, data)

        popup = PopUp.objects.get()
        assert response["Location"] == detail_url(popup)
        assert popup.is_published is True
        assert popup.opens_at <= popup.created_at and popup.closes_at == local(3)
        assert [
            (row.product, row.units_offered, row.price, row.display_order)
            for row in popup.product_terms.order_by("display_order")
        ] == [(scarf, 12, Decimal("35.00"), 0), (tote, 5, None, 1)]
        assert list(popup.range.all_products().order_by("title")) == [tote, scarf]
        assert popup.owns_range is True
        page = errors_of(admin_client.get(response["Location"]))
        assert "Pop-up “Indigo scarves” created and published." in page

    def test_published_as_scheduled_keeps_the_opening_time(self, admin_client):
        rows = rows_data([(create_product(), "3", "")])
        admin_client.post(CREATE_URL, form_data(publishing="scheduled", **rows))
        popup = PopUp.objects.get()
        assert (popup.is_published, popup.opens_at) == (True, local(1))

    def test_a_product_with_variants_offers_each_on_its_rows_terms(self, admin_client):
        shirt = create_product(title="T-shirt", structure="parent", stock=0)
        small = create_product(title="T-shirt S", structure="child", parent=shirt)
        large = create_product(title="T-shirt L", structure="child", parent=shirt)
        admin_client.post(CREATE_URL, form_data(**rows_data([(shirt, "4", "20.00")])))
        terms = PopUp.objects.get().product_terms.order_by("display_order")
        assert [(row.product, row.units_offered, row.price) for row in terms] == [
            (large, 4, Decimal("20.00")),
            (small, 4, Decimal("20.00")),
        ]

    def test_a_price_above_the_regular_price_is_saved_with_a_warning(self, admin_client):
        scarf = create_product(title="Silk scarf", price=Decimal("40.00"))
        data = form_data(**rows_data([(scarf, "3", "45.00")]))
        response = admin_client.post(CREATE_URL, data, follow=True)
        assert (
            "Silk scarf: its pop-up price, €45.00, is above its regular price, €40.00."
        ) in errors_of(response)
        assert PopUpProduct.objects.get().price == Decimal("45.00")

    def test_a_pasted_page_address_still_counts_as_its_origin(self, admin_client):
        data = form_data(
            allowed_embed_origins="https://www.instagram.com/atelier.nord/",
            **rows_data([(create_product(), "3", "")]),
        )
        admin_client.post(CREATE_URL, data)
        assert PopUp.objects.get().allowed_embed_origins == "https://www.instagram.com"

    def test_the_page_shows_blank_labelled_rows(self, admin_client):
        page = admin_client.get(CREATE_URL).content.decode()
        assert 'name="rows-TOTAL_FORMS" value="5"' in page
        for row in range(5):
            assert f'<label class="popup-row-label" for="id_rows-{row}-product">' in page
        assert "Publish and open now" in page

    def test_a_large_catalogue_gets_oscars_product_lookup_in_each_row(self, admin_client):
        scarf = create_product(title="Silk scarf")
        Product.objects.bulk_create(
            Product(title=f"Mug {n}", slug=f"mug-{n}", product_class=scarf.product_class)
            for n in range(PRODUCT_CHOICES_MAX)
        )
        page = admin_client.get(CREATE_URL).content.decode()
        lookup = reverse("dashboard:catalogue-product-lookup")
        assert page.count(f'data-ajax-url="{lookup}"') == 5
        assert "Mug 1" not in page  # not listed in every row
        admin_client.post(CREATE_URL, form_data(**rows_data([(scarf, "3", "")])))
        assert PopUp.objects.get().product_terms.get().product == scarf

    def test_more_rows_keeps_every_entry_and_saves_nothing(self, admin_client):
        scarf = create_product(title="Silk scarf")
        data = form_data(title="", action="more_rows", **rows_data([(scarf, "12", "35.00")]))
        response = admin_client.post(CREATE_URL, data)
        page = response.content.decode()
        assert response.status_code == 200 and not PopUp.objects.exists()
        assert 'name="rows-TOTAL_FORMS" value="6"' in page
        assert 'name="rows-0-units_offered" value="12"' in page
        assert f'<option value="{scarf.pk}" selected>' in page
        assert "This field is required." not in page  # not submitted yet: no errors

    @pytest.mark.parametrize(("posted", "shown"), [("x", 5), ("-3", 5), ("1e3", 5), ("900", 50)])
    def test_more_rows_with_a_row_count_that_is_not_one_answers_with_the_rows(
        self, admin_client, posted, shown
    ):
        scarf = create_product(title="Silk scarf")
        rows = rows_data([(scarf, "12", "35.00")])
        data = form_data(action="more_rows", **{**rows, "rows-TOTAL_FORMS": posted})
        response = admin_client.post(CREATE_URL, data)
        page = response.content.decode()
        assert response.status_code == 200 and not PopUp.objects.exists()
        assert f'name="rows-TOTAL_FORMS" value="{shown}"' in page
        assert 'name="rows-0-units_offered" value="12"' in page

    def test_a_save_with_a_row_count_that_is_not_one_saves_nothing(self, admin_client):
        rows = rows_data([(create_product(), "12", "")])
        response = admin_client.post(CREATE_URL, form_data(**{**rows, "rows-TOTAL_FORMS": "x"}))
        assert response.status_code == 200 and not PopUp.objects.exists()
        assert "Nothing was saved." in errors_of(response)


class TestAllOrNothing:
    @pytest.fixture
    def scarf_drop(self):
        scarf = create_product(title="Silk scarf")
        popup = PopUpFactory(title="Winter drop", opens_at=local(0), closes_at=local(6))
        popup.range.add_product(scarf)
        return popup

    def test_a_product_another_published_pop_up_sells_meanwhile_is_refused_in_its_row(
        self, admin_client, scarf_drop
    ):
        scarf = scarf_drop.range.all_products().get()
        tote = create_product(title="Linen tote")
        rows = rows_data([(tote, "5", "25.00"), (scarf, "3", "30.00")], blank=1)
        response = admin_client.post(CREATE_URL, form_data(publishing="scheduled", **rows))

        assert response.status_code == 200
        rows = response.context["form"].rows.forms
        assert rows[0].errors == {}
        (message,) = rows[1].errors["product"]
        assert message.startswith("“Silk scarf” is also in the published pop-up “Winter drop” (")
        assert message.endswith("whose schedule overlaps this one: both would sell the same stock.")
        assert PopUp.objects.count() == 1 and Range.objects.count() == 1
        page = response.content.decode()
        assert 'name="rows-1-units_offered" value="3"' in page  # entries kept
        assert 'name="rows-0-price" value="25.00"' in page

    def test_as_a_draft_the_same_rows_are_saved(self, admin_client, scarf_drop):
        scarf = scarf_drop.range.all_products().get()
        admin_client.post(CREATE_URL, form_data(slug="draft", **rows_data([(scarf, "3", "")])))
        assert PopUp.objects.get(slug="draft").is_published is False

    @pytest.mark.parametrize(
        ("row", "error"),
        [
            ((None, "5", "20.00"), "Choose the product these units and price are for."),
            (("tote", "-1", ""), "Ensure this value is greater than or equal to 0."),
            (("tote", "5", "-3"), "Ensure this value is greater than or equal to 0."),
            (("tote", "five", ""), "Enter a whole number."),
            (("scarf", "", ""), "Already in row 1: one row per product."),
        ],
    )
    def test_any_invalid_row_saves_nothing_and_keeps_every_entry(self, admin_client, row, error):
        products = {"scarf": create_product(title="Silk scarf"), "tote": create_product()}
        product, units, price = row
        rows = [(products["scarf"], "12", "35.00"), (products.get(product), units, price)]
        data = form_data(publishing="now", tagline="Kept", **rows_data(rows, blank=2))
        response = admin_client.post(CREATE_URL, data)

        assert response.status_code == 200
        assert response.context["form"].rows.forms[1].errors  # next to the row's fields
        assert error in errors_of(response)
        assert not PopUp.objects.exists() and not Range.objects.exists()
        page = response.content.decode()
        assert 'value="Kept"' in page and 'name="rows-0-units_offered" value="12"' in page
        assert "Nothing was saved." in page

    def test_the_save_checks_again_under_its_lock_and_leaves_no_range_behind(self, scarf_drop):
        # What the form checked may change before the save (another pop-up published meanwhile):
        # popup_create checks again under the lock, and its refusal undoes the range it made.
        scarf = scarf_drop.range.all_products().get()
        popup = PopUp(
            title="Again", slug="again", opens_at=local(1), closes_at=local(2), is_published=True
        )
        with pytest.raises(ValidationError, match="also in the published pop-up “Winter drop”"):
            popup_create(popup=popup, products=[ProductTerms(product=scarf, units_offered=3)])
        assert PopUp.objects.count() == 1 and Range.objects.count() == 1
        assert not PopUpProduct.objects.filter(popup__slug="again").exists()


class TestDelete:
    def test_deletes_the_range_it_made(self, admin_client):
        admin_client.post(CREATE_URL, form_data(**rows_data([(create_product(), "3", "")])))
        popup = PopUp.objects.get()
        page = errors_of(admin_client.get(delete_url(popup)))
        assert "It will be deleted" in page
        assert f"Its range “{popup.range.name}” is deleted too" in page
        response = admin_client.post(delete_url(popup), follow=True)
        assert "deleted, with its range" in errors_of(response)
        assert not PopUp.objects.exists() and not Range.objects.exists()

    def test_keeps_a_range_it_did_not_make(self, admin_client):
        popup = popup_with_products(1)
        assert "it was not made for this pop-up" in errors_of(admin_client.get(delete_url(popup)))
        admin_client.post(delete_url(popup))
        assert not PopUp.objects.exists()
        assert Range.objects.filter(pk=popup.range_id).exists()

    @pytest.mark.parametrize("part", ["condition", "benefit"])
    def test_keeps_a_range_an_offer_uses(self, admin_client, part):
        popup = popup_with_products(1, owns_range=True)
        if part == "condition":
            ConditionalOfferFactory(
                name="Winter 10%", condition=ConditionFactory(range=popup.range)
            )
        else:
            ConditionalOfferFactory(name="Winter 10%", benefit=BenefitFactory(range=popup.range))
        page = errors_of(admin_client.get(delete_url(popup)))
        assert "stays: the offer Winter 10% uses it." in page
        admin_client.post(delete_url(popup))
        assert not PopUp.objects.exists()
        assert Range.objects.filter(pk=popup.range_id).exists()

    def test_names_every_offer_that_uses_the_range_in_one_sentence(self, admin_client):
        popup = popup_with_products(1, owns_range=True)
        for name in ("Winter 10%", "Spring sale", "Members"):
            ConditionalOfferFactory(name=name, condition=ConditionFactory(range=popup.range))
        page = errors_of(admin_client.get(delete_url(popup)))
        assert "stays: the offers Members, Spring sale and Winter 10% use it." in page

    def test_keeps_a_range_an_offer_being_set_up_uses(self, admin_client):
        popup = popup_with_products(1, owns_range=True)
        ConditionFactory(range=popup.range)  # in no offer yet
        page = errors_of(admin_client.get(delete_url(popup)))
        assert "stays: an offer being set up uses it." in page
        admin_client.post(delete_url(popup))
        assert Range.objects.filter(pk=popup.range_id).exists()

    def test_keeps_a_range_another_pop_up_sells(self, admin_client):
        popup = popup_with_products(1, owns_range=True)
        PopUpFactory(range=popup.range, is_published=False)
        assert "1 other pop-up sells it" in errors_of(admin_client.get(delete_url(popup)))
        admin_client.post(delete_url(popup))
        assert Range.objects.filter(pk=popup.range_id).exists()


class TestArchive:
    def test_a_pop_up_with_an_order_is_archived_not_deleted(self, admin_client, client):
        popup = popup_with_products(1, owns_range=True)
        PopUpBasket.objects.create(
            popup=popup, status=PopUpBasket.Status.ORDERED, order=create_order()
        )
        page = errors_of(admin_client.get(delete_url(popup)))
        assert "It will be archived, not deleted" in page
        assert "Money went through this pop-up: 1 order." in page
        assert ">Archive</button>" in page

        response = admin_client.post(delete_url(popup), follow=True)

        assert "archived: hidden from shoppers" in errors_of(response)
        popup.refresh_from_db()
        assert popup.archived_at is not None and popup.is_published is False
        assert PopUpBasket.objects.get().order_id is not None
        assert Range.objects.filter(pk=popup.range_id).exists()
        # Shoppers get what a draft gives them; the list shows it only when asked.
        assert client.get(popup.get_absolute_url()).status_code == 404
        assert client.get(popup.get_embed_url()).status_code == 404
        assert popup not in [row.popup for row in admin_client.get(LIST_URL).context["rows"]]
        archived = admin_client.get(LIST_URL, {"state": "archived"})
        assert [row.popup for row in archived.context["rows"]] == [popup]
        assert "1 archived pop-up, not listed above" in errors_of(admin_client.get(LIST_URL))
        again = errors_of(admin_client.get(delete_url(popup)))
        assert "It is archived already" in again and ">Archive</button>" not in again

    def test_a_pre_sale_with_a_pledge_is_archived(self, admin_client):
        popup = popup_with_products(1, kind=PopUp.Kind.PRESALE, presale_goal_units=10)
        Pledge.objects.create(
            popup=popup, email="ada@example.com", currency="EUR", amount=Decimal("40.00")
        )
        assert "this pop-up: 1 pledge." in errors_of(admin_client.get(delete_url(popup)))
        admin_client.post(delete_url(popup))
        popup.refresh_from_db()
        assert popup.archived_at is not None
        assert Pledge.objects.filter(popup=popup).exists()

    def test_a_checkout_that_reached_the_payment_archives_it(self, admin_client):
        popup = popup_with_products(1)
        PopUpBasket.objects.create(popup=popup, payment_intent_id="pi_under_way")
        admin_client.post(delete_url(popup))
        popup.refresh_from_db()
        assert popup.archived_at is not None

    def test_what_went_through_reads_as_one_sentence(self, admin_client):
        popup = popup_with_products(1, kind=PopUp.Kind.PRESALE, presale_goal_units=10)
        PopUpBasket.objects.create(popup=popup, order=create_order())
        for email in ("ada@example.com", "bea@example.com"):
            Pledge.objects.create(popup=popup, email=email, currency="EUR", amount=Decimal("40"))
        PopUpBasket.objects.create(popup=popup, payment_attempts=1)
        page = " ".join(errors_of(admin_client.get(delete_url(popup))).split())
        assert (
            "Money went through this pop-up: 1 order, 2 pledges and 1 checkout that reached "
            "the payment. They keep referring to it, so it is kept:"
        ) in page

    def test_a_payment_whose_answer_is_not_back_yet_keeps_the_pop_up_and_its_basket(
        self, admin_client
    ):
        # The checkout counted its attempt and committed before asking the payment service; the
        # payment's id comes with the answer (or never, if the answer is lost). Deleting the
        # pop-up now took the basket with it: the card stayed authorised, the checkout got a 500.
        popup = popup_with_products(1, owns_range=True)
        basket = PopUpBasket.objects.create(popup=popup, payment_attempts=1)
        page = " ".join(errors_of(admin_client.get(delete_url(popup))).split())
        assert "It will be archived, not deleted" in page
        assert (
            "Money may have gone through this pop-up: 1 checkout reached the payment, whose "
            "outcome may not be known yet, so the pop-up is kept:"
        ) in page

        admin_client.post(delete_url(popup))

        popup.refresh_from_db()
        assert popup.archived_at is not None
        assert PopUpBasket.objects.filter(pk=basket.pk, popup=popup).exists()
        assert Range.objects.filter(pk=popup.range_id).exists()

    def test_a_refused_card_still_counts_as_a_payment_that_may_have_gone_through(self):
        popup = popup_with_products(1)
        PopUpBasket.objects.create(popup=popup, payment_attempts=2)
        removal = popup_delete(popup=popup)
        assert (removal.archives, removal.payments) == (True, 1)

    def test_publishing_brings_it_back(self, admin_client):
        popup = popup_with_products(1)
        PopUpBasket.objects.create(popup=popup, order=create_order())
        admin_client.post(delete_url(popup))
        page = errors_of(admin_client.get(detail_url(popup)))
        assert "Publishing it again brings it back." in page
        admin_client.post(reverse("popup-dashboard:popup-publish", kwargs={"pk": popup.pk}))
        popup.refresh_from_db()
        assert (popup.is_published, popup.archived_at) == (True, None)
