"""Honest reductions (EU Directive 98/6/EC art. 6a): a struck-through price, a feed's sale_price and
a poster compare with the lowest price of the 30 days before the promotion started, frozen for it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone
from django.utils.translation import override
from oscar.core.loading import get_model

from integrations.social.feeds import feed_items
from integrations.social.posters import poster_content_build
from popup.core.reductions import popup_reductions, price_history_snapshot
from popup.core.selectors import popup_storefront
from popup.dashboard.selectors import price_notes
from popup.models import PopUp, PopUpProduct, PriceRecord
from tests.factories import PopUpFactory, create_product

pytestmark = pytest.mark.django_db

StockRecord = get_model("partner", "StockRecord")


def days_ago(days: float):
    return timezone.now() - timedelta(days=days)


def regular_history(product, *prices: tuple[float, str]) -> None:
    """The product's regular prices only as given: (days ago, price), oldest first."""
    PriceRecord.objects.filter(product=product, offer=PriceRecord.Offer.REGULAR).delete()
    for ago, price in prices:
        PriceRecord.objects.create(
            product=product, price=Decimal(price), currency="EUR", since=days_ago(ago)
        )


def set_popup_price(popup, product, price, *, ago: float = 0):
    """The pop-up price of `product` set `ago` days ago (recorded as the services record it)."""
    terms, _created = PopUpProduct.objects.update_or_create(
        popup=popup, product=product, defaults={"price": Decimal(price) if price else None}
    )
    popup.range.add_product(product)
    PriceRecord.objects.filter(
        product=product, popup=popup, since__gte=timezone.now() - timedelta(seconds=30)
    ).update(since=days_ago(ago))
    return terms


def item_of(popup, **kwargs):
    (item,) = popup_storefront(popup=popup, **kwargs).items
    return item


def scarf(price="60.00"):
    product = create_product(title="Scarf", price=Decimal(price), image=True)
    product.stockrecords.update(price_currency="EUR")
    return product


class TestThirtyDayRule:
    def test_a_recent_increase_is_not_a_reduction(self):
        product = scarf("60.00")
        regular_history(product, (60, "40.00"), (10, "60.00"))  # raised ten days ago
        popup = PopUpFactory()
        set_popup_price(popup, product, "45.00")

        item = item_of(popup)
        assert (item.price, item.regular_price, item.prior_price) == (
            Decimal("45.00"),
            Decimal("60.00"),
            Decimal("40.00"),
        )
        assert not item.is_discounted and item.percent_off == 0

    def test_below_the_lowest_of_the_thirty_days_is_a_reduction_against_it(self):
        product = scarf("60.00")
        regular_history(product, (60, "40.00"), (10, "60.00"))
        popup = PopUpFactory()
        set_popup_price(popup, product, "34.00")

        item = item_of(popup)
        assert item.is_discounted and item.prior_price == Decimal("40.00")
        assert item.percent_off == 15

    def test_a_price_older_than_thirty_days_no_longer_counts(self):
        product = scarf("60.00")
        regular_history(product, (90, "30.00"), (31, "60.00"))
        popup = PopUpFactory()
        set_popup_price(popup, product, "45.00")
        assert item_of(popup).prior_price == Decimal("60.00")

    def test_a_promotion_longer_than_thirty_days_keeps_its_prior_price(self):
        product = scarf("40.00")
        regular_history(product, (120, "40.00"))
        popup = PopUpFactory(opens_at=days_ago(45), closes_at=days_ago(-5))
        set_popup_price(popup, product, "30.00", ago=50)  # set before it opened
        set_popup_price(popup, product, "25.00", ago=10)  # a further cut during the promotion

        item = item_of(popup)
        # 45 days into the promotion the pop-up's own 30.00 is the lowest of the last 30 days,
        # but the prior price stays the one before the promotion started.
        assert item.reduction.started_at == popup.opens_at
        assert (item.price, item.prior_price, item.percent_off) == (
            Decimal("25.00"),
            Decimal("40.00"),
            37,
        )

    def test_a_relaunch_at_the_same_price_is_not_a_reduction(self):
        product = scarf("40.00")
        regular_history(product, (120, "40.00"))
        first = PopUpFactory(opens_at=days_ago(20), closes_at=days_ago(5))
        set_popup_price(first, product, "30.00", ago=25)
        relaunch = PopUpFactory()
        set_popup_price(relaunch, product, "30.00")

        assert not item_of(relaunch).is_discounted
        assert item_of(relaunch).prior_price == Decimal("30.00")

    def test_drafts_and_event_only_prices_were_never_offered_to_the_public(self):
        product = scarf("40.00")
        regular_history(product, (120, "40.00"))
        draft = PopUpFactory(opens_at=days_ago(20), closes_at=days_ago(5), is_published=False)
        set_popup_price(draft, product, "10.00", ago=25)
        event = PopUpFactory(opens_at=days_ago(20), closes_at=days_ago(5), event_only=True)
        set_popup_price(event, product, "12.00", ago=25)
        popup = PopUpFactory()
        set_popup_price(popup, product, "30.00")

        assert item_of(popup).prior_price == Decimal("40.00")

    def test_a_pop_up_unpublished_or_archived_since_still_sold_at_its_price(self):
        product = scarf("40.00")
        regular_history(product, (120, "40.00"))
        for hidden in ({"is_published": False}, {"archived_at": days_ago(1)}):
            earlier = PopUpFactory(opens_at=days_ago(20), closes_at=days_ago(5))
            set_popup_price(earlier, product, "28.00", ago=40)
            PopUp.objects.filter(pk=earlier.pk).update(**hidden)
        popup = PopUpFactory()
        set_popup_price(popup, product, "30.00")

        assert item_of(popup).prior_price == Decimal("28.00")

    def test_a_deleted_pop_up_keeps_the_window_its_prices_were_public_in(self):
        product = scarf("40.00")
        regular_history(product, (120, "40.00"))
        gone = PopUpFactory(opens_at=days_ago(20), closes_at=days_ago(5))
        set_popup_price(gone, product, "28.00", ago=40)  # set long before it opened
        gone.delete()
        never_public = PopUpFactory(is_published=False)
        set_popup_price(never_public, product, "10.00", ago=10)
        never_public.delete()
        popup = PopUpFactory()
        set_popup_price(popup, product, "30.00")

        assert item_of(popup).prior_price == Decimal("28.00")
        assert not PriceRecord.objects.filter(price=Decimal("10.00")).exists()

    def test_a_deleted_pop_ups_prices_still_count(self):
        product = scarf("40.00")
        regular_history(product, (120, "40.00"))
        gone = PopUpFactory(opens_at=days_ago(20), closes_at=days_ago(5))
        set_popup_price(gone, product, "28.00", ago=15)
        gone.delete()
        popup = PopUpFactory()
        set_popup_price(popup, product, "30.00")

        assert not item_of(popup).is_discounted

    def test_a_price_set_on_an_open_pop_up_starts_its_promotion_then(self):
        product = scarf("40.00")
        regular_history(product, (120, "40.00"))
        popup = PopUpFactory(opens_at=days_ago(40), closes_at=days_ago(-5))
        # It opened at the regular price (no pop-up price recorded), and got one three days ago.
        set_popup_price(popup, product, "30.00", ago=3)

        reduction = item_of(popup).reduction
        assert timezone.now() - reduction.started_at > timedelta(days=2)
        assert reduction.started_at > popup.opens_at and reduction.prior_price == Decimal("40.00")


class TestYoungHistory:
    def test_less_than_thirty_days_of_history_uses_the_history_there_is(self):
        product = scarf("40.00")
        regular_history(product, (10, "40.00"))
        popup = PopUpFactory()
        set_popup_price(popup, product, "30.00")

        item = item_of(popup)
        assert item.is_discounted and item.prior_price == Decimal("40.00")
        assert (item.reduction.history_days, item.reduction.is_young) == (10, True)
        assert price_notes(popup=popup, strategy=None) == []  # the form says nothing of it
        (note,) = price_notes(popup=popup, strategy=None, young=True)
        assert "covers 10 days" in note

    def test_no_price_known_before_the_promotion_shows_no_reduction(self):
        product = scarf("40.00")
        popup = PopUpFactory(opens_at=days_ago(3))
        set_popup_price(popup, product, "30.00", ago=5)
        PriceRecord.objects.filter(product=product, offer=PriceRecord.Offer.REGULAR).update(
            since=timezone.now()
        )

        item = item_of(popup)
        assert item.reduction.prior_price is None and not item.is_discounted
        (note,) = price_notes(popup=popup, strategy=None)
        assert "shown as a plain price" in note


class TestHistoryRecorded:
    def test_a_bulk_cut_while_in_no_pop_up_is_caught_by_the_snapshot_and_counts(self):
        product = scarf("60.00")
        regular_history(product, (60, "60.00"))
        StockRecord.objects.filter(product=product).update(price=Decimal("30.00"))  # no signal
        price_history_snapshot()
        PriceRecord.objects.filter(price=Decimal("30.00")).update(since=days_ago(20))
        StockRecord.objects.filter(product=product).update(price=Decimal("60.00"))
        price_history_snapshot()
        PriceRecord.objects.filter(since__gt=days_ago(1)).update(since=days_ago(10))
        popup = PopUpFactory()
        set_popup_price(popup, product, "45.00")

        assert item_of(popup).prior_price == Decimal("30.00")

    def test_a_page_view_records_nothing(self, client):
        product = scarf("40.00")
        popup = PopUpFactory()
        set_popup_price(popup, product, "30.00")
        StockRecord.objects.filter(product=product).update(price=Decimal("44.00"))
        before = PriceRecord.objects.count()
        client.get(f"/popup/{popup.slug}/")
        assert PriceRecord.objects.count() == before  # a visitor's strategy may price per request

    def test_prices_saved_one_by_one_and_in_bulk_are_recorded(self):
        product = scarf("40.00")
        record = product.stockrecords.get()
        record.price = Decimal("44.00")
        record.save()
        StockRecord.objects.filter(pk=record.pk).update(price=Decimal("48.00"))  # no signal

        assert price_history_snapshot() == 1  # in no pop-up yet: any product may join one
        popup = PopUpFactory()
        set_popup_price(popup, product, "30.00")

        regular = PriceRecord.objects.filter(product=product, offer=PriceRecord.Offer.REGULAR)
        assert [r.price for r in regular] == [Decimal("40.00"), Decimal("44.00"), Decimal("48.00")]
        assert price_history_snapshot() == 0  # nothing changed since

    def test_the_reprice_action_records_and_explains(self, admin_client):
        product = scarf("60.00")
        regular_history(product, (60, "40.00"), (10, "60.00"))
        popup = PopUpFactory(opens_at=days_ago(2))
        set_popup_price(popup, product, "55.00", ago=3)

        response = admin_client.post(
            f"/dashboard/popups/{popup.pk}/drop/act/",
            {"action": "reprice", f"price-{product.pk}": "45.00"},
            follow=True,
        )

        assert PopUpProduct.objects.get(popup=popup).price == Decimal("45.00")
        own = PriceRecord.objects.filter(popup=popup).order_by("since")
        assert [r.price for r in own] == [Decimal("55.00"), Decimal("45.00")]
        page = response.content.decode()
        assert "is not below €40.00, its lowest price in the 30 days" in page


class TestWhereReductionsAreShown:
    @pytest.fixture
    def raised(self):
        """A scarf raised from 40 to 60 ten days ago, in a pop-up at 45: no reduction to show."""
        product = scarf("60.00")
        regular_history(product, (60, "40.00"), (10, "60.00"))
        popup = PopUpFactory()
        set_popup_price(popup, product, "45.00")
        return popup, product

    def test_the_page_strikes_nothing_and_says_prices_include_tax(self, client, raised):
        popup, _product = raised
        page = client.get(f"/popup/{popup.slug}/").content.decode()
        assert "€45.00" in page and "price__was" not in page and "€60.00" not in page
        assert "Prices include tax." in page

    def test_the_feed_has_no_sale_price(self, raised):
        popup, _product = raised
        (item,) = feed_items(popup=popup)
        assert (item.price, item.sale_price) == (Decimal("45.00"), None)

    def test_the_poster_strikes_nothing(self, raised):
        popup, _product = raised
        content = poster_content_build(
            popup=popup, url="https://x", storefront=popup_storefront(popup=popup), shop_name="S"
        )
        assert content.regular_price_text == ""

    def test_a_true_reduction_everywhere_against_the_prior_price(self, client):
        product = scarf("60.00")
        regular_history(product, (60, "40.00"), (10, "60.00"))
        popup = PopUpFactory()
        set_popup_price(popup, product, "34.00")

        page = client.get(f"/popup/{popup.slug}/").content.decode()
        assert "Before: </span>€40.00</del>" in page and "−15%" in page
        assert "lowest price of the 30 days before the offer started" in page
        (item,) = feed_items(popup=popup)
        assert (item.price, item.sale_price) == (Decimal("40.00"), Decimal("34.00"))
        assert item.sale_starts == popup_reductions(popup=popup)[product.pk].started_at
        content = poster_content_build(
            popup=popup, url="https://x", storefront=popup_storefront(popup=popup), shop_name="S"
        )
        assert content.regular_price_text == "€40.00"

    def test_in_french(self, client):
        product = scarf("60.00")
        regular_history(product, (60, "40.00"))
        popup = PopUpFactory(language="fr")
        set_popup_price(popup, product, "34.00")

        page = client.get(f"/popup/{popup.slug}/?lang=fr").content.decode()
        assert "Avant\u00a0: </span>40,00\u00a0€</del>" in page and "−15\u00a0%" in page
        assert "Prix TTC." in page
        assert "le prix le plus bas pratiqué au cours des 30\u00a0derniers jours précédant" in page

    @override_settings(POPUP_PRIOR_PRICE_RULE=False)
    def test_outside_the_eu_the_regular_price_is_struck(self, client, raised):
        popup, _product = raised
        item = item_of(popup)
        assert item.is_discounted and item.prior_price == Decimal("60.00")
        page = client.get(f"/popup/{popup.slug}/").content.decode()
        assert "A struck-through price is the regular price." in page


class TestPersonalPrices:
    def test_an_event_price_is_labelled_and_never_struck(self, client):
        product = scarf("40.00")
        regular_history(product, (60, "40.00"))
        popup = PopUpFactory(unlock_code="GIG")
        terms = set_popup_price(popup, product, "34.00")
        PopUpProduct.objects.filter(pk=terms.pk).update(event_price=Decimal("20.00"))

        item = item_of(popup, unlocked=True)
        assert item.price == Decimal("20.00") and item.is_personal and not item.is_discounted
        with override("en"):
            live = client.get(f"/popup/{popup.slug}/live/?view=page&code=GIG").json()
        assert live["arrival"]["prices"][str(product.pk)] == {
            "price": "€20.00",
            "label": "Event price",
        }


def test_reductions_read_the_history_in_one_query(django_assert_num_queries):
    popup = PopUpFactory(kind=PopUp.Kind.CLEARANCE)
    for n in range(5):
        product = scarf("40.00")
        set_popup_price(popup, product, f"{30 + n}.00")
    with django_assert_num_queries(1):
        assert len(popup_reductions(popup=popup)) == 5
