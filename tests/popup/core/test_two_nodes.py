"""Two web nodes, as a store outgrowing one machine runs them: separate folders, one PostgreSQL, one
Redis, one object store for media, each node with its stream process (tests.stack).
"""

import re

import pytest
import requests

from tests.stack import Stack
from tests.streams import EventReader


@pytest.fixture(scope="module")
def stack():
    stack = Stack(nodes=2, streams=True)
    yield stack
    stack.close()


def units_in_rows(stack: Stack) -> int:
    """The scarf's units left, from the rows: its cap less what is sold and actively held."""
    ((left,),) = stack.query(
        "SELECT t.units_offered - t.units_sold - COALESCE((SELECT SUM(h.quantity)"
        " FROM popup_hold h WHERE h.terms_id = t.id AND h.reserved_until > now()), 0)"
        f" FROM popup_popupproduct t WHERE t.product_id = {stack.sale['product']}"
    )
    return left


def test_every_page_works_on_both_nodes_and_media_live_on_the_object_store(stack):
    slug = stack.sale["slug"]
    pages = {}
    for node in stack.nodes:
        for path in (
            f"/popup/{slug}/",
            f"/popup/{slug}/embed/",
            f"/popup/{slug}/live/?view=page",
            f"/popup/{slug}/share.png",
            "/static/popup/live.js",
            "/catalogue/",
        ):
            response = requests.get(f"{node}{path}", timeout=30)
            assert response.status_code == 200, (node, path, response.status_code)
            pages[node, path] = response
    page = pages[stack.nodes[1], f"/popup/{slug}/"].text
    # Pages open a stream (the shell is shared by the nodes: a deployment gives them all the same
    # POPUP_STREAM_URL, behind its proxy).
    streams = {
        f'data-stream="{server.url}/popup/stream/{stack.sale["id"]}/"' for server in stack.streams
    }
    assert any(stream in page for stream in streams)
    (image,) = set(re.findall(r'<img[^>]+src="([^"]+)"', page))
    assert image.startswith(stack.object_store.url)
    assert requests.get(image, timeout=10).status_code == 200
    assert stack.object_store.names("images/")
    for number in (1, 2):  # neither node keeps a media file of its own
        media = stack.logs / f"var-{number}" / "media"
        assert not media.exists() or not [p for p in media.rglob("*") if p.is_file()]


def test_a_hold_on_one_node_is_pushed_by_the_stream_of_the_other(stack):
    popup_id, product = stack.sale["id"], str(stack.sale["product"])
    on_second = EventReader(stack.streams[1].url_of(popup_id, "fr"))
    on_first = EventReader(stack.streams[0].url_of(popup_id))
    try:
        before = on_second.next(lambda event: event.name == "figures", timeout=15)
        units = before.figures["products"][product]["units_left"]
        assert units == units_in_rows(stack)

        assert stack.hold(quantity=2, node=0).hold == 200
        pushed = on_second.next(
            lambda event: event.figures["products"][product]["units_left"] == units - 2
        )
        assert units_in_rows(stack) == units - 2
        assert pushed.figures["state_label"] == "En cours"  # in the stream's own language

        assert stack.hold(quantity=1, node=1).hold == 200
        on_first.next(lambda event: event.figures["products"][product]["units_left"] == units - 3)
        on_second.next(lambda event: event.figures["products"][product]["units_left"] == units - 3)
        assert units_in_rows(stack) == units - 3
    finally:
        on_second.close()
        on_first.close()


def test_streams_come_back_with_the_truth_after_redis_restarts(stack):
    popup_id, product = stack.sale["id"], str(stack.sale["product"])
    reader = EventReader(stack.streams[1].url_of(popup_id))
    try:
        reader.next(lambda event: event.name == "figures", timeout=15)
        stack.redis.stop()  # Redis keeps nothing on disk here: channels and keys are gone
        assert stack.hold(quantity=1, node=0).hold == 200  # a shopper holds meanwhile
        stack.redis.start()
        # The stream process subscribes again and has the figures recomputed: the hold made
        # while Redis was down is in them, though its announcement was lost.
        left = units_in_rows(stack)
        pushed = reader.next(
            lambda event: event.figures["products"][product]["units_left"] == left, timeout=20
        )
        assert pushed.name == "figures"
        assert stack.hold(quantity=1, node=1).hold == 200  # and changes are pushed again
        reader.next(
            lambda event: event.figures["products"][product]["units_left"] == left - 1,
            timeout=20,
        )
        assert units_in_rows(stack) == left - 1
    finally:
        reader.close()
