"""Every e-mail of the plugin in French: the same file templates, rendered in the recipient's
language, with French words, dates and amounts (no merchant's own text in these tests)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from popup import tasks
from popup.models import Pledge, PledgeEvent, PledgeLine, PopUp
from popup.notifications.emails import email_send_once
from tests.popup.notifications.test_emails import SENDINGS, backed, waitlisted

pytestmark = pytest.mark.django_db

NBSP, NNBSP = "\u00a0", "\u202f"

# For each e-mail: (its subject, words its body must show), as a French reader gets them.
FRENCH = {
    "POPUP_AMBASSADOR_INVITE": (
        f"Atelier Nord{NBSP}: votre lien pour Winter drop",
        f"Votre code, à saisir au moment du paiement{NBSP}: SOPHIE10",
    ),
    "POPUP_CHECKOUT_LOST": (
        f"Winter drop{NBSP}: votre commande n'a pas pu aboutir, rien n'a été débité",
        f"Nous sommes désolés{NBSP}: votre commande sur Winter drop n'a pas pu aboutir.",
    ),
    "POPUP_IDEA_SHIPPED": (
        f"Vous l'avez demandé, c'est fait{NBSP}: «{NBSP}A sage-green scarf{NBSP}»",
        f"Vous avez voté pour «{NBSP}A sage-green scarf{NBSP}» dans la boîte à idées de Winter drop.",
    ),
    "POPUP_IDEA_UPDATES_CONFIRM": (
        f"Recevoir un e-mail quand les idées de Winter drop sont réalisées{NNBSP}?",
        "Votre vote dans la boîte à idées de Winter drop est bien compté.",
    ),
    "POPUP_PLEDGE_CANCELLED": (
        "Votre engagement pour Winter drop est annulé",
        f"Votre engagement de 85,00{NBSP}€ pour Winter drop est annulé, comme vous l'avez demandé.",
    ),
    "POPUP_PLEDGE_DROPPED": (
        "Votre engagement pour Winter drop a été annulé",
        f"des 85,00{NBSP}€ de votre engagement pour Winter drop",
    ),
    "POPUP_PLEDGE_FAILED": (
        f"Action requise{NBSP}: votre paiement pour Winter drop n'a pas abouti",
        # The failure, kept in English on the pledge, is said in French too.
        "Visa •••• 4242) des 85,00\u00a0€ de votre engagement.\n\nVotre carte a été refusée.",
    ),
    "POPUP_PLEDGE_LAUNCHED": (
        "Winter drop est maintenant disponible en boutique",
        "Votre commande suit son cours comme prévu (expédition prévue en juin 2031)",
    ),
    "POPUP_PLEDGE_NOT_FUNDED": (
        f"Winter drop n'a pas atteint son objectif{NBSP}: aucun montant ne sera débité",
        f"Votre engagement de 85,00{NBSP}€ est annulé.",
    ),
    "POPUP_PLEDGE_PLEDGED": (
        f"Votre engagement pour Winter drop{NBSP}: rien n'est encore débité",
        f"Votre engagement{NBSP}:\n  2 × Product 000 à 40,00{NBSP}€\n"
        f"  Livraison{NBSP}: 5,00{NBSP}€\n  Total{NBSP}: 85,00{NBSP}€",
    ),
    "POPUP_POLL_VOTE": (
        f"Confirmez votre vote{NBSP}: Which colour next?",
        f"Vous avez répondu «{NBSP}Sage{NBSP}» au sondage de Winter drop",
    ),
    "POPUP_QUESTION_ANSWERED": (
        "Votre question sur Winter drop a reçu une réponse",
        f"Bonjour Ada,\n\nVotre question{NBSP}:\nIs the wool itchy?",
    ),
    "POPUP_REVIEW_INVITE": (
        f"Que pensez-vous de votre achat sur Winter drop{NNBSP}?",
        "Il y a quelques jours, vous avez commandé sur Winter drop (commande ",
    ),
    "POPUP_WAITLIST_CONFIRM": (
        f"Confirmez{NBSP}: prévenez-moi quand Product 000 sera disponible",
        f"Merci de confirmer votre adresse en suivant ce lien{NBSP}:",
    ),
    "POPUP_WAITLIST_OPENED": (
        f"Winter drop a ouvert ses portes{NBSP}: Product 000 est disponible",
        f"Les drops sont limités{NBSP}: premier arrivé, premier servi.",
    ),
}


@pytest.fixture
def french_store(settings):
    """A store whose default language is French: its e-mails go out in French."""
    settings.LANGUAGE_CODE = "fr"


@pytest.mark.parametrize("code", sorted(FRENCH))
def test_each_email_reads_french_for_a_french_recipient(french_store, code):
    subject, says = FRENCH[code]

    SENDINGS[code]().run()

    (message,) = mail.outbox
    assert message.subject == subject
    assert says in message.body
    assert message.body.startswith("Bonjour")
    # No English sentence left: the words every one of these e-mails would have in English.
    for english in ("Hello", "Thank you", "your ", "You "):
        assert english not in message.body, english


def test_the_same_template_reads_english_for_an_english_recipient():
    SENDINGS["POPUP_PLEDGE_NOT_FUNDED"]().run()

    (message,) = mail.outbox
    assert message.subject == "Winter drop did not reach its goal: you will not be charged"
    assert "Your pledge of €85.00 is cancelled." in message.body


def test_dates_and_amounts_are_written_the_french_way(french_store):
    pledge = backed(
        Pledge.Status.FAILED,
        failure_message="Your card was declined.",
        next_retry_at=datetime(2026, 12, 23, 10, tzinfo=UTC),
    )
    Pledge.objects.filter(pk=pledge.pk).update(amount=Decimal("59.00"))
    PledgeEvent.objects.create(pledge=pledge, status_from="charging", status_to="failed")

    tasks.pledge_email_send.delay(pledge.pk, "failed")

    (message,) = mail.outbox
    assert f"des 59,00{NBSP}€ de votre engagement." in message.body
    assert "Nous réessaierons de débiter la carte le 23 décembre 2026." in message.body


def test_a_pledge_made_in_french_says_when_the_card_is_charged_and_what_it_costs(french_store):
    pledge = backed()
    PopUp.objects.filter(pk=pledge.popup_id).update(
        presale_charge_when=PopUp.ChargeWhen.DEADLINE,
        closes_at=datetime(2026, 12, 23, 18, tzinfo=UTC),
    )
    PledgeLine.objects.filter(pledge=pledge).update(unit_price=Decimal("59.00"))

    tasks.pledge_email_send.delay(pledge.pk, "pledged")

    (message,) = mail.outbox
    assert f"2 × Product 000 à 59,00{NBSP}€" in message.body
    assert (
        "Votre carte (Visa •••• 4242) est enregistrée et sera débitée à la fin de la précommande, "
        "le 23 décembre 2026, et seulement si celle-ci atteint son objectif."
    ) in message.body
    assert f"Expédition prévue{NBSP}: juin 2031." in message.body


def test_a_waitlist_opening_says_the_closing_day_and_hour_in_french():
    popup, alert = waitlisted(active=True)
    PopUp.objects.filter(pk=popup.pk).update(
        closes_at=timezone.make_aware(datetime(2026, 12, 23, 18, 30))
    )
    popup.refresh_from_db()
    context = {"alert": alert, "product": alert.product, "popup": popup, "popup_url": "/"}

    email_send_once(
        key="test:fr",
        code="POPUP_WAITLIST_OPENED",
        to="a@example.com",
        context=context,
        language="fr",
    )

    (message,) = mail.outbox
    assert (
        f"Winter drop a ouvert ses portes{NBSP}: Product 000, que vous attendiez, est disponible dès "
        "maintenant et jusqu'au 23 décembre à 18:30."
    ) in message.body


def test_a_decline_kept_on_a_pledge_is_said_in_each_readers_language(french_store):
    pledge = backed(
        Pledge.Status.FAILED,
        failure_message="Your card was declined.",
        next_retry_at=timezone.now() + timedelta(days=2),
    )

    french = email_send_once(
        key="test:fr",
        code="POPUP_PLEDGE_FAILED",
        to="fr@example.com",
        context={"pledge": pledge, "popup": pledge.popup},
        language="fr",
    )
    english = email_send_once(
        key="test:en",
        code="POPUP_PLEDGE_FAILED",
        to="en@example.com",
        context={"pledge": pledge, "popup": pledge.popup},
        language="en-gb",
    )

    assert french and english
    bodies = {message.to[0]: message.body for message in mail.outbox}
    assert "Votre carte a été refusée." in bodies["fr@example.com"]
    assert "Your card was declined." in bodies["en@example.com"]
