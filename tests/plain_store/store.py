"""A plain Oscar 4.2 store, made in a fresh virtualenv as a merchant would make one.

Three sources, kept apart so that it is clear what the test proves:
- `oscar_docs_apply`: what Oscar's "Building your own shop" page says to do to a new Django project
  (docs/source/internals/getting_started.rst), and `oscar_fork_apps` what its "Forking an app" page
  says;
- `readme_snippets_apply`: the blocks of README.md marked `<!-- plain-store: append|write PATH -->`,
  applied as written and nothing else of the plugin's;
- `test_stack_apply`: this machine's services (a private PostgreSQL database, the mail server,
  localstripe), which any store configures for itself.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "frobshop"
TIMEOUT = 20

OSCAR_INSTALLED_APPS = """
INSTALLED_APPS = [
    'django.contrib.admin',
    'django.contrib.auth',
    'django.contrib.contenttypes',
    'django.contrib.sessions',
    'django.contrib.messages',
    'django.contrib.staticfiles',

    'django.contrib.sites',
    'django.contrib.flatpages',

    'oscar.config.Shop',
    'oscar.apps.analytics.apps.AnalyticsConfig',
    'oscar.apps.checkout.apps.CheckoutConfig',
    'oscar.apps.address.apps.AddressConfig',
    'oscar.apps.shipping.apps.ShippingConfig',
    'oscar.apps.catalogue.apps.CatalogueConfig',
    'oscar.apps.catalogue.reviews.apps.CatalogueReviewsConfig',
    'oscar.apps.communication.apps.CommunicationConfig',
    'oscar.apps.partner.apps.PartnerConfig',
    'oscar.apps.basket.apps.BasketConfig',
    'oscar.apps.payment.apps.PaymentConfig',
    'oscar.apps.offer.apps.OfferConfig',
    'oscar.apps.order.apps.OrderConfig',
    'oscar.apps.customer.apps.CustomerConfig',
    'oscar.apps.search.apps.SearchConfig',
    'oscar.apps.voucher.apps.VoucherConfig',
    'oscar.apps.wishlists.apps.WishlistsConfig',
    'oscar.apps.dashboard.apps.DashboardConfig',
    'oscar.apps.dashboard.reports.apps.ReportsDashboardConfig',
    'oscar.apps.dashboard.users.apps.UsersDashboardConfig',
    'oscar.apps.dashboard.orders.apps.OrdersDashboardConfig',
    'oscar.apps.dashboard.catalogue.apps.CatalogueDashboardConfig',
    'oscar.apps.dashboard.offers.apps.OffersDashboardConfig',
    'oscar.apps.dashboard.partners.apps.PartnersDashboardConfig',
    'oscar.apps.dashboard.pages.apps.PagesDashboardConfig',
    'oscar.apps.dashboard.ranges.apps.RangesDashboardConfig',
    'oscar.apps.dashboard.reviews.apps.ReviewsDashboardConfig',
    'oscar.apps.dashboard.vouchers.apps.VouchersDashboardConfig',
    'oscar.apps.dashboard.communications.apps.CommunicationsDashboardConfig',
    'oscar.apps.dashboard.shipping.apps.ShippingDashboardConfig',

    # 3rd-party apps that oscar depends on
    'widget_tweaks',
    'haystack',
    'treebeard',
    'sorl.thumbnail',   # Default thumbnail backend, can be replaced
    'django_tables2',
]

SITE_ID = 1
"""

OSCAR_SETTINGS = """
TEMPLATES[0]['OPTIONS']['context_processors'] += [
    'oscar.apps.search.context_processors.search_form',
    'oscar.apps.checkout.context_processors.checkout',
    'oscar.apps.communication.notifications.context_processors.notifications',
    'oscar.core.context_processors.metadata',
]

MIDDLEWARE += [
    'oscar.apps.basket.middleware.BasketMiddleware',
    'django.contrib.flatpages.middleware.FlatpageFallbackMiddleware',
]

AUTHENTICATION_BACKENDS = (
    'oscar.apps.customer.auth_backends.EmailBackend',
    'django.contrib.auth.backends.ModelBackend',
)

MEDIA_URL = '/media/'
MEDIA_ROOT = BASE_DIR / 'media'
STATIC_ROOT = BASE_DIR / 'static'

HAYSTACK_CONNECTIONS = {
    'default': {
        'ENGINE': 'haystack.backends.simple_backend.SimpleEngine',
    },
}
"""

OSCAR_URLS = """from django.apps import apps
from django.urls import include, path
from django.contrib import admin

urlpatterns = [
    path('i18n/', include('django.conf.urls.i18n')),

    # The Django admin is not officially supported; expect breakage.
    # Nonetheless, it's often useful for debugging.

    path('admin/', admin.site.urls),

    path('', include(apps.get_app_config('oscar').urls[0])),
]
"""

# What a store of this machine configures for itself (not the plugin's business).
TEST_STACK = """
# --- this test's stack: PostgreSQL (ATOMIC_REQUESTS, as Oscar's docs recommend), mail, localstripe
DATABASES = {{
    'default': {{
        'ENGINE': 'django.db.backends.postgresql',
        'NAME': {database!r},
        'USER': 'postgres',
        'HOST': '127.0.0.1',
        'PORT': '5432',
        'ATOMIC_REQUESTS': True,
    }}
}}
EMAIL_HOST = '127.0.0.1'
EMAIL_PORT = {smtp_port}
OSCAR_FROM_EMAIL = DEFAULT_FROM_EMAIL = 'shop@frobshop.test'
OSCAR_DEFAULT_CURRENCY = 'EUR'
STRIPE_API_BASE = {stripe_url!r}
STRIPE_JS_URL = {stripe_url!r} + '/js.stripe.com/v3/'
"""


def process_stop(process: subprocess.Popen) -> None:
    """Ask `process` to stop; kill it if it has not within 15 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(args: list, *, cwd: Path | None = None, env: dict | None = None) -> str:
    """Run a command; its output, or an AssertionError carrying that output."""
    done = subprocess.run(
        [str(arg) for arg in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done.stdout


def wheel_build(outdir: Path) -> Path:
    """The plugin's wheel, built from this checkout as `python -m build --wheel` builds it."""
    # setuptools keeps what earlier builds copied to build/lib: a module moved since would ship too.
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    run([sys.executable, "-m", "build", "--wheel", "--outdir", outdir, ROOT])
    (wheel,) = outdir.glob("django_oscar_popup-*.whl")
    return wheel


def venv_create(path: Path, wheel: Path) -> Path:
    """A fresh virtualenv with Oscar as its docs install it, the plugin's wheel and the store's own
    choices (PostgreSQL's driver, pycountry for Oscar's countries). Uses pip's cache."""
    run([sys.executable, "-m", "venv", path])
    python = path / "bin" / "python"
    run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        + [wheel, "django-oscar[sorl-thumbnail]", "pycountry", "psycopg[binary]"]
    )
    return python


def readme_snippets() -> list[tuple[str, str, str]]:
    """(action, path, code) of every README.md block marked <!-- plain-store: ACTION PATH -->."""
    text = (ROOT / "README.md").read_text()
    pattern = re.compile(r"<!-- plain-store: (append|write) (\S+) -->\n```\w*\n(.*?)```", re.S)
    return pattern.findall(text)


def oscar_docs_apply(project: Path) -> None:
    """Oscar's "Building your own shop" steps on a project `django-admin startproject` made."""
    settings = project / PROJECT / "settings.py"
    text = settings.read_text()
    start = text.index("INSTALLED_APPS = [")
    end = text.index("]\n", start) + 2
    text = "from oscar.defaults import *\n" + text[:start] + OSCAR_INSTALLED_APPS + text[end:]
    settings.write_text(text + OSCAR_SETTINGS)
    (project / PROJECT / "urls.py").write_text(OSCAR_URLS)


def oscar_fork_apps(python: Path, project: Path, labels: list[str], env: dict) -> None:
    """Oscar's "Forking an app": oscar_fork_app into a package, then its config in INSTALLED_APPS."""
    (project / "forked").mkdir()
    (project / "forked" / "__init__.py").write_text("")
    settings = project / PROJECT / "settings.py"
    for label in labels:
        run([python, "manage.py", "oscar_fork_app", label, "forked"], cwd=project, env=env)
        config = f"{label.capitalize()}Config"
        text = settings.read_text()
        original = f"'oscar.apps.{label}.apps.{config}'"
        assert original in text
        settings.write_text(text.replace(original, f"'forked.{label}.apps.{config}'"))


def readme_snippets_apply(project: Path) -> list[str]:
    """Apply README.md's marked blocks as written; the paths they touched."""
    touched = []
    for action, path, code in readme_snippets():
        target = project / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if action == "append":
            target.write_text(target.read_text() + "\n" + code)
        else:
            target.write_text(code)
        touched.append(f"{action} {path}")
    return touched


def test_stack_apply(project: Path, *, database: str, smtp_port: int, stripe_url: str) -> None:
    settings = project / PROJECT / "settings.py"
    stack = TEST_STACK.format(database=database, smtp_port=smtp_port, stripe_url=stripe_url)
    settings.write_text(settings.read_text() + stack)


@dataclass
class Service:
    """A process of the store (web server, worker, beat) with its log."""

    name: str
    process: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def stop(self) -> None:
        process_stop(self.process)


@dataclass
class Store:
    """A store project on disk, its virtualenv, its environment and the processes it runs."""

    project: Path
    python: Path
    env: dict
    services: list[Service] = field(default_factory=list)
    url: str = ""

    def manage(self, *args: str) -> str:
        return run([self.python, "manage.py", *args], cwd=self.project, env=self.env)

    def shell(self, code: str) -> dict:
        """Run `code` in the store's Django shell; the JSON object it printed last."""
        output = self.manage("shell", "-c", code)
        return json.loads(output.strip().splitlines()[-1])

    def start(self, name: str, args: list[str]) -> Service:
        log = self.project / f"{name}.log"
        process = subprocess.Popen(
            [str(arg) for arg in args],
            cwd=self.project,
            env=self.env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        service = Service(name, process, log)
        self.services.append(service)
        return service

    def serve(self) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        web = self.start(
            "web", [self.python, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert web.alive(), web.output()
            try:
                requests.get(f"{self.url}/popup/embed.js", timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.3)
        raise AssertionError(f"the store did not answer: {web.output()}")

    def celery(self) -> tuple[Service, Service]:
        celery = self.python.parent / "celery"
        worker = self.start(
            "worker", [celery, "-A", PROJECT, "worker", "--pool", "solo", "--loglevel", "info"]
        )
        beat = self.start(
            "beat",
            [celery, "-A", PROJECT, "beat", "--loglevel", "info"]
            + ["--schedule", str(self.project / "celerybeat-schedule")],
        )
        return worker, beat

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()


def store_create(
    base: Path,
    python: Path,
    *,
    name: str,
    fork: list[str],
    database: str,
    smtp_port: int,
    stripe_url: str,
    broker_url: str,
) -> Store:
    """A new project made as Oscar's docs say, with the README's lines and this test's stack."""
    project = base / name
    project.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "POPUP_", "STRIPE_", "CELERY_", "DATABASE_", "REDIS_"))
    }
    env.update(
        PATH=f"{python.parent}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH="",
        VIRTUAL_ENV=str(python.parent.parent),
        STRIPE_SECRET_KEY="sk_test_plain_store",
        STRIPE_PUBLISHABLE_KEY="pk_test_plain_store",
        STRIPE_WEBHOOK_SECRET="whsec_plain_store",
        CELERY_BROKER_URL=broker_url,
        POPUP_SITE_URL="http://127.0.0.1",
    )
    run([python.parent / "django-admin", "startproject", PROJECT, project], env=env)
    oscar_docs_apply(project)
    test_stack_apply(project, database=database, smtp_port=smtp_port, stripe_url=stripe_url)
    store = Store(project=project, python=python, env=env)
    if fork:
        oscar_fork_apps(python, project, fork, env)
    readme_snippets_apply(project)
    return store
