import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection

from popup.core.shells import shells_forget
from tests import factories
from tests.localstripe_server import localstripe, stripe_settings  # noqa: F401


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
