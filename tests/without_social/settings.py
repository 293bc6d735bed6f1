"""The test store without integrations.social: the plugin must sell the same without it."""

from tests.settings import *  # noqa: F403

INSTALLED_APPS = [app for app in INSTALLED_APPS if not app.startswith("integrations.social")]  # noqa: F405
CELERY_BEAT_SCHEDULE = {  # noqa: F405
    name: entry
    for name, entry in CELERY_BEAT_SCHEDULE.items()  # noqa: F405
    if not entry["task"].startswith("integrations.social.")
}
