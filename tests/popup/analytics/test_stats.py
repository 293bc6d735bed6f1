"""The first-party funnel: views, baskets, checkouts and unmet demand counted in Redis, exact under
a crowd, and moved to the database by the flush task."""

import json
import threading

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from popup.analytics.stats import PREFIX, stats_flush
from popup.models import PopUpDayStats, PopUpProduct
from tests.factories import popup_with_products

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_counters():
    connection = redis.Redis.from_url(settings.REDIS_URL)
    for key in connection.scan_iter(f"{PREFIX}:*"):
        connection.delete(key)
    cache.clear()


def today(popup) -> PopUpDayStats:
    stats_flush()
    return PopUpDayStats.objects.get(popup=popup, day=timezone.localdate())


def test_the_funnel_is_counted_from_what_shoppers_do(client):
    popup = popup_with_products(1, units_offered=1)
    product = PopUpProduct.objects.get(popup=popup).product
    # Each page load: the page, then its script's live call, which counts the view.
    for view in ("page", "embed", "embed"):
        client.get(f"/popup/{popup.slug}/{'embed/' if view == 'embed' else ''}")
        client.get(f"/popup/{popup.slug}/live/?view={view}")
    token = client.post(f"/popup/{popup.slug}/basket/new/").json()["basket"]["token"]
    lines = f"/popup/{popup.slug}/basket/lines/"
    headers = {"X-Popup-Basket": token}
    body = json.dumps({"product": product.pk, "quantity": 2})  # only 1 offered: unmet demand
    client.post(lines, body, content_type="application/json", headers=headers)
    client.post(
        lines,
        json.dumps({"product": product.pk, "quantity": 1}),
        content_type="application/json",
        headers=headers,
    )
    client.get(f"/popup/checkout/{token}/")
    client.get(f"/popup/checkout/{token}/")  # a reload is the same checkout

    stats = today(popup)
    counts = (stats.views, stats.embed_views, stats.baskets, stats.checkouts, stats.unmet)
    assert counts == (1, 2, 1, 1, 1)
    assert stats_flush() == 0  # moved once
    client.get(f"/popup/{popup.slug}/live/?view=page")
    assert today(popup).views == 2  # added to the same day's row


def test_a_crowd_viewing_a_drop_at_once_is_counted_exactly():
    popup = popup_with_products(1)

    def views(count):
        http = Client()
        for _ in range(count):
            http.get(f"/popup/{popup.slug}/embed/")
            http.get(f"/popup/{popup.slug}/live/?view=embed")
        connection.close()  # each thread has its own database connection

    threads = [threading.Thread(target=views, args=(10,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert today(popup).embed_views == 80


def test_staff_previews_of_drafts_are_not_counted(admin_client):
    popup = popup_with_products(1, is_published=False)
    assert admin_client.get(f"/popup/{popup.slug}/").status_code == 200
    assert admin_client.get(f"/popup/{popup.slug}/live/?view=page").status_code == 200
    stats_flush()
    assert not PopUpDayStats.objects.exists()
