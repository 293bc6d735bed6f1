"""Live figures pushed: the stream process (popup.stream) under uvicorn, against the test database.

Everything a test writes is committed (transactional tests), so the stream process, a separate
program with its own connections as in production, reads what the test's shoppers did.
"""

import json
import socket
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from popup.analytics.counters import redis_connection
from popup.analytics.merchandising import popup_restock
from popup.core.pushes import FIGURES, channel, last_key, live_figures_publish
from popup.models import Hold, PopUp, PopUpProduct
from tests.factories import popup_with_products
from tests.popup.checkout.support import held_over_http
from tests.streams import EventReader

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def streams_and_popup(stream_server, readers):
    """A reader of a new stream of a pop-up, each call; the pop-up."""
    popup = popup_with_products(1)
    return (lambda of: readers(stream_server.url_of(of.pk))), popup


@pytest.fixture
def readers():
    opened = []

    def open_reader(url: str, **kwargs) -> EventReader:
        reader = EventReader(url, **kwargs)
        opened.append(reader)
        return reader

    yield open_reader
    for reader in opened:
        reader.close()


def units_in_rows(popup: PopUp) -> dict[str, int]:
    """Units left per product, from the rows themselves: the cap less what is sold and what active
    holds reserve, within the warehouse's stock."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT t.product_id,
                   LEAST(t.units_offered - t.units_sold, s.num_in_stock - COALESCE(s.num_allocated, 0))
                   - COALESCE((SELECT SUM(h.quantity) FROM {Hold._meta.db_table} h
                               WHERE h.terms_id = t.id AND h.reserved_until > now()), 0)
            FROM {PopUpProduct._meta.db_table} t
            JOIN partner_stockrecord s ON s.product_id = t.product_id
            WHERE t.popup_id = %s
            """,
            [popup.pk],
        )
        return {str(product): max(0, left) for product, left in cursor.fetchall()}


def streamed_units(event) -> dict[str, int]:
    return {pk: product["units_left"] for pk, product in event.figures["products"].items()}


def test_every_figure_a_stream_says_is_what_the_rows_said_when_it_was_published(
    client, stream_server, readers
):
    popup = popup_with_products(2, units_offered=10)
    scarf, tote = popup.range.all_products().order_by("pk")
    reader = readers(stream_server.url_of(popup.pk))
    assert reader.status == 200
    assert reader.headers["content-type"].startswith("text/event-stream")
    assert reader.headers["cache-control"] == "no-cache, no-transform"
    assert "set-cookie" not in reader.headers
    assert reader.retry == 3000 or reader.retry is None  # read with the first event

    first = reader.next(lambda event: event.name == "figures")
    states = [units_in_rows(popup)]
    assert streamed_units(first) == states[0] == {str(scarf.pk): 10, str(tote.pk): 10}
    assert first.figures["state"] == "live" and first.figures["units_left"] == 20

    for product, quantity in ((scarf, 3), (tote, 1), (scarf, 2), (tote, 4)):
        held_over_http(client, popup, product.pk, quantity)
        states.append(units_in_rows(popup))
    final = states[-1]
    assert final == {str(scarf.pk): 5, str(tote.pk): 5}

    seen = [streamed_units(first)]
    while seen[-1] != final:
        seen.append(streamed_units(reader.next(timeout=10)))
    # Changes that came together are published once; never a figure the rows did not have.
    assert all(figures in states for figures in seen), (seen, states)
    assert all(streamed_units(event) == final for event in reader.drain(1.0))
    assert units_in_rows(popup) == final


def test_a_reconnection_gets_only_what_it_has_not_seen(client, stream_server, readers):
    popup = popup_with_products(1, units_offered=4)
    (scarf,) = popup.range.all_products()
    first = readers(stream_server.url_of(popup.pk)).next(lambda event: event.name == "figures")

    current = readers(stream_server.url_of(popup.pk), last_event_id=first.id)
    assert all(event.id > first.id for event in current.drain(1.0))  # it has the latest already

    behind = readers(stream_server.url_of(popup.pk), last_event_id=first.id - 1)
    assert behind.next(timeout=5).id == first.id  # the latest, at once

    held_over_http(client, popup, scarf.pk, 1)
    changed = current.next(timeout=10)
    assert changed.id > first.id
    assert streamed_units(changed) == units_in_rows(popup) == {str(scarf.pk): 3}


def test_units_back_from_a_lapsed_hold_are_pushed_with_nothing_written(
    client, stream_server, readers
):
    popup = popup_with_products(1, units_offered=2)
    (scarf,) = popup.range.all_products()
    held_over_http(client, popup, scarf.pk, 2)
    # As if it had been held ten minutes ago: it lapses in two seconds, and nothing writes then.
    Hold.objects.filter(terms__popup=popup).update(
        reserved_until=timezone.now() + timedelta(seconds=2)
    )
    reader = readers(stream_server.url_of(popup.pk))
    held = reader.next(lambda event: streamed_units(event) == {str(scarf.pk): 0}, timeout=10)
    assert held.figures["products"][str(scarf.pk)]["back_in_minutes"] == 1

    reader.next(lambda event: streamed_units(event) == {str(scarf.pk): 2}, timeout=10)
    assert units_in_rows(popup) == {str(scarf.pk): 2}


def test_a_pop_up_not_for_everyone_is_not_streamed_and_one_unpublished_says_so(
    client, stream_server, readers
):
    event_only = popup_with_products(1, event_only=True, unlock_code="VIP-NIGHT")
    refused = readers(stream_server.url_of(event_only.pk))
    assert refused.next(timeout=10).name == "gone"
    assert refused.ended()  # the page polls the live call, which checks the code

    popup = popup_with_products(1)
    reader = readers(stream_server.url_of(popup.pk, "fr"))
    assert reader.next(timeout=10).figures["state_label"] == "En cours"
    popup.is_published = False
    popup.save()
    reader.next(lambda event: event.name == "gone", timeout=10)
    assert reader.ended()


def test_a_restock_made_in_one_statement_is_pushed(client, stream_server, readers):
    popup = popup_with_products(1, units_offered=2)
    (scarf,) = popup.range.all_products()
    held_over_http(client, popup, scarf.pk, 2)
    reader = readers(stream_server.url_of(popup.pk))
    reader.next(lambda event: event.figures["state"] == "sold_out", timeout=10)
    popup_restock(popup=popup, units={scarf.pk: 10})  # a bulk update: no signal
    back = reader.next(lambda event: event.figures["state"] == "live", timeout=10)
    assert streamed_units(back) == units_in_rows(popup) == {str(scarf.pk): 8}


def test_a_pop_up_published_again_streams_again(streams_and_popup):
    reader_of, popup = streams_and_popup
    reader_of(popup).next(lambda event: event.name == "figures", timeout=10)
    popup.is_published = False
    popup.save()
    reader_of(popup).next(lambda event: event.name == "gone", timeout=10)
    popup.is_published = True
    popup.save()
    assert reader_of(popup).next(timeout=10).name == "figures"  # not the "gone" kept a minute


def test_hostile_streams_cost_a_look_and_leave_nothing_behind(stream_server, readers):
    connection = redis_connection()
    for popup_id in (999_999_999_999, 1):  # none, and perhaps none
        reader = readers(stream_server.url_of(popup_id, "xx-evil"), last_event_id=None)
        if reader.next(timeout=10).name == "gone":
            assert reader.ended()
            assert connection.ttl(last_key(popup_id, "en-gb")) <= 60
            assert not connection.hexists("popup-stream:watched", f"{popup_id}:en-gb")
    odd = readers(stream_server.url_of(1), last_event_id=None)
    odd.close()
    with socket.create_connection(("127.0.0.1", stream_server.port), timeout=5) as raw:
        raw.sendall(b"GET /popup/stream/1/ HTTP/1.1\r\nHost: x\r\nLast-Event-ID: \xc2\xb2\r\n\r\n")
        assert raw.recv(200).startswith(b"HTTP/1.1 200 ")  # "²" is no number, and no 500


def test_a_stream_holds_no_database_connection(stream_server, readers):
    popup = popup_with_products(1)

    def connections() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            )
            return cursor.fetchone()[0]

    readers(stream_server.url_of(popup.pk)).next(
        timeout=10
    )  # the publisher's one connection opened
    before = connections()
    opened = [readers(stream_server.url_of(popup.pk, language)) for language in ("en", "fr") * 20]
    for reader in opened:
        reader.next(timeout=10)
    time.sleep(0.5)
    assert connections() == before


def test_anything_but_a_stream_is_refused_plainly(stream_server):
    import requests

    assert requests.get(f"{stream_server.url}/popup/not-a-number/", timeout=5).status_code == 404
    assert requests.post(stream_server.url_of(1), timeout=5).status_code == 405
    preflight = requests.options(stream_server.url_of(1), timeout=5)
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Headers"] == "Last-Event-ID"


def test_the_page_opens_its_stream_where_the_store_has_one(client, settings):
    popup = popup_with_products(1)
    event_only = popup_with_products(1, event_only=True, unlock_code="VIP-NIGHT")
    assert b"data-stream" not in client.get(f"/popup/{popup.slug}/").content

    settings.POPUP_STREAM_URL = "/popup/stream/"
    from popup.core.shells import shells_outdate

    shells_outdate()
    page = client.get(f"/popup/{popup.slug}/").content.decode()
    assert f'data-stream="/popup/stream/{popup.pk}/"' in page
    embed = client.get(f"/popup/{popup.slug}/embed/").content.decode()
    assert f'data-stream="/popup/stream/{popup.pk}/"' in embed
    locked = client.get(f"/popup/{event_only.slug}/?code=VIP-NIGHT").content.decode()
    assert "data-stream" not in locked


def test_figures_that_say_nothing_new_are_kept_but_not_published_again():
    popup = popup_with_products(1)
    connection = redis_connection()
    listener = connection.pubsub(ignore_subscribe_messages=True)
    listener.subscribe(channel(connection, FIGURES))
    listener.get_message(timeout=1)

    def published() -> list[dict]:
        messages, deadline = [], time.monotonic() + 1.0
        while time.monotonic() < deadline:
            message = listener.get_message(timeout=0.1)
            if message and json.loads(message["data"])["popup"] == popup.pk:  # not other tests'
                messages.append(json.loads(message["data"]))
        return messages

    live_figures_publish(popup_id=popup.pk, languages=["en", "fr"])
    first = published()
    assert [message["language"] for message in first] == ["en", "fr"]
    assert first[0]["id"] == first[1]["id"]

    live_figures_publish(popup_id=popup.pk, languages=["en", "fr"])  # nothing changed
    assert published() == []
    kept = json.loads(connection.get(last_key(popup.pk, "en")))
    assert kept["id"] == first[0]["id"] and kept["at"] > first[0]["at"]

    PopUpProduct.objects.filter(popup=popup).update(units_sold=4)
    live_figures_publish(popup_id=popup.pk, languages=["en", "fr"])
    (english, _french) = published()
    assert english["id"] > first[0]["id"]
    assert json.loads(english["data"])["units_left"] == 6
    listener.close()
