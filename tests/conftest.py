import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection

from popup.analytics.counters import redis_connection
from popup.core.shells import shells_forget
from tests import factories
from tests.localstripe_server import localstripe, stripe_settings  # noqa: F401
from tests.streams import StreamServer, stream_keys_forget


@pytest.fixture(autouse=True, scope="session")
def _real_database(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.exit("The tests run on PostgreSQL: set DATABASE_URL to a PostgreSQL database.")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: rate limits counted per IP address (every test comes
    from 127.0.0.1) would otherwise carry over from other tests and earlier runs."""
    cache.clear()
    shells_forget()


@pytest.fixture(autouse=True)
def _no_feeds_left_over():
    """Each test starts without catalogue feed files and leaves none behind: once one exists,
    every pop-up change queues the feeds' rewrite (integrations.social.feed_files)."""
    from integrations.social.feed_files import FEEDS_DIR

    root = Path(settings.MEDIA_ROOT) / FEEDS_DIR
    shutil.rmtree(root, ignore_errors=True)
    yield
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def stream_server(django_db_setup, tmp_path_factory):
    """The stream process (popup.stream under uvicorn) on the test database and the tests' Redis;
    what a test writes reaches it once committed (transactional tests)."""
    database = settings.DATABASES["default"]
    kept = redis_connection().connection_pool.connection_kwargs
    redis_url = (
        f"redis://{kept.get('host', '127.0.0.1')}:{kept.get('port', 6379)}/{kept.get('db', 0)}"
    )
    stream_keys_forget(redis_url)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
        ),
        "REDIS_URL": redis_url,
    }
    server = StreamServer(env, log_path=tmp_path_factory.mktemp("stream") / "uvicorn.log")
    yield server
    server.close()


@pytest.fixture
def france():
    return factories.france()


@pytest.fixture
def audited(transactional_db, request):
    """After the test, `manage.py popup_audit --grace-minutes 0` must find nothing wrong: every
    race test uses it, with a localstripe of its own (`localstripe_alone`)."""
    request.getfixturevalue("stripe_settings")
    yield
    call_command("popup_audit", "--grace-minutes", "0")
