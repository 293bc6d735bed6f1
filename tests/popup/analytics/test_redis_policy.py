"""Redis, one policy: optional for a store trying the plugin, never able to break a page.

The stopped-Redis test starts its own redis-server (own port, own folder) and stops it; the shared
Redis of the other tests is never touched.
"""

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
import redis
from django.core.cache import caches
from oscar.core.loading import get_model

from integrations.stripe import client as stripe_client
from popup.analytics import counters, stats
from popup.analytics.stats import stat_count, stats_flush
from popup.feedback.shopper_input import limit_reached, over_limit
from popup.models import PopUpDayStats, RateCounter
from tests.factories import PopUpFactory
from tests.integrations.stripe.support import card_token
from tests.plain_store.store import free_port
from tests.popup.checkout.support import SHOPPER, basket_holding

Order = get_model("order", "Order")

NO_REDIS = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _redis_tried_afresh():
    counters._down_until = 0.0
    yield
    counters._down_until = 0.0


class PrivateRedis:
    """A redis-server of this test's own, on its own port and folder."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="popup-redis-")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.folder]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    yield server
    server.stop()


def test_without_redis_rate_limits_are_rows_shared_by_every_process(settings):
    settings.CACHES = NO_REDIS
    assert counters.redis_connection() is None
    for _ in range(3):
        assert not over_limit("popup-test:ip:192.0.2.1", 3)
    assert limit_reached("popup-test:ip:192.0.2.1", 3)
    assert over_limit("popup-test:ip:192.0.2.1", 3)
    assert not limit_reached("popup-test:ip:192.0.2.2", 3)
    assert RateCounter.objects.get(key="popup-test:ip:192.0.2.1").count == 4
    long_key = "popup-waitlist:email:" + "x" * 300 + "@example.com"
    over_limit(long_key, 3)
    assert limit_reached(long_key, 1)


def test_without_redis_counts_are_batched_then_written(settings):
    settings.CACHES = NO_REDIS
    popup = basket_holding().popup
    for _ in range(5):
        stat_count(popup_id=popup.pk, event="views")
    stats_flush()
    assert PopUpDayStats.objects.get(popup=popup).views == 5


@pytest.mark.django_db(transaction=True)
def test_without_redis_the_last_counts_of_a_rush_are_written_with_no_count_after_them(settings):
    """A burst of views then silence: the counts held back during the burst still reach the
    database within FLUSH_SECONDS (they used to wait for the process's next count)."""
    settings.CACHES = NO_REDIS
    popup = PopUpFactory()
    for _ in range(3):
        stat_count(popup_id=popup.pk, event="views")
    time.sleep(stats.FLUSH_SECONDS + 0.5)
    assert PopUpDayStats.objects.get(popup=popup).views == 3


def test_a_redis_from_the_setting_or_the_cache(settings, private_redis):
    settings.CACHES = NO_REDIS
    settings.POPUP_REDIS_URL = private_redis.url
    assert over_limit("popup-test:ip:192.0.2.9", 0)
    assert redis.Redis.from_url(private_redis.url).get("popup-rate:popup-test:ip:192.0.2.9") == b"1"
    assert not RateCounter.objects.exists()
    settings.POPUP_REDIS_URL = None
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": private_redis.url,
        }
    }
    connection = counters.redis_connection()
    assert connection is not None and connection.get("popup-rate:popup-test:ip:192.0.2.9") == b"1"


def test_a_stopped_redis_breaks_no_page(client, settings, private_redis, stripe_settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": private_redis.url,
            "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
        }
    }
    held = basket_holding()
    popup, product_id = held.popup, held.holds.get().terms.product_id
    stat_count(popup_id=popup.pk, event="views")  # counted in Redis while it is up
    assert caches["default"].get("nothing") is None
    private_redis.stop()

    slug = popup.slug
    pages = [
        f"/popup/{slug}/",
        f"/popup/{slug}/embed/",
        "/popup/embed.js",
        f"/popup/oembed?url=http://testserver/popup/{slug}/&format=json",
        f"/popup/{slug}/share.png",
        f"/popup/{slug}/?code=WRONG",
        f"/popup/{slug}/live/?view=page",  # the pages' script: views are counted here
        f"/popup/{slug}/live/?view=page&code=WRONG",
    ]
    for page in pages:
        assert client.get(page).status_code == 200, page
    basket = client.post(f"/popup/{slug}/basket/new/", "{}", content_type="application/json")
    assert basket.status_code == 201
    token = basket.json()["basket"]["token"]
    hold = client.post(
        f"/popup/{slug}/basket/lines/",
        json.dumps({"product": product_id, "quantity": 1}),
        content_type="application/json",
        HTTP_X_POPUP_BASKET=token,
    )
    assert hold.status_code == 200
    assert client.get(f"/popup/checkout/{token}/").status_code == 200
    # Rate limits still hold (counted in the database), and say so in JSON, never a 500.
    asked = [
        client.post(
            f"/popup/{slug}/questions/",
            json.dumps({"email": "ana@example.com", "body": f"Is it wool? ({number})"}),
            content_type="application/json",
        )
        for number in range(6)
    ]
    assert [answer.status_code for answer in asked] == [202] * 5 + [429]
    assert asked[-1].json()["code"] == "rate_limited"
    assert "Too many questions" in asked[-1].json()["error"]
    # What was counted while Redis was down reached the database.
    stats_flush()
    stats = PopUpDayStats.objects.get(popup=popup)
    assert stats.views >= 2 and stats.baskets >= 1 and stats.checkouts == 1


@pytest.mark.django_db(transaction=True)
def test_paying_while_redis_is_down_places_the_order_and_captures(
    client, settings, private_redis, stripe_settings, localstripe, france
):
    """The money path touches nothing but PostgreSQL and Stripe: with the cache's Redis gone, a card
    is authorised, the order placed (signals and all) and the payment captured."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": private_redis.url,
            "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
        }
    }
    basket = basket_holding(quantity=2)
    private_redis.stop()

    response = client.post(
        f"/popup/checkout/{basket.token}/pay/",
        {**SHOPPER.__dict__, "card_token": card_token(localstripe)},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    order = Order.objects.get()
    assert order.sources.get().amount_debited == Decimal("50.00")
    intent = stripe_client.payment_intent_retrieve(payment_intent_id=order.sources.get().reference)
    assert intent.is_paid
