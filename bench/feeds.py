"""Catalogue feeds: time and peak memory to write a pop-up's four feed files, 1,000 vs 10,000 products.

    .venv/bin/python bench/feeds.py              # 1,000 and 10,000 products, BENCH_RUNS=3 timed runs
    BENCH_FEED_SIZES=1000,50000 .venv/bin/python bench/feeds.py

Runs in-process against a throwaway PostgreSQL database (test_popup_bench_feeds, dropped at the
end; Redis database 10 for the cache). Each size is a live pop-up of its own whose range holds that
many public products, bulk-inserted as Oscar and the plugin leave them: a stock record (price,
stock), a photo, a "brand" attribute on half of them, pop-up terms with a lower pop-up price on
half of them. `feed_files_write` then writes the pop-up's four files (Google and Meta, XML and CSV)
in one pass, as the first request or the Celery task does.

Per size, the JSON line says: `items`; `seconds` (median of BENCH_RUNS runs) and `items_per_s`;
`queries` (they grow with the number of 500-product chunks, not with products);
`tracemalloc_peak_kib`, the Python allocations' peak during one run (traced apart: tracing slows
Python down); `maxrss_mib`, the process's resident peak after that size ran (sizes run smallest
first, so a growth would show); each file's size; `serve_ms_p50`, Django serving the cached file to
its end through the test client. `peak_ratio` compares the largest size's traced peak with the
smallest's: streamed, it stays near 1 while the items grow tenfold.
"""

import json
import os
import resource
import shutil
import statistics
import sys
import time
import tracemalloc
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/popup_bench_feeds")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/10")  # not the tests' database 1
os.environ.setdefault("DJANGO_DEBUG", "0")  # as in production: no query log
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
os.environ.setdefault("LOCALSTRIPE_URL", "http://127.0.0.1:8420")  # no payment is made here

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.storage import default_storage  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402
from oscar.core.loading import get_model  # noqa: E402

from integrations.social.feed_files import (  # noqa: E402
    FEEDS_DIR,
    feed_file_name,
    feed_files_write,
)
from integrations.social.feeds import FORMATS, PLATFORMS, feed_links  # noqa: E402
from popup.models import PopUpProduct  # noqa: E402

Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")
ProductAttribute = get_model("catalogue", "ProductAttribute")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
ProductImage = get_model("catalogue", "ProductImage")
Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")
Range = get_model("offer", "Range")
RangeProduct = get_model("offer", "RangeProduct")

SIZES = [int(size) for size in os.environ.get("BENCH_FEED_SIZES", "1000,10000").split(",")]
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
SERVE_REQUESTS = 10
BATCH = 2_000
DESCRIPTION = (
    "<p>Hand-dyed merino, woven in small batches &amp; finished by hand. Each piece varies a "
    "little in shade: that is the point.</p><p>Care: cool wash, dry flat.</p>"
)


def bulk(model, rows: list) -> list:
    return model.objects.bulk_create(rows, batch_size=BATCH)


def build_popup(size: int, product_class, brand, partner):
    """A live pop-up over a range of `size` public products, each stocked, priced and photographed."""
    from tests.factories import PopUpFactory

    products = bulk(
        Product,
        [
            Product(
                title=f"Merino scarf {size}-{number}",
                slug=f"merino-scarf-{size}-{number}",
                upc=f"B{size}-{number}",
                description=DESCRIPTION,
                product_class=product_class,
                structure=Product.STANDALONE,
                is_public=True,
            )
            for number in range(size)
        ],
    )
    bulk(
        StockRecord,
        [
            StockRecord(
                product=product,
                partner=partner,
                partner_sku=f"SKU-{product.pk}",
                price_currency="EUR",
                price=Decimal("40.00") + number % 7,
                num_in_stock=50,
            )
            for number, product in enumerate(products)
        ],
    )
    bulk(
        ProductImage,
        [
            ProductImage(product=product, original="images/products/bench/scarf.jpg")
            for product in products
        ],
    )
    bulk(
        ProductAttributeValue,
        [
            ProductAttributeValue(product=product, attribute=brand, value_text="Maison Indigo")
            for product in products[::2]
        ],
    )
    product_range = Range.objects.create(name=f"Feed bench {size}", is_public=True)
    bulk(
        RangeProduct,
        [
            RangeProduct(range=product_range, product=product, display_order=number)
            for number, product in enumerate(products)
        ],
    )
    now = timezone.now()
    popup = PopUpFactory(
        title=f"Feed bench {size}",
        slug=f"feed-bench-{size}",
        range=product_range,
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=3),
    )
    bulk(
        PopUpProduct,
        [
            PopUpProduct(
                popup=popup,
                product=product,
                units_offered=20,
                price=Decimal("29.00") if number % 2 else None,
                display_order=number % 30_000,
            )
            for number, product in enumerate(products)
        ],
    )
    return popup


def measure(popup, client: Client) -> dict:
    feed_files_write(popup=popup)  # warm up code paths and PostgreSQL's cache
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        items = feed_files_write(popup=popup)
        timings.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as queries:
        feed_files_write(popup=popup)
    query_count = len(queries.captured_queries)  # now: a request clears the query log
    tracemalloc.start()
    feed_files_write(popup=popup)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    files = {
        f"{platform}.{fmt}": default_storage.size(
            feed_file_name(popup_id=popup.pk, platform=platform, fmt=fmt)
        )
        for platform in PLATFORMS
        for fmt in FORMATS
    }
    url = next(link.url for link in feed_links(popup=popup) if link.format == "xml")
    path = url.split("://", 1)[-1].partition("/")[2]
    serve = []
    for _ in range(SERVE_REQUESTS):
        started = time.perf_counter()
        response = client.get(f"/{path}")
        size = sum(len(chunk) for chunk in response.streaming_content)
        serve.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200 and size == files["google.xml"], response.status_code
    seconds = statistics.median(timings)
    return {
        "items": items,
        "seconds": round(seconds, 2),
        "items_per_s": round(items / seconds),
        "queries": query_count,
        "tracemalloc_peak_kib": round(peak / 1024),
        "maxrss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "bytes": files,
        "serve_ms_p50": round(statistics.median(serve), 1),
    }


def main() -> None:
    began = time.perf_counter()
    setup_test_environment()
    database = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        migrated = time.perf_counter()
        product_class = ProductClass.objects.create(name="Scarves", slug="scarves")
        brand = ProductAttribute.objects.create(
            product_class=product_class, name="Brand", code="brand", type="text"
        )
        partner = Partner.objects.create(name="Atelier Nord")
        popups = {size: build_popup(size, product_class, brand, partner) for size in SIZES}
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        setup_done = time.perf_counter()

        client = Client()
        maxrss_before = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        results = {str(size): measure(popups[size], client) for size in sorted(SIZES)}
        smallest, largest = str(min(SIZES)), str(max(SIZES))
        print(
            json.dumps(
                {
                    "database": connection.vendor,
                    "runs": RUNS,
                    "maxrss_before_mib": maxrss_before,
                    **results,
                    "peak_ratio": round(
                        results[largest]["tracemalloc_peak_kib"]
                        / results[smallest]["tracemalloc_peak_kib"],
                        2,
                    ),
                    "setup_seconds": round(setup_done - migrated, 1),
                    "total_seconds": round(time.perf_counter() - began, 1),
                }
            )
        )
    finally:
        connection.creation.destroy_test_db(database, verbosity=0)
        shutil.rmtree(Path(settings.MEDIA_ROOT) / FEEDS_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
