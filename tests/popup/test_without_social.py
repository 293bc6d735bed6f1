"""integrations.social is optional: a store without it in INSTALLED_APPS serves and sells the same.

Settings are read once per process, so the checks run in a pytest of their own with the test store's
settings minus the social app (tests/without_social), on a database and Redis of their own.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_store_serves_and_sells_without_the_social_app():
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/popup_without_social",
        "REDIS_URL": "redis://127.0.0.1:6379/4",
    }
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/without_social/check_pages.py",
            "--ds=tests.without_social.settings",
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "3 passed" in run.stdout
