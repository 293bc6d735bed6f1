"""`make demo` runs on SQLite: its pages (the shopper's, and the merchant's drop reports) must work
there too, not only on the tests' PostgreSQL."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PAGES = """
import django
django.setup()
from django.core.management import call_command
from django.contrib.auth import get_user_model
from django.test import Client
from popup.dashboard.report_views import TABLES
from popup.models import PopUp
call_command("demo", "--seed-only", verbosity=0)
client = Client(HTTP_HOST="127.0.0.1")
staff = Client(HTTP_HOST="127.0.0.1")
staff.force_login(get_user_model().objects.create_superuser("bench", "b@example.com", "x"))
popups = list(PopUp.objects.all())
for popup in popups:
    for url in (popup.get_absolute_url(), popup.get_embed_url()):
        status = client.get(url).status_code
        assert status == 200, (url, status)
    drop = f"/dashboard/popups/{popup.pk}/drop/"
    for url in [drop] + [f"{drop}{table}.csv" for table in TABLES]:
        response = staff.get(url)
        assert response.status_code == 200, (url, response.status_code)
        b"".join(response.streaming_content) if response.streaming else response.content
compare = f"/dashboard/popups/compare/?a={popups[0].pk}&b={popups[1].pk}"
assert staff.get(compare).status_code == 200
from popup.models import Ambassador, Placement
for popup in popups:
    assert staff.get(f"/dashboard/popups/{popup.pk}/").status_code == 200
    placements_csv = staff.get(f"/dashboard/popups/{popup.pk}/placements.csv")
    assert placements_csv.status_code == 200
    b"".join(placements_csv.streaming_content)
for url in ("/dashboard/popups/ambassadors/", "/dashboard/popups/ambassadors/?format=csv"):
    response = staff.get(url)
    assert response.status_code == 200, (url, response.status_code)
    b"".join(response.streaming_content) if response.streaming else response.content
placement = Placement.objects.filter(ambassador__isnull=False).get()
landing = client.get(placement.get_absolute_url())
assert landing.status_code == 302, landing.status_code
assert client.get(landing["Location"]).status_code == 200
assert client.get(Ambassador.objects.get().get_absolute_url()).status_code == 200
print("ok", len(popups))
"""


def test_the_demo_s_pop_up_pages_render_on_sqlite(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shop.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "POPUP_VAR_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", PAGES],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[-1] == "ok 4"
