"""The pop-up page as a shell the same for everyone, and the live call that carries the rest."""

import gzip
import json
import time
from datetime import timedelta
from decimal import Decimal
from io import BytesIO
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from popup.analytics.stats import stats_flush
from popup.channels.placements import placement_create
from popup.checks import shared_pages_check
from popup.core.holds import basket_create, hold_set
from popup.core.shells import PageShells, shells_generation
from popup.models import PopUpDayStats, PopUpProduct
from tests.factories import PopUpFactory, create_product, popup_with_products
from tests.popup.checkout.support import live

pytestmark = pytest.mark.django_db


def wsgi_get(app, path: str, query: str = "", **environ) -> tuple[str, dict, bytes]:
    """One GET through the WSGI application, as gunicorn makes it."""
    request = {"PATH_INFO": path, "QUERY_STRING": query, "wsgi.input": BytesIO(b"")}
    request.update(environ)
    setup_testing_defaults(request)
    answered = {}

    def start_response(status, headers, exc_info=None):
        answered["status"], answered["headers"] = status, headers

    body = b"".join(app(request, start_response))
    headers = {}
    for name, value in answered["headers"]:
        headers.setdefault(name.lower(), []).append(value)
    return answered["status"], {name: ", ".join(values) for name, values in headers.items()}, body


@pytest.fixture
def app():
    # As Django's test client does: the test's transaction outlives each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield PageShells(WSGIHandler())
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_every_shopper_gets_the_same_page_and_hits_touch_no_database_nor_session(app):
    popup = popup_with_products(3)
    placement = placement_create(popup=popup, name="Story")
    path = f"/popup/{popup.slug}/"
    first = wsgi_get(app, path)  # rendered once, through Django's middleware
    assert first[0] == "200 OK" and "x-popup-shell" not in first[1]

    arrivals = [
        {"query": f"pl={placement.code}&utm_source=instagram", "REMOTE_ADDR": "198.51.100.7"},
        {"query": "code=WRONG", "HTTP_COOKIE": "sessionid=abc; csrftoken=def"},
        {"query": "", "HTTP_X_FORWARDED_FOR": "203.0.113.9"},
    ]
    with CaptureQueriesContext(connection) as queries:
        answers = [wsgi_get(app, path, arrival.pop("query"), **arrival) for arrival in arrivals]
    assert len(queries.captured_queries) == 0
    assert {body for _status, _headers, body in answers} == {first[2]}
    for status, headers, _body in answers:
        assert status == "200 OK"
        assert headers["etag"] == first[1]["etag"]
        assert "set-cookie" not in headers and "cookie" not in headers["vary"].lower()
        assert headers["cache-control"] == "public, max-age=0, s-maxage=60"
        # What Django's middleware adds to the page, a shell keeps.
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert placement.code not in first[2].decode() and "WRONG" not in first[2].decode()

    status, headers, body = wsgi_get(app, path, HTTP_ACCEPT_ENCODING="gzip, br")
    assert headers["content-encoding"] == "gzip" and gzip.decompress(body) == first[2]
    assert int(headers["content-length"]) == len(body) < len(first[2]) / 3
    status, _headers, body = wsgi_get(app, path, HTTP_IF_NONE_MATCH=first[1]["etag"])
    assert (status, body) == ("304 Not Modified", b"")
    embed = wsgi_get(app, f"{path}embed/")
    assert embed[0] == "200 OK" and "x-frame-options" not in embed[1]


def test_a_change_to_the_pop_up_its_products_or_prices_renders_the_page_again(client):
    popup = popup_with_products(2)
    product = popup.range.all_products().first()
    path = f"/popup/{popup.slug}/"

    def page() -> str:
        return client.get(path).content.decode()

    assert "€40.00" in page()
    product.stockrecords.update(price=Decimal("35.00"))  # no signal: the old page is kept a while
    assert "€35.00" not in page()
    record = product.stockrecords.get()
    record.price = Decimal("30.00")
    record.save()
    assert "€30.00" in page()
    popup.title = "Winter drop, second run"
    popup.save()
    assert "Winter drop, second run" in page()
    other = create_product(title="Ochre mittens")
    popup.range.add_product(other)
    assert "Ochre mittens" in page()
    # An order's stock allocation saves the stock record: its page stays (units come live).
    generation = shells_generation()
    record.allocate(1)
    assert shells_generation() == generation


def test_coming_soon_turns_live_at_opens_at_without_any_write(client):
    popup = popup_with_products(1, opens_at=timezone.now() + timedelta(seconds=2))
    path = f"/popup/{popup.slug}/"
    assert "Opens in" in client.get(path).content.decode()
    assert "Opens in" in client.get(path).content.decode()  # the stored shell
    time.sleep(2.2)
    page = client.get(path).content.decode()
    assert "Opens in" not in page and "Ends in" in page and "data-add" in page


def test_the_page_a_pop_up_opens_with_is_ready_before_the_first_fan_asks_for_it(app):
    """Rendered ahead with the coming-soon page: at the opening second the crowd waits for no
    render, and no database."""
    popup = popup_with_products(2, opens_at=timezone.now() + timedelta(seconds=2))
    path = f"/popup/{popup.slug}/"
    soon = wsgi_get(app, path)
    assert "Opens in" in soon[2].decode()
    time.sleep((popup.opens_at - timezone.now()).total_seconds() + 0.1)

    with CaptureQueriesContext(connection) as queries:
        status, headers, body = wsgi_get(app, path)
    assert status == "200 OK" and len(queries.captured_queries) == 0
    assert "Opens in" not in body.decode() and "Ends in" in body.decode()
    assert "data-add" in body.decode() and headers["etag"] != soon[1]["etag"]


def test_event_prices_and_codes_stay_out_of_the_shared_page(client):
    popup = popup_with_products(1, unlock_code="GALA")
    popup.product_terms.update(price=Decimal("30.00"), event_price=Decimal("19.00"))
    product_id = popup.product_terms.get().product_id

    page = client.get(f"/popup/{popup.slug}/?code=gala").content.decode()
    assert "€30.00" in page and "19.00" not in page and "GALA" not in page
    arrival = live(client, popup, "code=gala").json()["arrival"]
    assert arrival["unlocked"] and arrival["prices"] == {
        str(product_id): {"price": "€19.00", "label": "Event price"}
    }
    assert live(client, popup).json()["arrival"]["prices"] == {}


def test_views_are_counted_by_the_live_call_once_per_page_load_as_the_page_did(
    client, admin_client
):
    popup = popup_with_products(1)
    for _visit in range(3):
        client.get(f"/popup/{popup.slug}/")  # the page alone (a crawler, a prefetch): no view
    live(client, popup)
    live(client, popup, view="embed")
    live(client, popup, view="")  # the page's later polls
    live(client, popup, view="something")
    stats_flush()
    day = PopUpDayStats.objects.get(popup=popup)
    assert (day.views, day.embed_views) == (1, 1)

    popup.is_published = False  # a draft: staff preview it, nobody counts
    popup.save()
    assert admin_client.get(f"/popup/{popup.slug}/").status_code == 200
    assert client.get(f"/popup/{popup.slug}/").status_code == 404  # never kept for the public
    assert live(admin_client, popup).status_code == 200
    assert live(client, popup).status_code == 404
    stats_flush()
    day.refresh_from_db()
    assert (day.views, day.embed_views) == (1, 1)


def test_the_live_call_is_at_most_a_second_old_with_an_etag(client):
    popup, product = PopUpFactory(), create_product(title="Indigo scarf", stock=50)
    popup.range.add_product(product)
    PopUpProduct.objects.create(popup=popup, product=product, units_offered=5)
    answer = live(client, popup, view="")
    figures = answer.json()
    assert answer["Cache-Control"] == "private, max-age=1"
    assert (figures["state"], figures["units_left"]) == ("live", 5)
    assert figures["products"][str(product.pk)]["units_left"] == 5
    assert figures["basket"] is None
    etag = answer["ETag"]
    assert live(client, popup, view="", HTTP_IF_NONE_MATCH=etag).status_code == 304

    basket = basket_create(popup=popup)
    hold_set(basket=basket, product_id=product.pk, quantity=2)
    time.sleep(1.1)
    figures = live(client, popup, view="", token=basket.token).json()
    assert figures["units_left"] == 3
    assert figures["basket"]["units"] == 2 and figures["basket"]["token"] == basket.token
    sold = live(client, popup, view="", token="no-such-basket").json()
    assert sold["basket"] is None  # the page's script forgets the token


def test_a_store_whose_prices_depend_on_the_request_is_told_and_gets_pages_per_visit(
    client, settings
):
    popup = popup_with_products(1)
    settings.POPUP_SHARED_PAGES = False
    first = client.get(f"/popup/{popup.slug}/")
    assert first["Cache-Control"] == "no-cache" and "ETag" not in first
    settings.POPUP_SHARED_PAGES = None
    assert shared_pages_check(None) == []  # the reference store uses Oscar's own Selector


def test_a_crowd_without_baskets_shares_one_live_answer_a_second_and_each_view_counts(app):
    popup = popup_with_products(2)
    path = f"/popup/{popup.slug}/live/"
    first = wsgi_get(app, path, "view=page")  # computed by the view, kept for a second
    assert first[0] == "200 OK" and first[1]["cache-control"] == "private, max-age=1"
    assert "X-Popup-Basket" in first[1]["vary"]  # no cache gives one basket's answer to another
    with CaptureQueriesContext(connection) as queries:
        shared = [wsgi_get(app, path, view) for view in ("view=page", "view=embed", "")]
    assert len(queries.captured_queries) == 0
    assert {body for _status, _headers, body in shared} == {first[2]}
    assert {headers["vary"] for _status, headers, _body in shared} == {
        "Accept-Encoding, X-Popup-Basket"
    }
    # A shopper with a basket, or who came by a placement or a campaign, gets their own answer.
    basket = basket_create(popup=popup)
    own = wsgi_get(app, path, "view=page", HTTP_X_POPUP_BASKET=basket.token)
    assert json.loads(own[2])["basket"]["token"] == basket.token
    campaign = wsgi_get(app, path, "view=page&utm_source=instagram")
    assert json.loads(campaign[2])["arrival"]["utm"] == {"source": "instagram"}
    stats_flush()
    day = PopUpDayStats.objects.get(popup=popup)
    assert (day.views, day.embed_views) == (4, 1)
    time.sleep(1.1)  # a second later, the figures are computed again
    assert wsgi_get(app, path)[1]["etag"] == first[1]["etag"]  # nothing changed meanwhile
    hold_set(basket=basket, product_id=popup.product_terms.first().product_id, quantity=1)
    time.sleep(1.1)
    assert json.loads(wsgi_get(app, path)[2])["units_left"] == 19
