"""Catalogue feeds and product images on an S3-compatible object store, as a store with several web
nodes runs them: written by one node, served by another, nothing left on either node's disk.

The object store is moto in server mode (tests.object_store).
"""

import json
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from django.core.cache import cache
from django.test import override_settings

from integrations.social.feed_files import feed_file_name, feed_files_write
from integrations.social.feeds import feed_links
from popup.models import PopUpProduct
from tests.factories import PopUpFactory, create_product
from tests.object_store import BUCKET, KEYS, ObjectStore

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def object_store() -> Iterator[ObjectStore]:
    store = ObjectStore()
    yield store
    store.stop()


def node(object_store: ObjectStore, media_root: Path):
    """One web node's settings: its own local media folder, the shared object store."""
    return override_settings(
        MEDIA_ROOT=str(media_root),
        STORAGES={
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": BUCKET,
                    "endpoint_url": object_store.url,
                    "querystring_auth": False,
                    "file_overwrite": True,
                    **KEYS,
                },
            },
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    )


def files_in(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def test_a_feed_written_by_one_node_is_served_by_the_other_and_neither_keeps_a_file(
    client, object_store, tmp_path
):
    cache.clear()
    first, second = tmp_path / "node-1", tmp_path / "node-2"
    first.mkdir(), second.mkdir()
    with node(object_store, first):
        popup = PopUpFactory()
        product = create_product(title="Indigo scarf", price=Decimal("59.00"), image=True)
        popup.range.add_product(product)
        PopUpProduct.objects.create(popup=popup, product=product)
        assert feed_files_write(popup=popup) == 1  # one item, in four files
        name = feed_file_name(popup_id=popup.pk, platform="google", fmt="xml")
        assert len(object_store.names(name.rsplit("/", 1)[0])) == 4  # google and meta, xml and csv
        written = object_store.read(name)

    with node(object_store, second):
        (link,) = [
            link
            for link in feed_links(popup=popup)
            if link.platform.code == "google" and link.format == "xml"
        ]
        response = client.get(urlsplit(link.url).path)
        served = b"".join(response.streaming_content)

    assert response.status_code == 200 and served == written
    assert b"Indigo scarf" in served
    # The image the feed points at is the object store's, which every node and Google can fetch.
    image_url = served.split(b"<g:image_link>")[1].split(b"</g:image_link>")[0].decode()
    assert image_url.startswith(f"{object_store.url}/{BUCKET}/")
    assert requests.get(image_url, timeout=5).status_code == 200
    # The feed itself only through its tokened URL, never straight from the bucket.
    assert requests.get(f"{object_store.url}/{BUCKET}/{name}", timeout=5).status_code == 403
    assert files_in(first) == [] and files_in(second) == []


def test_a_rewrite_replaces_the_object_in_one_upload_and_leaves_nothing_beside_it(
    object_store, tmp_path
):
    cache.clear()
    with node(object_store, tmp_path):
        popup = PopUpFactory()
        product = create_product(title="Moss scarf", price=Decimal("59.00"), image=True)
        popup.range.add_product(product)
        terms = PopUpProduct.objects.create(popup=popup, product=product)
        feed_files_write(popup=popup)
        folder = feed_file_name(popup_id=popup.pk, platform="google", fmt="xml").rsplit("/", 1)[0]
        before = object_store.names(folder)

        PopUpProduct.objects.filter(pk=terms.pk).update(price=Decimal("49.00"))
        feed_files_write(popup=popup)

        assert object_store.names(folder) == before and len(before) == 4
        name = feed_file_name(popup_id=popup.pk, platform="google", fmt="xml")
        assert b"49.00 EUR" in object_store.read(name)
        assert files_in(tmp_path) == []


def test_the_reference_store_puts_media_on_the_object_store_named_by_its_environment():
    read = "import json, shop.settings as s; print(json.dumps(s.STORAGES['default'], default=str))"
    environment = {
        "PATH": "/usr/bin:/bin",
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": "https://s3.fr-par.scw.cloud",
        "S3_CUSTOM_DOMAIN": "media.atelier-nord.example",
    }
    printed = subprocess.run(
        [sys.executable, "-c", read],
        env=environment,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    storage = json.loads(printed)
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["bucket_name"] == BUCKET
    assert storage["OPTIONS"]["endpoint_url"] == "https://s3.fr-par.scw.cloud"
    assert storage["OPTIONS"]["custom_domain"] == "media.atelier-nord.example"
    assert storage["OPTIONS"]["file_overwrite"] is True
