import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from oscar.core.loading import get_model
from oscar.test import factories as oscar_factories
from PIL import Image

from popup.core.popups import (
    popup_hero_image_prepare,
    popup_product_terms_sync,
    popup_product_terms_update,
    popup_publish,
    popup_range_create,
    popup_save,
    popup_schedule_conflicts,
    popup_slug_suggest,
)
from popup.models import PopUp, PopUpProduct
from tests.factories import PopUpFactory, RangeFactory, create_product

Range = get_model("offer", "Range")
Product = get_model("catalogue", "Product")

pytestmark = pytest.mark.django_db


def in_days(days: float):
    return timezone.now() + timedelta(days=days)


def popup_selling(*products, **kwargs) -> PopUp:
    popup = PopUpFactory(**kwargs)
    for product in products:
        popup.range.add_product(product)
    return popup


def image_upload(
    size=(1200, 630), image_format="JPEG", name="hero.jpg", padding=0
) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#c2410c").save(buffer, format=image_format)
    return SimpleUploadedFile(name, buffer.getvalue() + b"\0" * padding)


class TestScheduleConflicts:
    def test_published_overlap_on_a_shared_product_is_a_conflict(self):
        scarf, tote = create_product(title="Scarf"), create_product(title="Tote")
        other = popup_selling(scarf, title="Winter drop", opens_at=in_days(1), closes_at=in_days(5))
        mine = popup_selling(scarf, tote, opens_at=in_days(4), closes_at=in_days(8))

        [conflict] = popup_schedule_conflicts(popup=mine)

        assert conflict.other == other
        assert conflict.products == [scarf]
        assert "“Scarf” is also in the published pop-up “Winter drop”" in conflict.message

    def test_drafts_do_not_conflict(self):
        scarf = create_product(title="Scarf")
        popup_selling(scarf, is_published=False, opens_at=in_days(1), closes_at=in_days(5))
        mine = popup_selling(scarf, opens_at=in_days(2), closes_at=in_days(3))
        assert popup_schedule_conflicts(popup=mine) == []

    def test_back_to_back_schedules_do_not_overlap(self):
        scarf = create_product()
        first = popup_selling(scarf, opens_at=in_days(1), closes_at=in_days(3))
        second = popup_selling(scarf, opens_at=first.closes_at, closes_at=in_days(6))
        assert popup_schedule_conflicts(popup=second) == []
        assert popup_schedule_conflicts(popup=first) == []

    def test_different_products_do_not_conflict(self):
        popup_selling(create_product(), opens_at=in_days(1), closes_at=in_days(5))
        mine = popup_selling(create_product(), opens_at=in_days(1), closes_at=in_days(5))
        assert popup_schedule_conflicts(popup=mine) == []

    def test_overlaps_entirely_in_the_past_are_harmless(self):
        scarf = create_product()
        popup_selling(scarf, opens_at=in_days(-10), closes_at=in_days(-5))
        old = popup_selling(scarf, opens_at=in_days(-8), closes_at=in_days(-2))
        assert popup_schedule_conflicts(popup=old) == []

    def test_products_of_a_range_not_created_yet(self):
        scarf = create_product(title="Scarf")
        popup_selling(scarf, opens_at=in_days(1), closes_at=in_days(5))
        candidate = PopUp(opens_at=in_days(2), closes_at=in_days(3))
        [conflict] = popup_schedule_conflicts(popup=candidate, product_ids=[scarf.pk])
        assert conflict.products == [scarf]

    def test_a_category_range_conflicts_with_a_product_range(self):
        category = oscar_factories.CategoryFactory(name="Scarves")
        scarf = create_product(title="Scarf")
        oscar_factories.ProductCategoryFactory(product=scarf, category=category)
        by_category = RangeFactory(name="All scarves")
        by_category.included_categories.add(category)
        PopUpFactory(range=by_category, opens_at=in_days(1), closes_at=in_days(5))
        mine = popup_selling(scarf, opens_at=in_days(2), closes_at=in_days(3))
        assert [c.products for c in popup_schedule_conflicts(popup=mine)] == [[scarf]]

    def test_publishing_rechecks_and_refuses(self):
        scarf = create_product(title="Scarf")
        popup_selling(scarf, title="Winter drop", opens_at=in_days(1), closes_at=in_days(5))
        draft = popup_selling(scarf, is_published=False, opens_at=in_days(2), closes_at=in_days(3))
        with pytest.raises(ValidationError, match="Winter drop"):
            popup_publish(popup=draft)
        draft.refresh_from_db()
        assert draft.is_published is False

    def test_publishing_without_conflict(self):
        draft = popup_selling(create_product(), is_published=False)
        popup_publish(popup=draft)
        draft.refresh_from_db()
        assert draft.is_published is True


class TestSave:
    def test_new_range_from_products_and_terms_for_each(self):
        scarf, tote = create_product(title="Scarf"), create_product(title="Tote")
        popup = PopUp(title="Spring", slug="spring", opens_at=in_days(1), closes_at=in_days(2))
        popup_save(popup=popup, new_range_products=[tote, scarf])
        assert popup.range.name == "Pop-up: Spring"
        assert list(popup.range.all_products().order_by("title")) == [scarf, tote]
        assert set(popup.product_terms.values_list("product", flat=True)) == {scarf.pk, tote.pk}

    def test_a_published_save_that_went_stale_is_refused_and_rolled_back(self):
        scarf = create_product()
        popup_selling(scarf, opens_at=in_days(1), closes_at=in_days(5))
        popup = PopUp(
            title="Late", slug="late", opens_at=in_days(2), closes_at=in_days(3), is_published=True
        )
        ranges = Range.objects.count()
        with pytest.raises(ValidationError):
            popup_save(popup=popup, new_range_products=[scarf])
        assert not PopUp.objects.filter(slug="late").exists()
        assert Range.objects.count() == ranges

    def test_range_names_stay_unique(self):
        RangeFactory(name="Pop-up: Spring")
        assert popup_range_create(name="Pop-up: Spring", products=[]).name == "Pop-up: Spring (2)"

    def test_slug_suggestion_avoids_taken_and_reserved(self):
        PopUpFactory(slug="winter-drop")
        assert popup_slug_suggest(title="Winter drop!") == "winter-drop-2"
        assert popup_slug_suggest(title="Embed") == "embed-2"
        assert popup_slug_suggest(title="¡¡¡") == "popup"


class TestTerms:
    def test_sync_adds_missing_rows_only_and_is_idempotent(self):
        scarf, tote = create_product(title="Scarf"), create_product(title="Tote")
        popup = popup_selling(scarf)
        PopUpProduct.objects.create(popup=popup, product=scarf, units_offered=5, display_order=3)
        popup.range.add_product(tote)

        created = popup_product_terms_sync(popup=popup)

        assert [row.product for row in created] == [tote]
        assert popup_product_terms_sync(popup=popup) == []
        terms = {t.product: t for t in popup.product_terms.all()}
        assert terms[scarf].units_offered == 5
        assert terms[tote].units_offered is None and terms[tote].display_order == 4

    def test_parents_get_no_terms_their_children_do(self):
        parent = oscar_factories.create_product(title="Hoodie", structure=Product.PARENT)
        child = oscar_factories.create_product(
            parent=parent, structure=Product.CHILD, title="Hoodie M"
        )
        popup = popup_selling(parent)
        popup_product_terms_sync(popup=popup)
        assert list(popup.product_terms.values_list("product", flat=True)) == [child.pk]

    def test_update_never_overwrites_units_sold(self):
        popup = popup_selling()
        terms = PopUpProduct.objects.create(popup=popup, product=create_product(), units_offered=10)
        PopUpProduct.objects.filter(pk=terms.pk).update(units_sold=4)  # sold meanwhile
        terms.units_offered = 6
        popup_product_terms_update(popup=popup, terms=[terms])
        terms.refresh_from_db()
        assert (terms.units_offered, terms.units_sold) == (6, 4)

    def test_update_refuses_a_cap_below_what_sold_meanwhile(self):
        popup = popup_selling()
        terms = PopUpProduct.objects.create(
            popup=popup, product=create_product(title="Scarf"), units_offered=10
        )
        PopUpProduct.objects.filter(pk=terms.pk).update(units_sold=7)
        terms.units_offered = 5
        with pytest.raises(ValidationError, match="Scarf: 7 units are already sold"):
            popup_product_terms_update(popup=popup, terms=[terms])
        terms.refresh_from_db()
        assert terms.units_offered == 10


class TestHeroImage:
    @pytest.mark.parametrize(
        ("image_format", "extension"), [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")]
    )
    def test_accepted_formats_get_the_right_extension(self, image_format, extension):
        prepared = popup_hero_image_prepare(
            image=image_upload(image_format=image_format, name="photo.bin")
        )
        assert prepared.name == f"photo.{extension}"

    def test_other_formats_are_refused(self):
        with pytest.raises(ValidationError, match="GIF images are not accepted"):
            popup_hero_image_prepare(image=image_upload(image_format="GIF", name="a.gif"))

    def test_not_an_image(self):
        with pytest.raises(ValidationError, match="not an image"):
            popup_hero_image_prepare(image=SimpleUploadedFile("a.jpg", b"hello"))

    def test_too_small(self):
        with pytest.raises(ValidationError, match="599×400 px; it must be at least 600×315"):
            popup_hero_image_prepare(image=image_upload(size=(599, 400)))

    def test_too_heavy(self):
        with pytest.raises(ValidationError, match="the limit is 8 MB"):
            popup_hero_image_prepare(image=image_upload(padding=8 * 1024 * 1024))

    def test_too_wide_is_downscaled_keeping_its_proportions(self):
        prepared = popup_hero_image_prepare(image=image_upload(size=(4800, 2000)))
        with Image.open(prepared) as image:
            assert (image.format, image.size) == ("JPEG", (2400, 1000))

    def test_location_and_device_metadata_never_go_public(self):
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"  # camera make
        exif.get_ifd(0x8825)[2] = (48.0, 51.0, 24.0)  # GPS latitude
        buffer = io.BytesIO()
        Image.new("RGB", (1200, 630), "#c2410c").save(buffer, "JPEG", exif=exif)
        with Image.open(buffer) as original:
            assert original.getexif()[0x010F] == "PhoneMaker"

        prepared = popup_hero_image_prepare(
            image=SimpleUploadedFile("phone.jpg", buffer.getvalue())
        )
        with Image.open(prepared) as image:
            assert image.size == (1200, 630)
            assert dict(image.getexif()) == {}
