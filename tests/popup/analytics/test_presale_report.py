"""The merchant's side of all-or-nothing pre-sales: the form, the evidence report, its CSV and the
actions (settle now, graduate, tell backers of the launch)."""

import csv
import html
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from oscar.core.loading import get_model
from oscar.templatetags.currency_filters import currency
from oscar.test import factories as oscar_factories

from popup.checkout.services import ShopperDetails
from popup.core.holds import basket_create, hold_set
from popup.models import Pledge, PledgeEvent, PopUp, PopUpProduct
from popup.presales.pledges import pledge_cancel, pledge_confirm, pledge_start
from tests.factories import PopUpFactory, create_product
from tests.integrations.stripe.support import DECLINED_ON_CHARGE, VISA, setup_intent_confirm
from tests.popup.analytics.support import assert_svg_dot_decimal
from tests.popup.checkout.support import SHOPPER
from tests.popup.dashboard.support import CREATE_URL, edit_url, errors_of, form_data
from tests.popup.presales.support import all_or_nothing, close, settle
from tests.popup.presales.support import back as order_directly

Product = get_model("catalogue", "Product")
StockRecord = get_model("partner", "StockRecord")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("stripe_settings"),
    pytest.mark.usefixtures("france"),
]


def report_url(popup):
    return reverse("popup-dashboard:popup-report", kwargs={"pk": popup.pk})


def csv_url(popup):
    return reverse("popup-dashboard:popup-report-csv", kwargs={"pk": popup.pk})


def action_url(popup, action):
    return reverse(f"popup-dashboard:popup-presale-{action}", kwargs={"pk": popup.pk})


def back(popup, product, localstripe, *, email, units=1, card=VISA, source=""):
    """A backer comes from `source`, pledges `units` and saves `card`, as the checkout page does."""
    basket = basket_create(popup=popup, source=source)
    hold_set(basket=basket, product_id=product.pk, quantity=units)
    details = ShopperDetails(**{**SHOPPER.__dict__, "email": email})
    setup = pledge_start(basket=basket, details=details)
    setup_intent_confirm(localstripe, setup.client_secret, card, authenticate=True)
    return pledge_confirm(basket_id=basket.pk, setup_intent_id=setup.setup_intent_id)


def text_of(response) -> str:
    """The page as the merchant reads it: tags dropped, entities decoded, spaces collapsed."""
    content = response.content.decode()
    return _text(re.sub(r"<(script|style)\b.*?</\1>", " ", content, flags=re.S))


def _text(markup: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup))).strip()


def row_text(response, row_id: str) -> str:
    match = re.search(rf'<tr id="{row_id}">(.*?)</tr>', response.content.decode(), re.S)
    assert match, f"no row {row_id}"
    return _text(match.group(1))


def table_text(response, table_id: str) -> str:
    match = re.search(rf'<table [^>]*id="{table_id}".*?</table>', response.content.decode(), re.S)
    assert match, f"no table {table_id}"
    return _text(match.group(0))


def eur(amount) -> str:
    return currency(amount, "EUR")


def campaign(localstripe):
    """A live all-or-nothing pre-sale of a candle (goal: 4 units) with the pledges of a real week:
    Ada pledges 2 from Linktree, Bob 1 from nowhere in particular, Cy 1 from Instagram on a card
    that will be declined, and Dee pledges 1 from Linktree then cancels."""
    popup, candle = all_or_nothing(presale_goal_units=4)
    pledges = {
        "ada": back(
            popup, candle, localstripe, email="ada@example.com", units=2, source="linktr.ee"
        ),
        "bob": back(popup, candle, localstripe, email="bob@example.com", source="direct"),
        "cy": back(
            popup,
            candle,
            localstripe,
            email="cy@example.com",
            card=DECLINED_ON_CHARGE,
            source="instagram",
        ),
        "dee": back(popup, candle, localstripe, email="dee@example.com", source="linktr.ee"),
    }
    pledge_cancel(pledge=pledges["dee"])
    mail.outbox.clear()
    return popup, candle, pledges


def fresh(pledges: dict) -> dict:
    return {name: Pledge.objects.get(pk=pledge.pk) for name, pledge in pledges.items()}


# The pop-up form -------------------------------------------------------------------------------


class TestForm:
    def test_the_pre_sale_tab_explains_both_fundings(self, admin_client):
        page = errors_of(admin_client.get(CREATE_URL))
        assert 'name="presale_funding" value="all_or_nothing"' in page
        assert 'name="presale_charge_when" value="goal"' in page
        assert "backers save a card and are charged only if the goal is met" in page
        assert "Flexible: backers pay when they order" in page

    def test_an_all_or_nothing_pre_sale_charging_at_the_goal(self, admin_client):
        data = form_data(
            kind=PopUp.Kind.PRESALE,
            range=PopUpFactory().range.pk,
            slug="candles",
            presale_goal_units="200",
            presale_funding=PopUp.Funding.ALL_OR_NOTHING,
            presale_charge_when=PopUp.ChargeWhen.GOAL,
        )
        assert admin_client.post(CREATE_URL, data).status_code == 302
        popup = PopUp.objects.get(slug="candles")
        assert (popup.presale_funding, popup.presale_charge_when) == ("all_or_nothing", "goal")
        assert popup.takes_pledges

    def test_when_to_charge_is_kept_as_it_was_for_flexible_funding(self, admin_client):
        data = form_data(
            kind=PopUp.Kind.PRESALE,
            range=PopUpFactory().range.pk,
            slug="candles",
            presale_goal_units="200",
            presale_funding=PopUp.Funding.FLEXIBLE,
            presale_charge_when=PopUp.ChargeWhen.GOAL,
        )
        admin_client.post(CREATE_URL, data)
        popup = PopUp.objects.get(slug="candles")
        assert (popup.presale_funding, popup.presale_charge_when) == ("flexible", "deadline")

    def test_all_or_nothing_is_for_pre_sales_only(self, admin_client):
        data = form_data(
            kind=PopUp.Kind.LIMITED,
            range=PopUpFactory().range.pk,
            slug="scarves",
            presale_funding=PopUp.Funding.ALL_OR_NOTHING,
        )
        response = admin_client.post(CREATE_URL, data)
        assert response.status_code == 200
        assert "All or nothing is for pre-sales only" in errors_of(response)
        assert not PopUp.objects.filter(slug="scarves").exists()

    def test_funding_cannot_change_once_backers_pledged(self, admin_client, localstripe):
        popup, candle = all_or_nothing(presale_goal_units=10)
        back(popup, candle, localstripe, email="ada@example.com")
        data = form_data(
            title=popup.title,
            slug=popup.slug,
            kind=PopUp.Kind.PRESALE,
            range=popup.range.pk,
            presale_goal_units="10",
            presale_funding=PopUp.Funding.FLEXIBLE,
        )

        response = admin_client.post(edit_url(popup), data)

        assert response.status_code == 200
        assert "This pre-sale already has 1 pledge: its funding can no longer change" in errors_of(
            response
        )
        popup.refresh_from_db()
        assert popup.presale_funding == PopUp.Funding.ALL_OR_NOTHING

        response = admin_client.post(edit_url(popup), {**data, "kind": PopUp.Kind.LIMITED})
        assert "This pre-sale has pledges: it can no longer become another kind." in errors_of(
            response
        )

    def test_funding_may_change_while_nobody_pledged(self, admin_client):
        popup, _candle = all_or_nothing(presale_goal_units=10)
        data = form_data(
            title=popup.title,
            slug=popup.slug,
            kind=PopUp.Kind.PRESALE,
            range=popup.range.pk,
            presale_goal_units="10",
            presale_funding=PopUp.Funding.FLEXIBLE,
        )
        assert admin_client.post(edit_url(popup), data).status_code == 302
        popup.refresh_from_db()
        assert popup.presale_funding == PopUp.Funding.FLEXIBLE


# The report ------------------------------------------------------------------------------------


class TestReport:
    def test_the_pop_up_page_links_to_the_report_of_pre_sales_only(self, admin_client):
        popup, _candle = all_or_nothing()
        detail = reverse("popup-dashboard:popup-detail", kwargs={"pk": popup.pk})
        assert f'href="{report_url(popup)}"' in admin_client.get(detail).content.decode()

        limited = PopUpFactory()
        detail = reverse("popup-dashboard:popup-detail", kwargs={"pk": limited.pk})
        assert "Pre-sale report" not in admin_client.get(detail).content.decode()
        assert admin_client.get(report_url(limited)).status_code == 404

    def test_while_open_pledges_stand_and_nothing_is_collected(self, admin_client, localstripe):
        popup, _candle, pledges = campaign(localstripe)
        standing = pledges["ada"].amount + pledges["bob"].amount + pledges["cy"].amount

        response = admin_client.get(report_url(popup))

        page = text_of(response)
        assert "Pre-sale report: " + popup.title in page
        assert "Outcome Open" in page
        assert "4 of 4 units — 100%" in page
        assert row_text(response, "figure_pledged") == f"Pledged {eur(standing)} 4 3 pledges"
        assert row_text(response, "figure_collected") == f"Collected {eur(0)} 0 0 orders"
        assert row_text(response, "figure_collection_rate") == "Collection rate 0.0%"
        assert row_text(response, "figure_drop_rate").startswith("Drop rate —")
        assert row_text(response, "figure_cancelled").startswith("Cancelled by backers 1")
        assert "Every pledge not cancelled by its backer before charging" in page
        assert "Settle now" in page
        assert "Graduate" not in page

    def test_after_settlement_a_realistic_mix(self, admin_client, localstripe):
        popup, candle, pledges = campaign(localstripe)
        response = admin_client.post(action_url(popup, "settle"), follow=True)
        assert "its goal is met, so the saved cards are being charged" in text_of(response)
        grace = order_directly(popup, candle, localstripe, email="grace@example.com", units=1)
        first_failure = Pledge.objects.get(pk=pledges["cy"].pk).first_failed_at
        for days in (1, 3, 7):  # Cy's card is retried, then the pledge is dropped
            settle(popup, now=first_failure + timedelta(days=days, seconds=1))
        pledges = fresh(pledges)
        assert [p.status for p in pledges.values()] == ["paid", "paid", "dropped", "cancelled"]
        pledged = pledges["ada"].amount + pledges["bob"].amount + pledges["cy"].amount
        from_pledges = pledges["ada"].order.total_incl_tax + pledges["bob"].order.total_incl_tax
        collected = from_pledges + grace.total_incl_tax
        rate = (100 * collected / pledged).quantize(Decimal("0.1"))

        response = admin_client.get(report_url(popup))

        page = text_of(response)
        assert "Outcome Funded" in page
        assert row_text(response, "figure_pledged") == f"Pledged {eur(pledged)} 4 3 pledges"
        assert row_text(response, "figure_collected") == f"Collected {eur(collected)} 4 3 orders"
        assert row_text(response, "figure_collected_pledges") == (
            f"from paid pledges {eur(from_pledges)}"
        )
        assert row_text(response, "figure_collected_direct") == (
            f"from orders placed directly {eur(grace.total_incl_tax)}"
        )
        assert row_text(response, "figure_collection_rate") == f"Collection rate {rate}%"
        assert row_text(response, "figure_drop_rate") == ("Drop rate 33.3% 1 dropped of 3 charged")
        # Demand by product: 4 units pledged (Dee's cancelled one is not), 3 paid for (Ada's 2,
        # Bob's 1) and Grace's direct order: 4 collected.
        products = table_text(response, "presale_products")
        assert f"Ember smart candle 4 {eur(156)} 4 {eur(156)}" in products
        sources = table_text(response, "presale_sources")
        assert f"linktr.ee 1 {eur(pledges['ada'].amount)} {eur(pledges['ada'].amount)}" in sources
        assert f"Direct 1 {eur(pledges['bob'].amount)} {eur(pledges['bob'].amount)}" in sources
        assert f"instagram 1 {eur(pledges['cy'].amount)} {eur(0)}" in sources
        # The pledges, each with its order and history.
        ada = row_text(response, f"pledge_{pledges['ada'].pk}")
        assert "ada@example.com linktr.ee Paid" in ada
        assert pledges["ada"].order.number in ada
        assert "3 events" in ada and "Charging → Paid" in ada  # statuses by their names
        cy = row_text(response, f"pledge_{pledges['cy'].pk}")
        assert "cy@example.com instagram Dropped" in cy
        assert "card_declined" in cy and "9 events" in cy
        order_link = reverse(
            "dashboard:order-detail", kwargs={"number": pledges["ada"].order.number}
        )
        assert f'href="{order_link}"' in response.content.decode()
        # The chart: a line drawn on the server, no script.
        assert '<svg id="pledge_chart"' in response.content.decode()
        assert re.search(r'<polyline points="[\d., ]+"', response.content.decode())
        assert "Graduate" in page and "Settle now" not in page

    def test_a_missed_goal_counts_the_pledges_settlement_cancelled(self, admin_client, localstripe):
        popup, candle = all_or_nothing(presale_goal_units=10)
        ada = back(popup, candle, localstripe, email="ada@example.com", units=2)
        dee = back(popup, candle, localstripe, email="dee@example.com")
        pledge_cancel(pledge=dee)
        close(popup)
        response = admin_client.post(action_url(popup, "settle"), follow=True)
        assert "it closed short of its goal, so every pledge is cancelled" in text_of(response)

        response = admin_client.get(report_url(popup))

        assert "Outcome Not funded" in text_of(response)
        ada.refresh_from_db()
        assert ada.status == Pledge.Status.CANCELLED
        assert row_text(response, "figure_pledged") == f"Pledged {eur(ada.amount)} 2 1 pledge"
        assert row_text(response, "figure_collected") == f"Collected {eur(0)} 0 0 orders"
        assert row_text(response, "figure_cancelled").startswith("Cancelled by backers 1")

    def test_the_pledges_are_listed_fifty_a_page(self, admin_client, localstripe):
        popup, candle = all_or_nothing(presale_goal_units=100)
        first = back(popup, candle, localstripe, email="first@example.com")
        # Older pledges than the page holds, as the database has them (the card flow is the same).
        Pledge.objects.bulk_create(
            Pledge(popup=popup, email=f"b{n}@example.com", currency="EUR", amount=Decimal("39"))
            for n in range(50)
        )
        Pledge.objects.exclude(pk=first.pk).update(created_at=first.created_at - timedelta(days=1))

        page_one = admin_client.get(report_url(popup))
        page_two = admin_client.get(report_url(popup), {"page": 2})

        assert "51 in all" in text_of(page_one) and "Page 1 of 2" in text_of(page_one)
        assert len(page_one.context["pledges"]) == 50
        assert f'id="pledge_{first.pk}"' in page_one.content.decode()
        assert len(page_two.context["pledges"]) == 1


class TestCsv:
    def test_one_row_per_pledge_streamed(self, admin_client, localstripe):
        popup, _candle, pledges = campaign(localstripe)
        admin_client.post(action_url(popup, "settle"))
        ada = Pledge.objects.get(pk=pledges["ada"].pk)

        response = admin_client.get(csv_url(popup))

        assert response.streaming
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert f'filename="{popup.slug}-pledges.csv"' in response["Content-Disposition"]
        rows = list(
            csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
        )
        assert [row["email"] for row in rows] == [
            "ada@example.com",
            "bob@example.com",
            "cy@example.com",
            "dee@example.com",
        ]
        assert rows[0] == {
            "id": str(ada.pk),
            "created_at": timezone.localtime(ada.created_at).isoformat(timespec="seconds"),
            "email": "ada@example.com",
            "source": "linktr.ee",
            "status": "paid",
            "amount": str(ada.amount),
            "currency": "EUR",
            "units": "2",
            "attempts": "1",
            "failure_code": "",
            "next_retry_at": "",
            "paid_at": timezone.localtime(ada.paid_at).isoformat(timespec="seconds"),
            "order_number": ada.order.number,
        }
        cy = rows[2]
        assert (cy["status"], cy["failure_code"]) == ("failed", "card_declined")
        assert cy["next_retry_at"] and not cy["order_number"]
        assert rows[3]["status"] == "cancelled"

    def test_for_excel_semicolons_and_decimal_commas(self, admin_client, localstripe):
        popup, _candle, pledges = campaign(localstripe)
        ada = Pledge.objects.get(pk=pledges["ada"].pk)

        response = admin_client.get(csv_url(popup), {"sep": "semicolon"})

        content = b"".join(response.streaming_content)
        assert content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
        assert rows[0]["email"] == "ada@example.com"
        assert rows[0]["amount"] == f"{ada.amount:.2f}".replace(".", ",")
        assert rows[0]["created_at"] == timezone.localtime(ada.created_at).strftime(
            "%Y-%m-%d %H:%M:%S"
        )

    def test_a_source_cannot_become_a_spreadsheet_formula(self, admin_client, localstripe):
        popup, candle = all_or_nothing()
        back(popup, candle, localstripe, email="eve@example.com", source='=HYPERLINK("x")')
        response = admin_client.get(csv_url(popup))
        (row,) = csv.DictReader(
            io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))
        )
        assert row["source"] == '\'=HYPERLINK("x")'


def test_the_report_and_the_csv_take_as_many_queries_for_3_or_30_pledges(admin_client, localstripe):
    def funded_with(count):
        popup, candle = all_or_nothing(presale_goal_units=count)
        for number in range(count):
            back(
                popup, candle, localstripe, email=f"b{number}@example.com", source=f"s{number % 4}"
            )
        admin_client.post(action_url(popup, "settle"))
        assert set(popup.pledges.values_list("status", flat=True)) == {Pledge.Status.PAID}
        return popup

    def queries(url):
        with CaptureQueriesContext(connection) as context:
            response = admin_client.get(url)
            assert response.status_code == 200
            if response.streaming:
                b"".join(response.streaming_content)
        return len(context.captured_queries)

    small, large = funded_with(3), funded_with(30)
    queries(report_url(small))  # warm per-process caches
    assert queries(report_url(small)) == queries(report_url(large))
    assert queries(csv_url(small)) == queries(csv_url(large))


# The actions -----------------------------------------------------------------------------------


class TestSettleNow:
    def test_refused_before_the_goal_is_met(self, admin_client, localstripe):
        popup, candle = all_or_nothing(presale_goal_units=10)
        ada = back(popup, candle, localstripe, email="ada@example.com")

        response = admin_client.post(action_url(popup, "settle"), follow=True)

        assert "The goal is not met yet" in text_of(response)
        ada.refresh_from_db()
        popup.refresh_from_db()
        assert (ada.status, popup.presale_outcome) == (Pledge.Status.PLEDGED, "")

    def test_refused_for_a_flexible_pre_sale(self, admin_client):
        popup, _candle = all_or_nothing(presale_funding=PopUp.Funding.FLEXIBLE)
        response = admin_client.post(action_url(popup, "settle"), follow=True)
        assert "Only all-or-nothing pre-sales are settled" in text_of(response)

    def test_charges_the_pledges_before_the_deadline(self, admin_client, localstripe):
        popup, _candle, pledges = campaign(localstripe)

        admin_client.post(action_url(popup, "settle"))

        popup.refresh_from_db()
        assert popup.presale_outcome == PopUp.Outcome.FUNDED
        assert popup.closes_at > timezone.now()  # early: the pop-up is still open
        pledges = fresh(pledges)
        assert [p.status for p in pledges.values()] == ["paid", "paid", "failed", "cancelled"]
        response = admin_client.post(action_url(popup, "settle"), follow=True)
        assert "This pre-sale is already settled: Funded." in text_of(response)

    def test_post_only(self, admin_client):
        popup, _candle = all_or_nothing()
        for action in ("settle", "graduate", "notify"):
            assert admin_client.get(action_url(popup, action)).status_code == 405


class TestGraduateAndNotify:
    @pytest.fixture
    def variant_campaign(self, localstripe):
        """A pre-sale of the amber variant of a candle kept out of the catalogue, funded: Ada and
        Bob paid, Cy's card was declined."""
        popup, _candle = all_or_nothing(presale_goal_units=3)
        parent = oscar_factories.create_product(
            title="Ember smart candle", structure="parent", is_public=False
        )
        amber = create_product(title="Amber", parent=parent, price=Decimal("45.00"))
        popup.range.add_product(amber)
        PopUpProduct.objects.create(popup=popup, product=amber, price=Decimal("39.00"))
        pledges = {
            "ada": back(popup, amber, localstripe, email="ada@example.com", units=2),
            "bob": back(popup, amber, localstripe, email="bob@example.com"),
            "cy": back(popup, amber, localstripe, email="cy@example.com", card=DECLINED_ON_CHARGE),
        }
        close(popup)
        settle(popup)
        mail.outbox.clear()
        return popup, parent, amber, fresh(pledges)

    def test_graduating_needs_a_funded_pre_sale(self, admin_client, localstripe):
        popup, candle, _pledges = campaign(localstripe)
        response = admin_client.post(action_url(popup, "graduate"), {"stock": "50"}, follow=True)
        assert "Only a funded pre-sale can graduate" in text_of(response)
        popup.refresh_from_db()
        assert popup.graduated_at is None

    def test_a_flexible_pre_sale_graduates_once_closed_with_its_goal_met(
        self, admin_client, localstripe
    ):
        popup, candle = all_or_nothing(presale_goal_units=1, presale_funding="flexible")
        order_directly(popup, candle, localstripe, email="ada@example.com", units=1)
        close(popup)
        response = admin_client.post(action_url(popup, "graduate"), {"stock": ""}, follow=True)
        assert "graduated: its products are public in the shop." in text_of(response)
        assert candle.stockrecords.get().num_in_stock == 20  # no stock given: left as it was

    def test_graduate_makes_the_products_public_with_stock_once(
        self, admin_client, variant_campaign
    ):
        popup, parent, amber, _pledges = variant_campaign
        record = amber.stockrecords.get()
        assert (record.num_in_stock, record.num_allocated) == (20, 3)  # 3 paid pre-orders
        gift_box = oscar_factories.create_product(title="Gift box")  # no stock record
        PopUpProduct.objects.create(popup=popup, product=gift_box, price=Decimal("5.00"))

        response = admin_client.post(action_url(popup, "graduate"), {"stock": "50"}, follow=True)

        assert "graduated: its products are public in the shop." in text_of(response)
        assert "Each offers 50 units to new customers." in text_of(response)
        assert "“Gift box” has no stock record, so no stock was set" in text_of(response)
        parent.refresh_from_db()
        amber.refresh_from_db()
        assert parent.is_public and amber.is_public
        assert Product.objects.browsable().filter(pk=parent.pk).exists()
        record.refresh_from_db()
        assert (record.num_in_stock, record.net_stock_level) == (53, 50)
        popup.refresh_from_db()
        graduated_at = popup.graduated_at
        assert graduated_at is not None
        assert "Graduated" in text_of(response)

        response = admin_client.post(action_url(popup, "graduate"), {"stock": "10"}, follow=True)

        assert "has already graduated: nothing changed." in text_of(response)
        record.refresh_from_db()
        popup.refresh_from_db()
        assert (record.num_in_stock, popup.graduated_at) == (53, graduated_at)

    def test_a_negative_stock_is_refused(self, admin_client, variant_campaign):
        popup, *_rest = variant_campaign
        response = admin_client.post(action_url(popup, "graduate"), {"stock": "-1"}, follow=True)
        assert "greater than or equal to 0" in text_of(response)
        popup.refresh_from_db()
        assert popup.graduated_at is None

    def test_backers_are_told_of_the_launch_once(self, admin_client, variant_campaign):
        popup, _parent, _amber, pledges = variant_campaign
        response = admin_client.post(action_url(popup, "notify"), follow=True)
        assert "Graduate the pre-sale first" in text_of(response)
        assert mail.outbox == []

        admin_client.post(action_url(popup, "graduate"), {"stock": ""})
        response = admin_client.post(action_url(popup, "notify"), follow=True)

        assert "Launch e-mail sent to 2 paid backers." in text_of(response)
        assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.com", "bob@example.com"]
        assert all("is now in the shop" in m.subject for m in mail.outbox)
        assert PledgeEvent.objects.filter(note="Launch e-mail sent").count() == 2

        response = admin_client.post(action_url(popup, "notify"), follow=True)

        assert "Every paid backer has already had the launch e-mail." in text_of(response)
        assert len(mail.outbox) == 2
        ada = row_text(response, f"pledge_{pledges['ada'].pk}")
        assert "Paid → Paid — Launch e-mail sent" in ada


class TestPermissions:
    def test_customers_are_refused_and_visitors_sent_to_log_in(self, client, localstripe):
        popup, _candle, pledges = campaign(localstripe)
        urls = [report_url(popup), csv_url(popup)]
        actions = [action_url(popup, action) for action in ("settle", "graduate", "notify")]

        for url in urls:
            response = client.get(url)
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("dashboard:login"))
        customer = get_user_model().objects.create_user(
            username="shopper", email="shopper@example.com", password="pw"
        )
        client.force_login(customer)
        for url in urls:
            assert client.get(url).status_code == 403
        for url in actions:
            assert client.post(url, {"stock": "5"}).status_code == 403

        popup.refresh_from_db()
        assert popup.presale_outcome == PopUp.Outcome.OPEN
        assert {p.status for p in fresh(pledges).values()} == {"pledged", "cancelled"}


class TestDjangoAdmin:
    def test_pledges_are_listed_read_only(self, admin_client, localstripe):
        popup, _candle, pledges = campaign(localstripe)
        changelist = reverse("admin:popup_pledge_changelist")
        page = admin_client.get(changelist, {"status__exact": "cancelled"}).content.decode()
        assert "dee@example.com" in page and "ada@example.com" not in page
        change = reverse("admin:popup_pledge_change", args=[pledges["ada"].pk])
        page = admin_client.get(change).content.decode()
        assert "Card saved" in page  # its history
        assert 'name="_save"' not in page
        assert admin_client.get(reverse("admin:popup_pledge_add")).status_code == 403


def test_the_report_reads_french_and_its_chart_stays_dot_decimal(admin_client, localstripe):
    """In French: French words, "33,3 %", amounts as "12,00 €", each pledge's history by the French
    names of its statuses; the pledge chart (with its goal line) keeps dot-decimal coordinates."""
    popup, _candle, pledges = campaign(localstripe)
    admin_client.post(action_url(popup, "settle"))
    first_failure = Pledge.objects.get(pk=pledges["cy"].pk).first_failed_at
    for days in (1, 3, 7):
        settle(popup, now=first_failure + timedelta(days=days, seconds=1))
    # A goal in money, for the chart to draw its goal line.
    PopUp.objects.filter(pk=popup.pk).update(
        presale_goal_units=None, presale_goal_amount=Decimal("333.33")
    )

    with translation.override("fr"):
        response = admin_client.get(report_url(popup), HTTP_ACCEPT_LANGUAGE="fr")

    page = response.content.decode()
    assert "Bilan de la précommande" in page
    assert "33,3\u00a0%" in page
    assert row_text(response, "figure_drop_rate") == (
        "Taux d'abandon 33,3 % 1 abandonnés sur 3 passés au débit"
    )
    ada = row_text(response, f"pledge_{pledges['ada'].pk}")
    # The notes are the services' own (stored with the event), not the statuses.
    assert "Engagé → Débit en cours" in ada and "Débit en cours → Payé" in ada
    amount = fresh(pledges)["ada"].amount
    assert f"{amount:.2f}".replace(".", ",") + "\u00a0€" in page
    attributes = assert_svg_dot_decimal(page)
    assert ("id", "pledge_chart") in attributes
    assert ("stroke-dasharray", "6 4") in attributes  # the goal line is drawn
