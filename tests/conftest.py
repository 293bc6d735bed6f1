import pytest
from django.db import connection

from tests.localstripe_server import localstripe, stripe_settings  # noqa: F401


@pytest.fixture(autouse=True, scope="session")
def _real_database(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.exit("The tests run on PostgreSQL: set DATABASE_URL to a PostgreSQL database.")
