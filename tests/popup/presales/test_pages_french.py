"""The backer's pledge page in French: its words, dates, amounts and history, the failure kept on the
pledge included (stored in English, said in the reader's language)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from popup.models import Pledge, PledgeEvent, PopUp
from tests.popup.notifications.test_emails import backed

pytestmark = pytest.mark.django_db

NBSP, NNBSP = "\u00a0", "\u202f"


@pytest.fixture
def french_store(settings):
    """A store whose default language is French: its pages speak French."""
    settings.LANGUAGE_CODE = "fr"


def page_of(client, pledge) -> str:
    response = client.get(f"/popup/pledge/{pledge.token}/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_pledge_reads_french_with_its_date_and_amounts(french_store, client):
    pledge = backed()
    PopUp.objects.filter(pk=pledge.popup_id).update(
        presale_charge_when=PopUp.ChargeWhen.DEADLINE,
        closes_at=datetime(2026, 12, 23, 18, tzinfo=UTC),
    )
    Pledge.objects.filter(pk=pledge.pk).update(amount=Decimal("59.00"))
    PledgeEvent.objects.create(
        pledge=pledge, status_from="", status_to="pledged", note="Cancelled by the backer."
    )

    html = page_of(client, pledge)

    assert "<h1>Votre engagement</h1>" in html
    assert "<strong>Engagement enregistré.</strong> Rien n'est débité pour l'instant." in html
    assert (
        "Votre carte (Visa •••• 4242) sera débitée à la fin de la précommande, le 23 décembre "
        "2026, et seulement si celle-ci atteint son objectif."
    ) in html
    assert f"<strong data-pledge-amount>59,00{NBSP}€</strong>" in html
    assert f"<span>Livraison</span><span>5,00{NBSP}€</span>" in html
    assert "Annuler mon engagement" in html and "Historique" in html
    # A note kept in English is read in French.
    assert f"Engagé{NBSP}: Annulé par le contributeur." in html
    assert "Précommande" in html or "objectif" in html
    for english in ("Pledged.", "Your card", "Cancel my pledge", "History", "backer"):
        assert english not in html, english


def test_a_failed_charge_is_told_in_french(french_store, client):
    pledge = backed(
        Pledge.Status.FAILED,
        failure_message="Your card was declined.",
        next_retry_at=datetime(2026, 12, 23, 10, tzinfo=UTC),
    )

    html = page_of(client, pledge)

    assert "<strong>Votre paiement n'a pas abouti.</strong> Votre carte a été refusée." in html
    assert "Payez ci-dessous avant le 23 décembre, date à laquelle" in html
    assert f"Payer 85,00{NBSP}€ avec Visa •••• 4242" in html
    assert "Your card was declined." not in html


def test_the_pledge_page_stays_english_for_an_english_store(client):
    pledge = backed(
        Pledge.Status.FAILED,
        failure_message="Your card was declined.",
        next_retry_at=datetime(2026, 12, 23, 10, tzinfo=UTC),
    )

    html = page_of(client, pledge)

    assert "<strong>Your payment did not go through.</strong> Your card was declined." in html
    assert "Pay below before 23 December, when we will try your card again;" in html
    assert "Pay €85.00 with Visa •••• 4242" in html
