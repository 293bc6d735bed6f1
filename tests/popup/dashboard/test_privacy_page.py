"""The dashboard's "Shoppers' data" page (issue 18): what the plugin holds about an address, its
JSON download and its erasure, for staff only, every action a POST, in the merchant's language."""

import html
import json
import logging
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from oscar.core.loading import get_model

from popup.feedback.questions import question_ask
from popup.feedback.waitlist import waitlist_join
from popup.models import PopUpProduct, Question
from popup.privacy.selectors import personal_data_export
from tests.factories import popup_with_products
from tests.popup.privacy.support import ADA_DETAILS, GRACE, IP, bought

ProductAlert = get_model("customer", "ProductAlert")

pytestmark = pytest.mark.django_db

URL = reverse("popup-dashboard:shopper-data")
ADA = "ada@example.com"


@pytest.fixture
def ada():
    """Ada asked a question and signed up for a waiting list (as "Ada@Example.com"); Grace asked
    a question too."""
    shop = popup_with_products(1)
    question_ask(popup=shop, body="Lavable à 30 °C ?", email=ADA, name="Ada", client_ip=IP)
    question_ask(popup=shop, body="Is it warm?", email=GRACE, client_ip=IP)
    soon = popup_with_products(
        1, opens_at=timezone.now() + timedelta(days=1), closes_at=timezone.now() + timedelta(days=3)
    )
    product = PopUpProduct.objects.get(popup=soon).product
    waitlist_join(popup=soon, product_id=product.pk, email="Ada@Example.com", client_ip=IP)
    return shop


def text(response) -> str:
    """The page's words, without markup, spaces folded (no-break spaces kept: French needs them)."""
    page = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(page))


def held(response) -> dict[str, int]:
    """The summary table: each kind's label and its count of records."""
    rows = re.findall(
        r'<th scope="row"[^>]*>([^<]+)</th><td class="text-right">(\d+)</td>',
        response.content.decode(),
    )
    return {html.unescape(label): int(count) for label, count in rows}


def ada_is_held() -> bool:
    return (
        Question.objects.filter(email=ADA).exists()
        and ProductAlert.objects.filter(email="Ada@Example.com").exists()
    )


class TestAccess:
    def test_anonymous_visitors_are_sent_to_log_in_and_nothing_is_erased(self, client, ada):
        for response in (
            client.get(URL),
            client.post(URL, {"email": ADA, "action": "erase", "confirmation": ADA}),
        ):
            assert response.status_code == 302
            assert response["Location"] == f"{reverse('dashboard:login')}?next={URL}"
        assert ada_is_held()

    def test_customers_are_refused(self, client, ada):
        customer = get_user_model().objects.create_user(
            username="shopper", email="shopper@example.com", password="pw"
        )
        client.force_login(customer)
        assert client.get(URL).status_code == 403
        data = {"email": ADA, "action": "download"}
        assert client.post(URL, data).status_code == 403
        assert "Content-Disposition" not in client.post(URL, data)
        assert client.post(URL, {**data, "action": "erase", "confirmation": ADA}).status_code == 403
        assert ada_is_held()

    def test_a_post_without_its_csrf_token_is_refused(self, admin_user, ada):
        client = Client(enforce_csrf_checks=True)
        client.force_login(admin_user)
        page = client.get(URL).content.decode()
        assert re.search(r'id="shopper_data_find"[^>]*>\s*<input [^>]*"csrfmiddlewaretoken"', page)

        response = client.post(URL, {"email": ADA, "action": "erase", "confirmation": ADA})
        assert response.status_code == 403
        assert ada_is_held()

    def test_the_dashboard_menu_leads_here(self, admin_client):
        page = admin_client.get(reverse("dashboard:index")).content.decode()
        assert re.search(rf'href="{URL}"[^>]*>\s*Shoppers&#x27; data\s*<', page)


class TestExport:
    def test_the_page_asks_for_an_address_and_never_reads_one_from_the_url(self, admin_client, ada):
        response = admin_client.get(URL, {"email": ADA})

        page = response.content.decode()
        assert response.status_code == 200
        assert '<label for="id_email">Shopper&#x27;s e-mail address</label>' in page
        assert 'type="email" name="email"' in page and ADA not in page
        assert "no-store" in response["Cache-Control"]

    def test_what_is_held_is_counted_per_kind(self, admin_client, ada):
        response = admin_client.post(URL, {"email": " ada@EXAMPLE.com ", "action": "find"})

        counts = held(response)
        assert counts["Questions"] == 1  # hers, not Grace's
        assert counts["Waiting list sign-ups"] == 1
        assert counts["Orders"] == counts["Pledges"] == 0
        assert counts["Rate-limit counters"] == 2  # a question and a sign-up, counted per address
        assert "What the plugin holds about ada@EXAMPLE.com" in text(response)
        assert 'value="download"' in response.content.decode()
        assert "no-store" in response["Cache-Control"]

    def test_the_download_is_the_export_as_utf8_json_dated(self, admin_client, ada):
        response = admin_client.post(URL, {"email": ADA, "action": "download"})

        assert response.status_code == 200
        assert response["Content-Type"] == "application/json; charset=utf-8"
        day = timezone.localdate().isoformat()
        assert response["Content-Disposition"] == f'attachment; filename="shopper-data-{day}.json"'
        assert "no-store" in response["Cache-Control"]
        body = response.content.decode("utf-8")
        assert "Lavable à 30 °C ?" in body  # UTF-8, not \u escapes
        assert body.startswith('{\n  "email": ')  # indented for the person reading it
        export = json.loads(body)
        (question,) = export["data"]["questions"]
        assert (question["question"], question["name"]) == ("Lavable à 30 °C ?", "Ada")
        (alert,) = export["data"]["waitlists"]
        assert alert["email"] == "Ada@Example.com"
        assert (
            export["data"] == personal_data_export(email=ADA)["data"]
        )  # all of it, as the command

    def test_the_log_says_who_did_what_without_the_address(
        self, admin_client, admin_user, ada, caplog
    ):
        caplog.set_level(logging.INFO, logger="popup.dashboard.privacy_views")
        admin_client.post(URL, {"email": ADA, "action": "download"})
        admin_client.post(URL, {"email": "ADA@example.com", "action": "find"})

        first, second = (
            record.getMessage()
            for record in caplog.records
            if record.name == "popup.dashboard.privacy_views"
        )
        assert f"staff user {admin_user.pk} downloaded the export of mailbox " in first
        assert "ada" not in (first + second).lower()
        # The same mailbox, the same digest: whoever holds the address can find what was done.
        assert first.rsplit(" ", 1)[1] == second.rsplit(" ", 1)[1]


class TestErase:
    def test_the_dry_run_then_a_wrong_confirmation_change_nothing(self, admin_client, ada):
        preview = admin_client.post(URL, {"email": ADA, "action": "preview"})

        assert "Erase the data of ada@example.com?" in text(preview)
        assert held(preview) == {
            "Waiting list sign-ups": 1,
            "Questions": 1,
            "Consents recorded": 2,  # the question's and the sign-up's
            "Rate-limit counters": 2,
        }
        assert '<label for="id_confirmation">To confirm, type the address again</label>' in (
            preview.content.decode()
        )
        assert ada_is_held()

        for wrong in ("", GRACE, "ada@example.org"):
            response = admin_client.post(
                URL, {"email": ADA, "action": "erase", "confirmation": wrong}
            )
            assert response.status_code == 200
            assert 'aria-invalid="true"' in response.content.decode()
            assert "Erased for" not in text(response)
            assert ada_is_held()
        assert "This is not the address above: nothing was erased." in text(response)

    def test_the_address_typed_again_erases_and_the_report_says_what(self, admin_client, ada):
        response = admin_client.post(
            URL, {"email": ADA, "action": "erase", "confirmation": " ADA@example.com"}
        )

        page = text(response)
        assert response.status_code == 200
        assert "Erased for ada@example.com:" in page
        assert "Questions: 1" in page and "Waiting list sign-ups: 1" in page
        assert not Question.objects.filter(email__iexact=ADA).exists()  # unanswered: deleted
        assert not ProductAlert.objects.filter(email__iexact=ADA).exists()
        assert Question.objects.get().email == GRACE  # hers stays
        assert all(rows == [] for rows in personal_data_export(email=ADA)["data"].values())

        again = admin_client.post(URL, {"email": ADA, "action": "erase", "confirmation": ADA})
        assert "Nothing: the plugin holds nothing about this address." in text(again)

    @pytest.mark.parametrize("address", ["ada", "ada@", "@example.com", "ada@exa mple.com", ""])
    @pytest.mark.parametrize("action", ["find", "download", "preview", "erase"])
    def test_a_malformed_address_is_a_form_error(self, admin_client, ada, address, action):
        data = {"email": address, "action": action, "confirmation": address}
        response = admin_client.post(URL, data)

        assert response.status_code == 200
        assert "Content-Disposition" not in response
        assert 'aria-invalid="true"' in response.content.decode()
        message = "This field is required." if not address else "Enter a valid e-mail address."
        assert message in text(response)
        assert ada_is_held()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("stripe_settings", "france")
def test_a_purchase_under_way_refuses_the_erasure_with_its_reason(admin_client, localstripe):
    order = bought(localstripe, popup_with_products(1), ADA_DETAILS)  # Pending: to be shipped
    email = ADA_DETAILS.email
    before = personal_data_export(email=email)["data"]

    for data in ({"action": "preview"}, {"action": "erase", "confirmation": email}):
        response = admin_client.post(URL, {"email": email, **data})

        assert response.status_code == 200
        page = text(response)
        assert "Nothing was erased:" in page
        assert f"Order {order.number} is still in progress (Pending)" in page
        assert "Erased for" not in page and 'name="confirmation"' not in response.content.decode()
    assert personal_data_export(email=email)["data"] == before


def test_the_page_speaks_french_to_a_french_merchant(admin_client, ada):
    with translation.override("fr"):
        page = admin_client.get(URL, HTTP_ACCEPT_LANGUAGE="fr")
        found = admin_client.post(URL, {"email": ADA, "action": "find"}, HTTP_ACCEPT_LANGUAGE="fr")
        preview = admin_client.post(
            URL, {"email": ADA, "action": "preview"}, HTTP_ACCEPT_LANGUAGE="fr"
        )
        wrong = admin_client.post(
            URL,
            {"email": ADA, "action": "erase", "confirmation": GRACE},
            HTTP_ACCEPT_LANGUAGE="fr",
        )
        malformed = admin_client.post(
            URL, {"email": "ada@", "action": "find"}, HTTP_ACCEPT_LANGUAGE="fr"
        )
        erased = admin_client.post(
            URL, {"email": ADA, "action": "erase", "confirmation": ADA}, HTTP_ACCEPT_LANGUAGE="fr"
        )

    assert "<h1>Données des clients</h1>" in page.content.decode()
    assert "Adresse e-mail du client" in text(page)
    assert "Shoppers" not in text(page)
    assert held(found)["Inscriptions sur liste d'attente"] == 1
    assert "Télécharger le JSON" in text(found)
    assert "Effacer les données de ada@example.com\u202f?" in text(preview)
    assert "Ce n'est pas l'adresse ci-dessus" in text(wrong)
    assert "Saisissez une adresse e-mail valide." in text(malformed)
    assert "Effacé pour ada@example.com\u00a0:" in text(erased)
    assert "Questions\u00a0: 1" in text(erased)
