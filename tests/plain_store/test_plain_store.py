"""The README's install section is the test: a plain Oscar 4.2 store, made in a fresh virtualenv as
Oscar's docs say, gets the plugin's wheel and the README's lines, nothing else of ours, and sells.

Once as a plain store, once with Oscar's catalogue, partner and order apps forked. Everything goes over
HTTP to the store's own processes (runserver, a Celery worker and beat on Redis), paying through a
private localstripe; the confirmation e-mail must reach a real SMTP server.
"""

import re
import subprocess
import time
import zipfile
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default as email_policy
from pathlib import Path

import pytest
import redis
import requests
from aiosmtpd.controller import Controller

from tests.localstripe_server import LocalStripe

from .store import TIMEOUT, Store, free_port, readme_snippets, store_create, venv_create
from .store import wheel_build as build

pytestmark = pytest.mark.plain_store

BROKER_DB = {"plain": 8, "forked": 9}
SEED = """
import json
from decimal import Decimal
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from oscar.core.loading import get_model
from popup.models import PopUp, PopUpProduct

ProductClass = get_model("catalogue", "ProductClass")
Product = get_model("catalogue", "Product")
Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")
Range = get_model("offer", "Range")

get_user_model().objects.create_superuser("staff", "staff@frobshop.test", "staff-password")
kind = ProductClass.objects.create(name="Scarves", requires_shipping=True, track_stock=True)
partner = Partner.objects.create(name="Frobshop warehouse")
scarf = Product.objects.create(title="Indigo scarf", product_class=kind, is_public=True)
StockRecord.objects.create(
    product=scarf, partner=partner, partner_sku="SCARF-1", price=Decimal("59.00"),
    price_currency="EUR", num_in_stock=10,
)
slice_ = Range.objects.create(name="Winter drop")
slice_.add_product(scarf)
popup = PopUp.objects.create(
    slug="winter-drop", title="Winter drop", tagline="Ten scarves only", range=slice_,
    kind=PopUp.Kind.LIMITED, is_published=True,
    opens_at=timezone.now() - timedelta(hours=1), closes_at=timezone.now() + timedelta(days=2),
)
PopUpProduct.objects.create(popup=popup, product=scarf, units_offered=5)
print(json.dumps({"slug": popup.slug, "product": scarf.pk}))
"""


class Mailbox:
    """An SMTP server on 127.0.0.1 keeping every message it is handed."""

    def __init__(self) -> None:
        self.messages: list = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.content, policy=email_policy))
        return "250 OK"

    def wait_for(self, to: str, *, containing: str, timeout: float = 60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.messages:
                body = message.get_body(("plain",)).get_content()
                if to in message["To"] and containing in message["Subject"] + body:
                    return message
            time.sleep(0.3)
        return None

    def close(self) -> None:
        self.controller.stop()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def store_python(tmp_path_factory, wheel: Path) -> Path:
    return venv_create(tmp_path_factory.mktemp("venv") / "venv", wheel)


@pytest.fixture(scope="module")
def services() -> Iterator[tuple[LocalStripe, Mailbox]]:
    stripe, mailbox = LocalStripe(), Mailbox()
    yield stripe, mailbox
    mailbox.close()
    stripe.close()


def _database_fresh(name: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')


def test_wheel_holds_the_plugin_only(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        requirements = [
            line for line in archive.read(metadata).decode().splitlines() if "Requires-Dist" in line
        ]
    packages = {name.split("/")[0] for name in names if "/" in name}
    assert packages == {"popup", "integrations", next(n for n in packages if "dist-info" in n)}
    assert "popup/templates/popup/checkout.html" in names
    assert "popup/static/popup/embed.js" in names
    assert "integrations/stripe/templates/popup_stripe/dashboard/refund_form.html" in names
    assert any(name.startswith("popup/migrations/0001") for name in names)
    runtime = [line for line in requirements if "extra ==" not in line]
    for store_choice in ("dj-database-url", "psycopg", "whitenoise", "gunicorn", "localstripe"):
        assert not any(store_choice in line for line in runtime), runtime


def test_readme_has_the_install_snippets():
    touched = {path for _action, path, _code in readme_snippets()}
    assert touched == {
        "frobshop/settings.py",
        "frobshop/urls.py",
        "frobshop/wsgi.py",
        "frobshop/celery.py",
        "frobshop/__init__.py",
        "templates/oscar/dashboard/orders/order_detail.html",
    }


def _login(session: requests.Session, store: Store) -> None:
    page = session.get(f"{store.url}/accounts/login/", timeout=TIMEOUT)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(
        f"{store.url}/accounts/login/",
        data={
            "csrfmiddlewaretoken": token,
            "login-username": "staff@frobshop.test",
            "login-password": "staff-password",
            "login_submit": "Log in",
        },
        headers={"Referer": f"{store.url}/accounts/login/"},
        timeout=TIMEOUT,
    )
    assert response.ok and "sessionid" in session.cookies, response.text[-2000:]


def _card_token(stripe: LocalStripe) -> str:
    response = requests.post(
        f"{stripe.url}/v1/tokens",
        data={
            "card[number]": "4242424242424242",
            "card[exp_month]": "12",
            "card[exp_year]": "2034",
            "card[cvc]": "123",
            "key": "pk_test_plain_store",  # as Stripe.js sends it, with the publishable key
        },
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    return response.json()["id"]


@pytest.mark.parametrize(
    "variant, fork",
    [("plain", []), ("forked", ["catalogue", "partner", "order"])],
)
def test_plain_oscar_store_installs_and_sells(variant, fork, tmp_path, store_python, services):
    stripe, mailbox = services
    database = f"popup_plain_store_{variant}"
    _database_fresh(database)
    broker = f"redis://127.0.0.1:6379/{BROKER_DB[variant]}"
    redis.Redis.from_url(broker).flushdb()
    store = store_create(
        tmp_path,
        store_python,
        name=variant,
        fork=fork,
        database=database,
        smtp_port=mailbox.port,
        stripe_url=stripe.url,
        broker_url=broker,
    )
    try:
        store.manage("migrate", "--no-input")
        store.manage("oscar_populate_countries")
        checks = store.manage("check")
        assert "popup." not in checks, checks  # a configured store: no warning of ours
        sale = store.shell(SEED)
        store.serve()
        worker, beat = store.celery()
        stripe.register_webhook(
            f"{store.url}/popup/stripe/webhook/", secret="whsec_plain_store", name=variant
        )
        _buy(store, stripe, mailbox, sale, variant=variant)
        assert worker.alive(), worker.output()
        assert beat.alive(), beat.output()
        assert "beat: Starting" in beat.output()
    finally:
        store.stop()


def _buy(store: Store, stripe: LocalStripe, mailbox: Mailbox, sale: dict, *, variant: str):
    url, slug = store.url, sale["slug"]
    page = requests.get(f"{url}/popup/{slug}/", timeout=TIMEOUT)
    assert page.status_code == 200 and "Winter drop" in page.text
    # Step 5's PageShells serves it again as the shell for everyone: no cookie, no Vary: Cookie.
    again = requests.get(f"{url}/popup/{slug}/?pl=x", headers={"Cookie": "sessionid=x"})
    assert again.text == page.text and again.headers["ETag"] == page.headers["ETag"]
    assert "cookie" not in again.headers["Vary"].lower() and "Set-Cookie" not in again.headers
    live = requests.get(f"{url}/popup/{slug}/live/?view=page", timeout=TIMEOUT).json()
    assert live["state"] == "live" and live["basket"] is None
    embed = requests.get(f"{url}/popup/{slug}/embed/", timeout=TIMEOUT)
    assert embed.status_code == 200 and "Indigo scarf" in embed.text
    oembed = requests.get(
        f"{url}/popup/oembed", params={"url": f"{url}/popup/{slug}/", "format": "json"}
    )
    assert oembed.status_code == 200 and oembed.json()["type"] == "rich"
    share = requests.get(f"{url}/popup/{slug}/share.png", timeout=TIMEOUT)
    assert share.status_code == 200 and share.content.startswith(b"\x89PNG")
    assert requests.get(f"{url}/popup/embed.js", timeout=TIMEOUT).status_code == 200

    session = requests.Session()
    basket = session.post(f"{url}/popup/{slug}/basket/new/", json={}, timeout=TIMEOUT)
    assert basket.status_code == 201, basket.text
    token = basket.json()["basket"]["token"]
    hold = session.post(
        f"{url}/popup/{slug}/basket/lines/",
        json={"product": sale["product"], "quantity": 2},
        headers={"X-Popup-Basket": token},
        timeout=TIMEOUT,
    )
    assert hold.status_code == 200, hold.text
    checkout = session.get(f"{url}/popup/checkout/{token}/", timeout=TIMEOUT)
    assert checkout.status_code == 200 and "Indigo scarf" in checkout.text
    assert "not configured" not in checkout.text
    email = f"buyer-{variant}@example.com"
    paid = session.post(
        f"{url}/popup/checkout/{token}/pay/",
        json={
            "email": email,
            "first_name": "Claire",
            "last_name": "Dubois",
            "line1": "1 rue de la Paix",
            "city": "Paris",
            "postcode": "75002",
            "country": "FR",
            "card_token": _card_token(stripe),
        },
        timeout=TIMEOUT,
    )
    assert paid.status_code == 200, paid.text
    answer = paid.json()
    assert answer["status"] == "succeeded", answer
    number = str(answer["order"])
    intent = requests.get(
        f"{stripe.url}/v1/payment_intents/{answer['payment_intent']}",
        headers={"Authorization": "Bearer sk_test_plain_store"},
        timeout=TIMEOUT,
    ).json()
    assert intent["status"] == "succeeded"  # captured: units first, then the money

    staff = requests.Session()
    _login(staff, store)
    order_page = staff.get(f"{url}/dashboard/orders/{number}/", timeout=TIMEOUT)
    assert order_page.status_code == 200 and number in order_page.text
    assert "Indigo scarf" in order_page.text
    assert 'name="amount"' in order_page.text  # the README's refund form, on Oscar's page
    popups = staff.get(f"{url}/dashboard/popups/", timeout=TIMEOUT)
    assert popups.status_code == 200 and "Winter drop" in popups.text

    # Sent by the Celery worker, through the broker, to the mail server.
    confirmation = mailbox.wait_for(email, containing=number)
    assert confirmation is not None, [m["Subject"] for m in mailbox.messages]


def test_checks_name_what_a_production_store_lacks(tmp_path, store_python, services):
    """The same plain store with nothing set but Oscar's lines and the plugin's apps, DEBUG off:
    `manage.py check --deploy` names each missing setting instead of failing at request time."""
    stripe, mailbox = services
    store = store_create(
        tmp_path,
        store_python,
        name="bare",
        fork=[],
        database="popup_plain_store_bare",
        smtp_port=mailbox.port,
        stripe_url=stripe.url,
        broker_url="",
    )
    settings = store.project / "frobshop" / "settings.py"
    text = settings.read_text()
    text = text.replace("DEBUG = True", "DEBUG = False")
    settings.write_text(
        text
        + "\nSTRIPE_SECRET_KEY = STRIPE_PUBLISHABLE_KEY = POPUP_SITE_URL = ''"
        + "\nCELERY_BROKER_URL = None\nCELERY_BEAT_SCHEDULE = {}\n"
    )
    done = subprocess.run(
        [str(store.python), "manage.py", "check", "--deploy"],
        cwd=store.project,
        env=store.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    for check in ("popup.W001", "popup.W010", "popup.W011", "popup.W020", "popup.W030"):
        assert check in output, output
    assert "STRIPE_SECRET_KEY" in output and "CELERY_BROKER_URL" in output
