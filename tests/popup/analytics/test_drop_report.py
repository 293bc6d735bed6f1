"""The drop report: the first-party funnel, sales, speed, sell-out, unmet demand and feedback of a
pop-up; its CSVs, the comparison of two pop-ups, and the suggestions applied in one click."""

import html
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from oscar.core.loading import get_model

from popup.analytics.drop_report import drop_headline, drop_report
from popup.channels.placements import basket_attribute, channel_placement_get, placement_create
from popup.checkout.services import checkout_pay
from popup.core.holds import basket_create, hold_set, holds_delete_expired
from popup.feedback.reviews import review_submit
from popup.models import (
    Hold,
    Idea,
    Placement,
    Poll,
    PollOption,
    PopUp,
    PopUpDayStats,
    PopUpProduct,
    Question,
    ReviewInvite,
)
from tests.factories import create_product, popup_with_products
from tests.integrations.stripe.support import card_token
from tests.popup.analytics.support import assert_svg_dot_decimal
from tests.popup.checkout.support import SHOPPER, basket_holding

Order = get_model("order", "Order")
ProductAlert = get_model("customer", "ProductAlert")
Product = get_model("catalogue", "Product")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("stripe_settings"),
    pytest.mark.usefixtures("france"),
]


def url(popup, suffix="drop/"):
    return f"/dashboard/popups/{popup.pk}/{suffix}"


def test_a_sold_out_drop_reports_its_funnel_speed_and_lost_sales(localstripe, admin_client):
    basket = basket_holding(units=3, quantity=2, price=Decimal("25.00"))
    popup = basket.popup
    PopUp.objects.filter(pk=popup.pk).update(opens_at=timezone.now() - timedelta(hours=2))
    checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe))
    second = basket_create(popup=popup)
    product = PopUpProduct.objects.get(popup=popup).product
    hold_set(basket=second, product_id=product.pk, quantity=1)
    checkout_pay(basket=second, details=SHOPPER, card_token=card_token(localstripe))
    PopUpDayStats.objects.create(
        popup=popup,
        day=timezone.localdate(),
        views=80,
        embed_views=120,
        baskets=20,
        checkouts=5,
        unmet=7,
    )
    ProductAlert.objects.create(product=product, email="late@example.com")

    page = " ".join(admin_client.get(url(popup)).content.decode().split())
    for text in (
        "Views (page and embeds)</th> <td>200</td>",
        "Baskets</th> <td>20</td> <td>10.0%</td>",  # of the views
        "Paid orders</th> <td>2</td> <td>40.0%</td>",  # of the checkouts
        "3 / 3 (100.0% sell-through)",
        "7 add-to-basket attempts refused",
        "1 waitlist sign-up<",
        "units: the rate before selling out",
    ):
        assert text in page, text
    csv = b"".join(admin_client.get(url(popup, "drop.csv")).streaming_content).decode("utf-8-sig")
    assert csv.splitlines()[1].startswith("Indigo scarf,3,3,100.0,75.00,1")


def test_what_each_placement_brought_is_reported_the_meta_shop_like_any(localstripe, admin_client):
    direct = basket_holding(units=10, quantity=1, price=Decimal("25.00"))
    popup = direct.popup
    checkout_pay(basket=direct, details=SHOPPER, card_token=card_token(localstripe))
    meta = channel_placement_get(popup=popup, channel=Placement.Channel.META_SHOP)
    Placement.objects.filter(pk=meta.pk).update(views=12)
    placement_create(popup=popup, name="Instagram bio")  # nothing through it yet
    product = PopUpProduct.objects.get(popup=popup).product
    for quantity in (2, 1):
        basket = basket_create(popup=popup)
        basket_attribute(basket=basket, placement_code=meta.code)
        hold_set(basket=basket, product_id=product.pk, quantity=quantity)
    checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe))

    page = " ".join(admin_client.get(url(popup)).content.decode().split())
    assert "Where shoppers came from" in page
    csv = b"".join(admin_client.get(url(popup, "drop/placements.csv")).streaming_content)
    assert csv.decode("utf-8-sig").splitlines() == [
        "placement,arrivals,baskets,orders,revenue",
        "Meta shop,12,2,1,25.00",
        "No placement,,1,1,25.00",
        "Instagram bio,0,0,0,0.00",
    ]


def test_the_report_makes_as_many_queries_with_1_or_5_orders(localstripe, admin_client):
    basket = basket_holding(units=20, quantity=1)
    popup = basket.popup
    checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe))

    def queries():
        with CaptureQueriesContext(connection) as context:
            assert admin_client.get(url(popup)).status_code == 200
        return len(context.captured_queries)

    few = queries()
    product = PopUpProduct.objects.get(popup=popup).product
    for _ in range(4):
        more = basket_create(popup=popup)
        hold_set(basket=more, product_id=product.pk, quantity=1)
        checkout_pay(basket=more, details=SHOPPER, card_token=card_token(localstripe))
    assert queries() == few


def test_expired_holds_count_once_per_basket_and_a_checked_out_basket_never(
    localstripe, admin_client
):
    paid = basket_holding(units=10, quantity=1)
    popup = paid.popup
    checkout_pay(basket=paid, details=SHOPPER, card_token=card_token(localstripe))
    product = PopUpProduct.objects.get(popup=popup).product
    second = create_product(title="Rust scarf")
    popup.range.add_product(second)
    PopUpProduct.objects.create(popup=popup, product=second, units_offered=10)
    walked_away = basket_create(popup=popup)
    hold_set(basket=walked_away, product_id=product.pk, quantity=1)
    hold_set(basket=walked_away, product_id=second.pk, quantity=2)
    lapsed_recently = basket_create(popup=popup)
    hold_set(basket=lapsed_recently, product_id=product.pk, quantity=1)
    lapsed_at = timezone.now() - timedelta(hours=2)  # yesterday, when run just after midnight
    Hold.objects.filter(basket=walked_away).update(reserved_until=lapsed_at)
    Hold.objects.filter(basket=lapsed_recently).update(
        reserved_until=timezone.now() - timedelta(minutes=5)
    )
    lapse_day = timezone.localdate(lapsed_at)
    PopUpDayStats.objects.create(popup=popup, day=lapse_day, baskets=4)

    assert holds_delete_expired() == 2  # the walked-away basket's two rows
    assert holds_delete_expired() == 0
    assert PopUpDayStats.objects.get(popup=popup, day=lapse_day).holds_expired == 1
    report = drop_report(popup=popup)
    # One tidied away, one lapsed but not tidied yet; the paid basket had nothing left to lapse.
    assert (report.holds_expired, report.hold_expiry_rate) == (2, Decimal("50.0"))
    page = " ".join(admin_client.get(url(popup)).content.decode().split())
    assert "50.0% (2 of 4 baskets let their reserved units lapse" in page


@pytest.fixture
def drop_with_feedback(localstripe):
    """A sold-out pop-up with a verified review, a poll, ideas and questions, one answered in 2 h."""
    basket = basket_holding(units=3, quantity=3, price=Decimal("25.00"))
    popup = basket.popup
    order = checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe)).order
    product = PopUpProduct.objects.get(popup=popup).product
    invite = ReviewInvite.objects.create(order=order, popup=popup)
    review_submit(
        invite=invite,
        product_id=product.pk,
        score=4,
        title="Soft",
        body="Warm and <b>soft</b>.",
        name="Ada",
        aspects={"quality": 5, "value": 3},
    )
    poll = Poll.objects.create(popup=popup, question="Which colour next?")
    PollOption.objects.create(poll=poll, label="Sage", votes=6)
    PollOption.objects.create(poll=poll, label="Rust", votes=3)
    Idea.objects.create(popup=popup, title="A <script>x</script> beanie", email="a@x.com", votes=9)
    Idea.objects.create(popup=popup, title="Spam", email="s@x.com", votes=50, status="spam")
    asked = Question.objects.create(popup=popup, email="q@x.com", body="Does it shrink?")
    Question.objects.filter(pk=asked.pk).update(
        status="published",
        answer="No.",
        created_at=timezone.now() - timedelta(hours=3),
        answered_at=timezone.now() - timedelta(hours=1),
    )
    Question.objects.create(popup=popup, email="w@x.com", body="Gift wrap?")
    return popup


def test_the_report_shows_ratings_polls_ideas_and_questions(drop_with_feedback, admin_client):
    popup = drop_with_feedback
    response = admin_client.get(url(popup))
    page = " ".join(response.content.decode().split())
    for text in (
        "<strong>4.0 / 5</strong> from 1 verified review",
        'aria-label="4 ★: 1"',
        "Quality</th><td>5.0 / 5",
        "Value for money</th><td>3.0 / 5",
        "As described</th><td>—",
        'aria-label="Sage: 6"',
        'width="100.0%" height="16" fill="#c2410c"',  # Sage, the longest bar
        'aria-label="Rust: 3"',
        "A &lt;script&gt;x&lt;/script&gt; beanie</td><td>9</td><td>Open",
        "1 waiting, 1 answered.",
        "Median answer time 2 h",
        "Gift wrap?",
        'id="drop_sales_chart"',
    ):
        assert text in page, text
    assert "Spam</td>" not in page
    assert "<script>x" not in page


@pytest.mark.parametrize(
    "table, header, row",
    [
        ("summary", "figure,value", "Paid orders,1"),
        ("funnel", "step,count,percent_of_step_before", "Paid orders,1,"),
        ("products", "product,offered,sold", "Indigo scarf,3,3,100.0,75.00,0"),
        ("sales", "time,units_sold_by_then", ",3"),
        ("ratings", "score_or_aspect,reviews,average", "Quality,1,5.0"),
        ("polls", "poll,option,confirmed_votes,voting", "Which colour next?,Sage,6,open"),
        ("ideas", "idea,status,votes", "Spam,Held as spam,50"),
        ("questions", "question,product,status", "Gift wrap?,,Waiting for an answer"),
    ],
)
def test_every_table_downloads_as_csv(drop_with_feedback, admin_client, table, header, row):
    response = admin_client.get(url(drop_with_feedback, f"drop/{table}.csv"))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert text.startswith(header)
    assert any(row in line for line in text.splitlines()[1:]), text


def test_the_sold_out_time_reads_as_each_language_writes_a_short_date(
    drop_with_feedback, admin_client
):
    sold_out = timezone.localtime(drop_report(popup=drop_with_feedback).sold_out_at)
    months_fr = [
        "jan.",
        "fév.",
        "mars",
        "avr.",
        "mai",
        "juin",
        "juil.",
        "août",
        "sept.",
        "oct.",
        "nov.",
        "déc.",
    ]
    english = f"{sold_out.day} {sold_out:%b}, {sold_out:%H:%M}, "
    french = f"{sold_out.day} {months_fr[sold_out.month - 1]} à {sold_out:%H:%M}, "

    page = admin_client.get(url(drop_with_feedback)).content.decode()
    with translation.override("fr"):
        page_fr = admin_client.get(url(drop_with_feedback), HTTP_ACCEPT_LANGUAGE="fr")

    assert f"<td>{english}" in page
    assert f"<td>{french}" in html.unescape(page_fr.content.decode())


def test_csv_for_french_excel_and_for_machines(drop_with_feedback, admin_client):
    """Both start with a byte order mark (French Excel reads UTF-8 as its old code page without
    one); the one for Excel, asked for with its link, has semicolons and decimal commas and times
    Excel reads; the plain one keeps commas and dot decimals for scripts, in French too."""
    products = url(drop_with_feedback, "drop/products.csv")
    questions = url(drop_with_feedback, "drop/questions.csv")
    with translation.override("fr"):
        page = admin_client.get(url(drop_with_feedback), HTTP_ACCEPT_LANGUAGE="fr")
        plain, excel, asked = (
            b"".join(admin_client.get(address, HTTP_ACCEPT_LANGUAGE="fr").streaming_content)
            for address in (products, products + "?sep=semicolon", questions + "?sep=semicolon")
        )

    assert f'href="{products}?sep=semicolon"' in page.content.decode()
    assert "CSV pour Excel (;)" in page.content.decode()
    for content in (plain, excel, asked):
        assert content.startswith(b"\xef\xbb\xbf")
    plain, excel, asked = (
        content.decode("utf-8-sig").splitlines() for content in (plain, excel, asked)
    )
    assert plain[0].startswith("Produit,Proposées,Vendues,Taux d'écoulement (%),")
    assert plain[1] == "Indigo scarf,3,3,100.0,75.00,0"
    assert excel[0].startswith("Produit;Proposées;Vendues;Taux d'écoulement (%);")
    assert excel[1] == "Indigo scarf;3;3;100,0;75,00;0"
    assert asked[0].startswith("Question;Produit;Statut;Date de la question;")
    answered = next(line.split(";") for line in asked if line.startswith("Does it shrink?"))
    assert answered[-1] == "2,0"  # hours
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", answered[3])  # Excel reads it as a time


def test_an_unknown_table_is_not_found(drop_with_feedback, admin_client):
    assert admin_client.get(url(drop_with_feedback, "drop/secrets.csv")).status_code == 404


def test_the_report_query_count_does_not_grow_with_feedback(drop_with_feedback, admin_client):
    popup = drop_with_feedback

    def queries():
        with CaptureQueriesContext(connection) as context:
            assert admin_client.get(url(popup)).status_code == 200
        return len(context.captured_queries)

    few = queries()
    poll = Poll.objects.create(popup=popup, question="Which size?")
    for number in range(5):
        PollOption.objects.create(poll=poll, label=f"Size {number}", votes=number)
        Idea.objects.create(popup=popup, title=f"Idea {number}", email="i@x.com", votes=number)
        Question.objects.create(popup=popup, email="q@x.com", body=f"Question {number}?")
    assert queries() == few


def test_a_sold_out_live_drop_suggests_a_restock_and_applies_it(localstripe, admin_client):
    basket = basket_holding(units=3, quantity=3)
    popup = basket.popup
    checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe))
    product = PopUpProduct.objects.get(popup=popup).product
    ProductAlert.objects.create(product=product, email="late@example.com")
    PopUpDayStats.objects.create(popup=popup, day=timezone.localdate(), baskets=10, unmet=11)

    page = " ".join(admin_client.get(url(popup)).content.decode().split())
    # 3 sold + (1 waiting + 11 refused) × 10% conversion (1 order of 10 baskets), rounded up.
    assert f'name="units-{product.pk}" value="5"' in page
    assert "5 = 3 sold + (1 on the waitlist + its share of 11 refused" in page
    assert "10.0% conversion" in page

    act = url(popup, "drop/act/")
    response = admin_client.post(
        act, {"action": "restock", f"units-{product.pk}": "2"}, follow=True
    )
    assert "3 units are already sold; offer at least that many." in response.content.decode()
    assert PopUpProduct.objects.get(popup=popup).units_offered == 3
    response = admin_client.post(
        act, {"action": "restock", f"units-{product.pk}": "x"}, follow=True
    )
    assert "“x” is not a number." in response.content.decode()
    response = admin_client.post(
        act, {"action": "restock", f"units-{product.pk}": "8"}, follow=True
    )
    assert "Restocked 1 product in this pop-up." in response.content.decode()
    assert PopUpProduct.objects.get(popup=popup).units_offered == 8


def test_a_closed_drop_relaunches_as_a_draft_with_new_quantities(localstripe, admin_client):
    basket = basket_holding(units=3, quantity=3, price=Decimal("25.00"))
    popup = basket.popup
    checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe))
    now = timezone.now()
    PopUp.objects.filter(pk=popup.pk).update(
        opens_at=now - timedelta(days=2), closes_at=now - timedelta(days=1)
    )
    product = PopUpProduct.objects.get(popup=popup).product
    page = admin_client.get(url(popup)).content.decode()
    assert 'id="suggest_relaunch"' in page and 'id="suggest_restock"' not in page

    response = admin_client.post(
        url(popup, "drop/act/"), {"action": "relaunch", f"units-{product.pk}": "12"}
    )
    copy = PopUp.objects.get(relaunched_from=popup)
    assert response.url == f"/dashboard/popups/{copy.pk}/edit/"
    assert not copy.is_published and copy.title == f"{popup.title} (relaunch)"
    assert copy.opens_at > timezone.now() + timedelta(days=6)
    assert copy.closes_at - copy.opens_at == timedelta(days=1)
    terms = PopUpProduct.objects.get(popup=copy)
    assert (terms.product, terms.units_offered, terms.units_sold, terms.price) == (
        product,
        12,
        0,
        Decimal("25.00"),
    )
    # The relaunch is compared with its original by default.
    compare = admin_client.get(f"/dashboard/popups/{copy.pk}/drop/").content.decode()
    assert (
        f'<option value="{popup.pk}">'
        in compare.split('id="compare_with"')[1].split("</option>")[0]
    )


def test_a_slow_mover_is_repriced_in_one_click(admin_client):
    popup = popup_with_products(1, units_offered=50)
    PopUp.objects.filter(pk=popup.pk).update(
        opens_at=timezone.now() - timedelta(hours=6), closes_at=timezone.now() + timedelta(hours=4)
    )
    terms = PopUpProduct.objects.get(popup=popup)
    page = " ".join(admin_client.get(url(popup)).content.decode().split())
    # Nothing sold with 60% of the time gone; 15% off the regular 40.00.
    assert f'name="price-{terms.product_id}" value="34.00"' in page
    assert (
        "0 of 50 sold with 60% of the time gone: about 0 by closing at this pace; 15% off €40.00"
        in page
    )

    response = admin_client.post(
        url(popup, "drop/act/"),
        {"action": "reprice", f"price-{terms.product_id}": "33.50"},
        follow=True,
    )
    assert (
        "New prices apply at once, to every basket not yet at payment." in response.content.decode()
    )
    assert PopUpProduct.objects.get(popup=popup).price == Decimal("33.50")
    response = admin_client.post(
        url(popup, "drop/act/"),
        {"action": "reprice", f"price-{terms.product_id}": "-1"},
        follow=True,
    )
    assert "A price cannot be negative." in response.content.decode()


def test_a_drop_that_sold_through_graduates_its_products(localstripe, admin_client):
    basket = basket_holding(units=3, quantity=3)
    popup = basket.popup
    checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe))
    product = PopUpProduct.objects.get(popup=popup).product
    Product.objects.filter(pk=product.pk).update(is_public=False)
    page = admin_client.get(url(popup)).content.decode()
    assert "100.0% sell-through (3 of 3 units)" in page

    response = admin_client.post(
        url(popup, "drop/act/"), {"action": "graduate", "stock": "40"}, follow=True
    )
    assert "graduated: its products are public in the shop." in response.content.decode()
    product.refresh_from_db()
    assert product.is_public and product.stockrecords.get().num_in_stock == 40 + 3
    assert 'id="suggest_graduate"' not in admin_client.get(url(popup)).content.decode()


def test_two_drops_compare_side_by_side_and_as_csv(drop_with_feedback, admin_client):
    other = popup_with_products(1)
    compare = f"/dashboard/popups/compare/?a={drop_with_feedback.pk}&b={other.pk}"
    page = " ".join(admin_client.get(compare).content.decode().split())
    assert "Paid orders</th><td>1</td><td>0</td>" in page
    assert "Average rating</th><td>4.0</td><td>—</td>" in page
    assert 'id="compare_funnel_2"' in page
    excel = f"?a={drop_with_feedback.pk}&amp;b={other.pk}&amp;format=csv&amp;sep=semicolon"
    assert f'href="{excel}"' in page
    text = b"".join(admin_client.get(compare + "&format=csv").streaming_content).decode("utf-8-sig")
    assert text.splitlines()[0] == f"figure,{drop_with_feedback.title},{other.title}"
    assert admin_client.get("/dashboard/popups/compare/?a=1").status_code == 404


def test_a_relaunch_keeps_uncapped_products_uncapped_and_says_relaunch_once(admin_client):
    popup = popup_with_products(2, units_offered=10)
    capped, uncapped = PopUpProduct.objects.filter(popup=popup).order_by("display_order")
    PopUpProduct.objects.filter(pk=uncapped.pk).update(units_offered=None)
    now = timezone.now()
    PopUp.objects.filter(pk=popup.pk).update(
        opens_at=now - timedelta(days=3), closes_at=now - timedelta(days=1)
    )
    page = admin_client.get(url(popup)).content.decode()
    assert f'name="units-{capped.product_id}" value="10"' in page  # nothing sold: the old cap
    assert f'name="units-{uncapped.product_id}" value=""' in page

    form = {"action": "relaunch", f"units-{capped.product_id}": "10"}
    admin_client.post(url(popup, "drop/act/"), {**form, f"units-{uncapped.product_id}": ""})
    copy = PopUp.objects.get(relaunched_from=popup)
    offered = dict(
        PopUpProduct.objects.filter(popup=copy).values_list("product_id", "units_offered")
    )
    assert offered == {capped.product_id: 10, uncapped.product_id: None}

    PopUp.objects.filter(pk=copy.pk).update(
        opens_at=now - timedelta(days=3), closes_at=now - timedelta(days=1)
    )
    admin_client.post(url(copy, "drop/act/"), {**form, f"units-{uncapped.product_id}": "4"})
    again = PopUp.objects.get(relaunched_from=copy)
    assert again.title == f"{popup.title} (relaunch)" and again.slug != copy.slug


def test_the_hourly_sales_chart_counts_the_spring_daylight_saving_hour_once(localstripe, settings):
    """Paris skips 02:00–03:00 on 28 March 2027. A drop selling across that night has each order
    counted once: the chart steps in real hours, not wall-clock ones."""
    settings.TIME_ZONE = "Europe/Paris"
    basket = basket_holding(units=10, quantity=1)
    popup = basket.popup
    checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe))
    second = basket_create(popup=popup)
    hold_set(basket=second, product_id=PopUpProduct.objects.get().product_id, quantity=2)
    checkout_pay(basket=second, details=SHOPPER, card_token=card_token(localstripe))
    # Then the drop is moved to that night.
    opens = datetime(2027, 3, 27, 23, 0, tzinfo=UTC)  # midnight in Paris
    closes = opens + timedelta(hours=6)
    PopUp.objects.filter(pk=popup.pk).update(opens_at=opens, closes_at=closes)
    popup.refresh_from_db()
    orders = list(Order.objects.order_by("pk"))
    # 01:30 CET, then 03:30 CEST: the hour right after the one that does not exist.
    Order.objects.filter(pk=orders[0].pk).update(date_placed=opens + timedelta(hours=1, minutes=30))
    Order.objects.filter(pk=orders[1].pk).update(date_placed=opens + timedelta(hours=2, minutes=30))

    report = drop_report(popup=popup, now=closes)

    assert report.sales_by == "hour"
    times = [moment for moment, _units in report.sales]
    assert times == sorted(set(times))
    assert report.sales[-1][1] == 3
    assert [units for _moment, units in report.sales] == [0, 0, 1, 3, 3, 3, 3]


def test_the_drop_report_reads_french_and_its_charts_stay_dot_decimal(localstripe, admin_client):
    """In French the page's words and numbers are French ("10,0 %"), while the coordinates of its
    SVG charts keep the decimal point: a decimal comma would break the drawing."""
    basket = basket_holding(units=3, quantity=2, price=Decimal("25.00"))
    popup = basket.popup
    PopUp.objects.filter(pk=popup.pk).update(opens_at=timezone.now() - timedelta(hours=2))
    checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe))
    PopUpDayStats.objects.create(
        popup=popup, day=timezone.localdate(), views=80, embed_views=120, baskets=20, checkouts=3
    )

    with translation.override("fr"):
        page = admin_client.get(url(popup), HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    text = re.sub(r"[ \t\r\n]+", " ", page)  # str.split() would split at no-break spaces too
    for french in (
        f"Bilan du drop\u00a0: {popup.title}",
        "Tunnel de conversion",
        "Vues (page et intégrations)</th> <td>200</td>",
        "Paniers</th> <td>20</td> <td>10,0\u00a0%</td>",  # of the views
        "Unités vendues au fil du temps",
        "Que faire ensuite",
    ):
        assert french in text, french
    assert "Drop report" not in text and "Funnel" not in text
    attributes = assert_svg_dot_decimal(page)
    assert ("id", "drop_sales_chart") in attributes  # the line chart is drawn
    assert {name for name, _value in attributes} >= {"cx", "cy", "points", "viewBox", "width"}


def test_the_figures_are_keyed_by_code_and_read_in_the_page_language(
    drop_with_feedback, admin_client
):
    """The comparison pairs two drops' figures by code, never by their English label: in French
    every row still holds both drops' values, under a French label."""
    other = popup_with_products(1)
    report = drop_report(popup=drop_with_feedback)
    english = drop_headline(report)
    with translation.override("fr"):
        french = drop_headline(report)
        compare = f"/dashboard/popups/compare/?a={drop_with_feedback.pk}&b={other.pk}"
        page = re.sub(
            r"\s+",
            " ",
            admin_client.get(compare, HTTP_ACCEPT_LANGUAGE="fr").content.decode(),
            flags=re.ASCII,
        )
        csv = b"".join(
            admin_client.get(compare + "&format=csv", HTTP_ACCEPT_LANGUAGE="fr").streaming_content
        ).decode("utf-8-sig")
        funnel = b"".join(
            admin_client.get(
                url(drop_with_feedback, "drop/funnel.csv"), HTTP_ACCEPT_LANGUAGE="fr"
            ).streaming_content
        ).decode("utf-8-sig")

    assert [figure.code for figure in french] == [figure.code for figure in english]
    labels = {figure.code: figure.label for figure in french}
    assert (labels["orders"], labels["average_rating"]) == ("Commandes payées", "Note moyenne")
    assert "Commandes payées</th><td>1</td><td>0</td>" in page
    assert "Note moyenne</th><td>4,0</td><td>—</td>" in page
    assert "Tunnel de conversion\u00a0:" in page
    assert csv.splitlines()[0] == f"Indicateur,{drop_with_feedback.title},{other.title}"
    assert funnel.splitlines()[0] == "Étape,Nombre,% de l'étape précédente"
    assert "Commandes payées,1," in funnel
    assert [step.key for step in report.funnel] == ["views", "baskets", "checkouts", "orders"]
