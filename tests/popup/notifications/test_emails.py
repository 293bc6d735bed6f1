"""The plugin's e-mails go through Oscar's communication app: one event type per e-mail, editable in
Dashboard › Communications, chosen by the recipient's language, and sent once whatever the retries."""

import importlib
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.utils import timezone
from oscar.core.loading import get_model
from oscar.test import factories as oscar_factories

from popup import tasks
from popup.models import (
    Ambassador,
    Consent,
    Idea,
    IdeaVote,
    OutgoingEmail,
    Placement,
    Pledge,
    PledgeEvent,
    PledgeLine,
    Poll,
    PollOption,
    PollVote,
    PopUp,
    PopUpBasket,
    PopUpProduct,
    Question,
    ReviewInvite,
)
from popup.notifications.emails import email_send_once
from popup.notifications.messages import LAUNCH_EMAIL_NOTE
from tests.factories import popup_with_products
from tests.mail_backends import DisconnectsOnceBackend

CommunicationEventType = get_model("communication", "CommunicationEventType")
ProductAlert = get_model("customer", "ProductAlert")

# Not transactional: pytest-django runs these before any test that flushes the database, so the
# rows the data migration made are still there.
pytestmark = pytest.mark.django_db

email_types = importlib.import_module("popup.migrations.0017_email_types")

CODES = [
    "POPUP_AMBASSADOR_INVITE",
    "POPUP_CHECKOUT_LOST",
    "POPUP_IDEA_SHIPPED",
    "POPUP_IDEA_UPDATES_CONFIRM",
    "POPUP_PLEDGE_CANCELLED",
    "POPUP_PLEDGE_DROPPED",
    "POPUP_PLEDGE_FAILED",
    "POPUP_PLEDGE_LAUNCHED",
    "POPUP_PLEDGE_NOT_FUNDED",
    "POPUP_PLEDGE_PLEDGED",
    "POPUP_POLL_VOTE",
    "POPUP_QUESTION_ANSWERED",
    "POPUP_REVIEW_INVITE",
    "POPUP_WAITLIST_CONFIRM",
    "POPUP_WAITLIST_OPENED",
]
ORDER_RELATED = {"POPUP_CHECKOUT_LOST", "POPUP_REVIEW_INVITE"} | {
    code for code in CODES if code.startswith("POPUP_PLEDGE_")
}


@dataclass
class Sending:
    """One e-mail of the plugin, about to be sent by its real task."""

    to: str
    run: Callable[[], object]
    says: str  # something of this message its body must show


def drop(**kwargs) -> PopUp:
    return popup_with_products(1, title="Winter drop", **kwargs)


def backed(status=Pledge.Status.PLEDGED, **fields) -> Pledge:
    popup = drop(
        kind=PopUp.Kind.PRESALE,
        presale_funding=PopUp.Funding.ALL_OR_NOTHING,
        presale_goal_units=10,
        presale_ships_on=datetime(2031, 6, 1).date(),
    )
    pledge = Pledge.objects.create(
        popup=popup,
        email="ada@example.com",
        currency="EUR",
        amount=Decimal("85.00"),
        shipping_charge=Decimal("5.00"),
        card_label="Visa •••• 4242",
        status=status,
        **fields,
    )
    terms = PopUpProduct.objects.get(popup=popup)
    PledgeLine.objects.create(pledge=pledge, terms=terms, quantity=2, unit_price=Decimal("40.00"))
    return pledge


def pledge_sending(kind: str, status=Pledge.Status.PLEDGED) -> Sending:
    pledge = backed(status)
    return Sending(pledge.email, lambda: tasks.pledge_email_send.delay(pledge.pk, kind), "€85.00")


def failed_pledge() -> Pledge:
    pledge = backed(
        Pledge.Status.FAILED,
        failure_message="Your card was declined.",
        next_retry_at=timezone.now() + timedelta(days=2),
    )
    PledgeEvent.objects.create(pledge=pledge, status_from="charging", status_to="failed")
    return pledge


def ambassador_invite() -> Sending:
    popup = drop()
    ambassador = Ambassador.objects.create(
        name="Sophie", email="sophie@example.com", code="SOPHIE10", invited_at=timezone.now()
    )
    placement = Placement.objects.create(popup=popup, name="Sophie", ambassador=ambassador)
    return Sending(
        ambassador.email,
        lambda: tasks.ambassador_invite_email_send.delay(ambassador.pk, placement.pk),
        "SOPHIE10",
    )


def checkout_lost() -> Sending:
    basket = PopUpBasket.objects.create(
        popup=drop(), email="ada@example.com", payment_intent_id="pi_lost"
    )
    reason = "No longer available: Product 000. Nothing was charged."
    return Sending(
        basket.email, lambda: tasks.checkout_lost_email_send.delay(basket.pk, reason), reason
    )


def idea_shipped() -> Sending:
    idea = Idea.objects.create(
        popup=drop(), title="A sage-green scarf", email="ada@example.com", status="done"
    )
    IdeaVote.objects.create(idea=idea, email="grace@example.com")
    Consent.objects.create(
        email="Grace@example.com",
        purpose=Consent.Purpose.IDEA_UPDATES,
        basis=Consent.Basis.CONSENT,
        popup=idea.popup,
        confirmed_at=timezone.now(),
    )
    return Sending(
        "grace@example.com",
        lambda: tasks.idea_shipped_email_send.delay(idea.pk),
        "“A sage-green scarf”",
    )


def idea_updates_confirm() -> Sending:
    consent = Consent.objects.create(
        email="grace@example.com",
        purpose=Consent.Purpose.IDEA_UPDATES,
        basis=Consent.Basis.CONSENT,
        popup=drop(),
    )
    return Sending(
        consent.email,
        lambda: tasks.idea_updates_confirmation_send.delay(consent.pk),
        f"{settings.POPUP_SITE_URL}/popup/consent/{consent.token}/",
    )


def pledge_failed() -> Sending:
    pledge = failed_pledge()
    return Sending(
        pledge.email,
        lambda: tasks.pledge_email_send.delay(pledge.pk, "failed"),
        f"Your card was declined.\n\nPlease pay or use another card here (your bank's confirmation, "
        f"if it asks for one, happens there too):\n{settings.POPUP_SITE_URL}/popup/pledge/{pledge.token}/",
    )


def pledge_pledged() -> Sending:
    pledge = backed()
    return Sending(
        pledge.email,
        lambda: tasks.pledge_email_send.delay(pledge.pk, "pledged"),
        "You pledged:\n  2 × Product 000 at €40.00\n  Shipping: €5.00\n  Total: €85.00",
    )


def pledge_launched() -> Sending:
    order = oscar_factories.create_order(guest_email="ada@example.com")
    pledge = backed(Pledge.Status.PAID, order=order)
    PopUp.objects.filter(pk=pledge.popup_id).update(graduated_at=timezone.now())
    return Sending(
        pledge.email,
        lambda: tasks.pledge_email_send.delay(pledge.pk, "launched"),
        f"/popup/{pledge.popup.slug}/",
    )


def poll_vote() -> Sending:
    poll = Poll.objects.create(popup=drop(), question="Which colour next?")
    option = PollOption.objects.create(poll=poll, label="Sage")
    vote = PollVote.objects.create(poll=poll, option=option, email="ada@example.com")
    return Sending(
        vote.email, lambda: tasks.poll_vote_confirmation_send.delay(vote.pk), "/popup/vote/"
    )


def question_answered() -> Question:
    return Question.objects.create(
        popup=drop(),
        email="ada@example.com",
        name="Ada",
        body="Is the wool itchy?",
        answer="Not at all: it is merino.",
        answered_at=timezone.now(),
        status=Question.Status.PUBLISHED,
    )


def question_answered_sending() -> Sending:
    question = question_answered()
    return Sending(
        question.email,
        lambda: tasks.question_answered_email_send.delay(question.pk),
        "Not at all: it is merino.",
    )


def review_invite() -> Sending:
    order = oscar_factories.create_order(guest_email="ada@example.com")
    invite = ReviewInvite.objects.create(order=order, popup=drop())
    return Sending(
        "ada@example.com",
        lambda: tasks.review_invite_email_send.delay(invite.pk),
        f"/popup/review/{invite.token}/",
    )


def waitlisted(*, active: bool) -> tuple:
    popup = drop()
    product = PopUpProduct.objects.get(popup=popup).product
    alert = ProductAlert.objects.create(product=product, email="ada@example.com")
    if active:
        alert.status = ProductAlert.ACTIVE
        alert.save()
    return popup, alert


def waitlist_confirm() -> Sending:
    _popup, alert = waitlisted(active=False)
    return Sending(
        alert.email,
        lambda: tasks.waitlist_confirmation_email_send.delay(alert.pk),
        f"/accounts/alerts/confirm/{alert.key}/",
    )


def waitlist_opened() -> Sending:
    popup, alert = waitlisted(active=True)
    return Sending(
        alert.email,
        lambda: tasks.waitlist_opening_email_send.delay(alert.pk, popup.pk),
        f"/popup/{popup.slug}/",
    )


SENDINGS = {
    "POPUP_AMBASSADOR_INVITE": ambassador_invite,
    "POPUP_CHECKOUT_LOST": checkout_lost,
    "POPUP_IDEA_SHIPPED": idea_shipped,
    "POPUP_IDEA_UPDATES_CONFIRM": idea_updates_confirm,
    "POPUP_PLEDGE_CANCELLED": lambda: pledge_sending("cancelled", Pledge.Status.CANCELLED),
    "POPUP_PLEDGE_DROPPED": lambda: pledge_sending("dropped", Pledge.Status.DROPPED),
    "POPUP_PLEDGE_FAILED": pledge_failed,
    "POPUP_PLEDGE_LAUNCHED": pledge_launched,
    "POPUP_PLEDGE_NOT_FUNDED": lambda: pledge_sending("not_funded", Pledge.Status.CANCELLED),
    "POPUP_PLEDGE_PLEDGED": pledge_pledged,
    "POPUP_POLL_VOTE": poll_vote,
    "POPUP_QUESTION_ANSWERED": question_answered_sending,
    "POPUP_REVIEW_INVITE": review_invite,
    "POPUP_WAITLIST_CONFIRM": waitlist_confirm,
    "POPUP_WAITLIST_OPENED": waitlist_opened,
}


def edit(code: str, *, subject: str, body: str) -> None:
    """What a merchant does in Dashboard › Communications (the form wants an HTML body too)."""
    row = CommunicationEventType.objects.get(code=code)
    row.email_subject_template, row.email_body_template = subject, body
    row.email_body_html_template = f"<p>{body}</p>"
    row.save()


class TestTheEventTypes:
    def test_the_migration_made_a_default_and_a_french_row_per_email(self):
        rows = {
            row.code: row
            for row in CommunicationEventType.objects.filter(code__startswith="POPUP_")
        }

        assert sorted(rows) == sorted(CODES + [f"{code}_FR" for code in CODES])
        for code in CODES:
            default, french = rows[code], rows[f"{code}_FR"]
            assert default.name.startswith("Pop-up: ")
            assert french.name == f"{default.name} (French)"
            expected = "Order related" if code in ORDER_RELATED else "User related"
            assert default.category == french.category == expected
            for row in (default, french):
                # NULL, not "": Oscar falls back to the file templates.
                assert row.email_subject_template is None and row.email_body_template is None
        assert rows["POPUP_PLEDGE_PLEDGED"].name == "Pop-up: pledge received"
        assert set(SENDINGS) == set(CODES)

    def test_the_migration_can_run_again_and_be_reversed(self):
        edit("POPUP_POLL_VOTE", subject="Vote", body="Confirm")
        email_types.email_types_create(apps, None)  # again: nothing doubled, no edit undone
        assert CommunicationEventType.objects.filter(code__startswith="POPUP_").count() == 30
        assert CommunicationEventType.objects.get(code="POPUP_POLL_VOTE").email_body_template

        email_types.email_types_delete(apps, None)
        left = CommunicationEventType.objects.filter(code__startswith="POPUP_")
        # Only the e-mail a later migration (0030) made is left.
        assert sorted(left.values_list("code", flat=True)) == [
            "POPUP_IDEA_UPDATES_CONFIRM",
            "POPUP_IDEA_UPDATES_CONFIRM_FR",
        ]
        assert CommunicationEventType.objects.filter(code="ORDER_PLACED").count() <= 1  # Oscar's

        email_types.email_types_create(apps, None)
        assert CommunicationEventType.objects.filter(code__startswith="POPUP_").count() == 30

    def test_merchants_find_them_in_the_dashboard(self, admin_client):
        page = admin_client.get("/dashboard/comms/").content.decode()
        assert "Pop-up: pledge received" in page and "Pop-up: pledge received (French)" in page


@pytest.mark.parametrize("code", CODES)
def test_each_email_is_sent_once_from_its_file_template(code):
    sending = SENDINGS[code]()

    sending.run()
    sending.run()  # a second run, or a redelivered message: nothing more

    (message,) = mail.outbox
    assert message.to == [sending.to]
    assert message.subject.strip() and "\n" not in message.subject
    assert sending.says in message.body
    assert "{%" not in message.body and "{{" not in message.body
    assert not getattr(message, "alternatives", [])  # no HTML until a merchant writes one
    record = OutgoingEmail.objects.get()
    assert (record.code, record.to, record.attempts) == (code, sending.to, 1)
    assert record.sent_at is not None and record.last_error == ""


def test_the_domain_records_stay_in_step():
    pledge = backed(Pledge.Status.PAID, order=oscar_factories.create_order())
    tasks.pledge_email_send.delay(pledge.pk, "launched")
    assert pledge.events.filter(note=LAUNCH_EMAIL_NOTE).count() == 1

    popup, alert = waitlisted(active=True)
    tasks.waitlist_opening_email_send.delay(alert.pk, popup.pk)
    alert.refresh_from_db()
    assert alert.status == ProductAlert.CLOSED and alert.date_closed is not None

    sending = review_invite()
    sending.run()
    assert ReviewInvite.objects.get().sent_at is not None

    idea_shipped().run()
    assert IdeaVote.objects.get().notified_at is not None
    assert len(mail.outbox) == 4


def test_a_worker_that_died_before_recording_the_invite_sends_nothing_more():
    sending = review_invite()
    sending.run()
    ReviewInvite.objects.update(sent_at=None)  # as if the worker died right after sending

    sending.run()

    assert len(mail.outbox) == 1
    assert ReviewInvite.objects.get().sent_at is not None


def test_a_pledge_that_fails_again_is_told_again():
    pledge = failed_pledge()
    tasks.pledge_email_send.delay(pledge.pk, "failed")
    tasks.pledge_email_send.delay(pledge.pk, "failed")
    PledgeEvent.objects.create(pledge=pledge, status_from="charging", status_to="retrying")

    tasks.pledge_email_send.delay(pledge.pk, "failed")

    assert [m.subject for m in mail.outbox] == [
        "Action needed: your payment for Winter drop did not go through"
    ] * 2


class TestMerchantsText:
    def test_an_edited_email_is_sent_as_written(self):
        edit(
            "POPUP_QUESTION_ANSWERED",
            subject="{{ shop_name }} answered you",
            body="Hi {{ question.name }}: {{ question.answer }}",
        )

        question_answered_sending().run()

        (message,) = mail.outbox
        assert message.subject == "Atelier Nord answered you"
        assert message.body == "Hi Ada: Not at all: it is merino."
        assert message.alternatives == [("<p>Hi Ada: Not at all: it is merino.</p>", "text/html")]

    def test_an_edit_in_the_dashboard_reaches_the_next_email(self, admin_client):
        response = admin_client.post(
            "/dashboard/comms/POPUP_POLL_VOTE/",
            {
                "name": "Pop-up: confirm a poll vote",
                "email_subject_template": "One click to count your vote",
                "email_body_template": "Confirm here: {{ confirm_url }}",
                "email_body_html_template": '<a href="{{ confirm_url }}">Confirm</a>',
            },
        )
        assert response.status_code == 302

        poll_vote().run()

        (message,) = mail.outbox
        assert message.subject == "One click to count your vote"
        assert message.body.startswith("Confirm here: http") and "/popup/vote/" in message.body

    def test_the_french_row_is_used_for_french_speakers_and_the_default_for_others(self):
        edit("POPUP_QUESTION_ANSWERED", subject="Answered", body="{{ question.answer }}")
        edit(
            "POPUP_QUESTION_ANSWERED_FR", subject="Réponse", body="Réponse : {{ question.answer }}"
        )
        question = question_answered()
        context = {"question": question, "popup": question.popup}

        for language in ("fr-be", "en", "fr"):
            email_send_once(
                key=f"test:{language}",
                code="POPUP_QUESTION_ANSWERED",
                to=f"{language}@example.com",
                context=context,
                language=language,
            )

        subjects = {message.to[0]: message.subject for message in mail.outbox}
        assert subjects == {
            "fr-be@example.com": "Réponse",
            "en@example.com": "Answered",
            "fr@example.com": "Réponse",
        }
        assert OutgoingEmail.objects.get(key="test:fr-be").language == "fr-be"

    def test_a_row_for_the_region_wins_over_the_language(self):
        CommunicationEventType.objects.create(
            code="POPUP_QUESTION_ANSWERED_FR_BE",
            name="Pop-up: question answered (Belgian French)",
            email_subject_template="Réponse (Belgique)",
            email_body_template="{{ question.answer }}",
        )
        question = question_answered()
        context = {"question": question, "popup": question.popup}

        for language in ("fr-be", "fr-ca"):
            email_send_once(
                key=f"test:{language}",
                code="POPUP_QUESTION_ANSWERED",
                to=f"{language}@example.com",
                context=context,
                language=language,
            )

        belgian, canadian = mail.outbox
        assert belgian.subject == "Réponse (Belgique)"
        # No row for Canada: the plugin's own template, in its French.
        assert canadian.subject == f"Votre question sur {question.popup.title} a reçu une réponse"

    def test_the_file_template_is_rendered_in_the_recipients_language(self):
        popup, alert = waitlisted(active=True)
        PopUp.objects.filter(pk=popup.pk).update(
            opens_at=datetime(2031, 2, 1, 9, tzinfo=UTC),
            closes_at=datetime(2031, 3, 14, 17, tzinfo=UTC),
        )
        popup.refresh_from_db()
        context = {"alert": alert, "product": alert.product, "popup": popup, "popup_url": "/"}

        for language in ("fr", "en-gb"):
            email_send_once(
                key=f"test:{language}",
                code="POPUP_WAITLIST_OPENED",
                to=f"{language}@example.com",
                context=context,
                language=language,
            )

        french, english = mail.outbox
        assert "14 mars à 18:00" in french.body and "a ouvert ses portes" in french.body
        assert "until 14 March at 18:00." in english.body


class TestAFailingMailServer:
    def test_the_attempt_is_recorded_and_a_later_run_sends_it_once(self, settings):
        question = question_answered()
        settings.EMAIL_BACKEND = "tests.mail_backends.DisconnectedBackend"

        with pytest.raises(smtplib.SMTPServerDisconnected):
            tasks.question_answered_email_send(question.pk)  # as a worker's first attempt

        record = OutgoingEmail.objects.get()
        assert (record.sent_at, record.attempts) == (None, 1)
        assert "SMTPServerDisconnected" in record.last_error
        assert mail.outbox == []

        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        tasks.question_answered_email_send.delay(question.pk)  # the retry
        tasks.question_answered_email_send.delay(question.pk)

        assert len(mail.outbox) == 1
        record.refresh_from_db()
        assert record.sent_at is not None and record.attempts == 2

    def test_the_task_retries_by_itself(self, settings):
        question = question_answered()
        settings.EMAIL_BACKEND = "tests.mail_backends.DisconnectsOnceBackend"
        DisconnectsOnceBackend.failures = 1

        # As a worker runs it (the tests' eager mode would raise Retry instead): the retry follows.
        result = tasks.question_answered_email_send.apply(args=(question.pk,), throw=False)

        assert result.successful()

        assert len(mail.outbox) == 1
        record = OutgoingEmail.objects.get()
        assert record.sent_at is not None and record.attempts == 2
        assert "SMTPServerDisconnected" in record.last_error

    def test_the_email_tasks_keep_their_names_and_retry_on_mail_errors(self):
        for name in (
            "pledge_email_send",
            "checkout_lost_email_send",
            "waitlist_opening_email_send",
            "review_invite_email_send",
        ):
            task = getattr(tasks, name)
            assert task.name == f"popup.tasks.{name}"
            assert smtplib.SMTPException in task.autoretry_for and task.max_retries
        assert tasks.holds_tidy.name == "popup.tasks.holds_tidy"


def test_the_outgoing_emails_are_listed_read_only_in_the_admin(admin_client):
    question_answered_sending().run()
    record = OutgoingEmail.objects.get()

    listing = admin_client.get("/admin/popup/outgoingemail/")
    assert listing.status_code == 200 and record.key in listing.content.decode()
    assert admin_client.get(f"/admin/popup/outgoingemail/{record.pk}/change/").status_code == 200
    assert admin_client.get("/admin/popup/outgoingemail/add/").status_code == 403


def test_a_redelivered_order_confirmation_is_not_sent_again():
    """Pop-up orders are guests': Oscar records no CommunicationEvent for them, so the task's own
    record is what stops a second run (Celery redelivers after a worker dies)."""
    order = oscar_factories.create_order(guest_email="ada@example.com")
    assert order.user is None

    tasks.order_placed_email_send.delay(order.pk)
    tasks.order_placed_email_send.delay(order.pk)

    (message,) = mail.outbox
    assert message.to == ["ada@example.com"] and str(order.number) in message.body
    assert OutgoingEmail.objects.get().key == f"order_placed:{order.pk}"
