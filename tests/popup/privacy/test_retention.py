"""Shoppers' data is kept only as long as POPUP_RETENTION_DAYS says, enforced by the beat, and
rate limits never hold a client's IP address."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone
from oscar.core.loading import get_model

from popup import tasks
from popup.analytics.counters import redis_connection
from popup.models import (
    AlertLanguage,
    Consent,
    OutgoingEmail,
    Pledge,
    PledgeEvent,
    Poll,
    PollOption,
    PollVote,
    PopUp,
    PopUpBasket,
    Question,
    RateCounter,
)
from popup.privacy.retention import RetentionReport, personal_data_expire
from popup.schedule import POPUP_BEAT_SCHEDULE
from tests.factories import popup_with_products

ProductAlert = get_model("customer", "ProductAlert")

pytestmark = pytest.mark.django_db

PERSONAL = {
    "email": "ada@example.com",
    "email_key": "ada@example.com",
    "shipping": {"first_name": "Ada", "line1": "12 rue des Arts"},
    "address_key": "5f2b",
    "ad_click": {"fbclid": "IwAR0ada", "cart_origin": "instagram"},
}


def days_ago(days: float):
    return timezone.now() - timedelta(days=days)


def basket(popup, *, status=PopUpBasket.Status.OPEN, changed_days_ago=0):
    made = PopUpBasket.objects.create(popup=popup, status=status, **PERSONAL)
    PopUpBasket.objects.filter(pk=made.pk).update(updated_at=days_ago(changed_days_ago))
    return made


def personal(made) -> dict:
    made.refresh_from_db()
    return {field: getattr(made, field) for field in PERSONAL}


ERASED = {"email": "", "email_key": "", "shipping": {}, "address_key": "", "ad_click": {}}


class TestBaskets:
    def test_a_basket_never_checked_out_loses_its_personal_data_after_30_days(self):
        popup = popup_with_products(1)
        old, recent = basket(popup, changed_days_ago=31), basket(popup, changed_days_ago=29)

        report = personal_data_expire()

        assert report.open_baskets == 1
        assert personal(old) == ERASED and personal(recent) == PERSONAL
        assert PopUpBasket.objects.count() == 2  # the rows stay: the funnel counts them

    def test_an_ordered_basket_keeps_its_address_until_30_days_after_its_pop_up_closed(self):
        closed_long_ago = popup_with_products(1, opens_at=days_ago(60), closes_at=days_ago(31))
        closed_lately = popup_with_products(1, opens_at=days_ago(60), closes_at=days_ago(10))
        live = popup_with_products(1)
        ordered = [
            basket(popup, status=PopUpBasket.Status.ORDERED, changed_days_ago=50)
            for popup in (closed_long_ago, closed_lately, live)
        ]

        assert personal_data_expire().closed_baskets == 1
        assert [personal(row) == ERASED for row in ordered] == [True, False, False]

    def test_a_basket_whose_only_personal_data_is_an_ad_click_loses_it_too(self):
        made = basket(popup_with_products(1), changed_days_ago=31)
        PopUpBasket.objects.filter(pk=made.pk).update(**{**ERASED, "ad_click": {"fbclid": "x"}})
        assert personal_data_expire().open_baskets == 1
        assert personal(made) == ERASED

    def test_a_second_run_finds_nothing(self):
        basket(popup_with_products(1), changed_days_ago=40)
        personal_data_expire()
        assert personal_data_expire() == RetentionReport()


class TestUnconfirmed:
    def test_sign_ups_nobody_confirmed_go_after_a_week_with_their_consents(self, client):
        cache.clear()
        soon = timezone.now() + timedelta(days=3)
        popup = popup_with_products(1, opens_at=soon, closes_at=soon + timedelta(days=1))
        product = popup.product_terms.get().product
        for email in ("old@example.com", "new@example.com", "sure@example.com"):
            client.post(
                f"/popup/{popup.slug}/waitlist/",
                json.dumps({"product": product.pk, "email": email}),
                content_type="application/json",
            )
        ProductAlert.objects.exclude(email="new@example.com").update(date_created=days_ago(8))
        ProductAlert.objects.get(email="sure@example.com").confirm()

        poll = Poll.objects.create(popup=popup, question="Which colour?")
        sage = PollOption.objects.create(poll=poll, label="Sage")
        old_vote = PollVote.objects.create(poll=poll, option=sage, email="old@example.com")
        PollVote.objects.filter(pk=old_vote.pk).update(created_at=days_ago(8))
        news = Consent.objects.create(
            email="old@example.com",
            purpose=Consent.Purpose.IDEA_UPDATES,
            basis=Consent.Basis.CONSENT,
            popup=popup,
        )
        Consent.objects.filter(pk=news.pk).update(asked_at=days_ago(8))
        Consent.objects.create(
            email="old@example.com",
            purpose="poll_vote",
            basis="consent",
            reference=f"pollvote:{old_vote.pk}",
        )

        oscars_own = ProductAlert.objects.create(
            product=product, email="shop@example.com", status=ProductAlert.UNCONFIRMED
        )
        ProductAlert.objects.filter(pk=oscars_own.pk).update(date_created=days_ago(30))

        assert personal_data_expire().unconfirmed == 3  # one alert, one vote, one request
        assert ProductAlert.objects.filter(pk=oscars_own.pk).exists()  # not the plugin's
        ProductAlert.objects.filter(pk=oscars_own.pk).delete()

        assert sorted(ProductAlert.objects.values_list("email", flat=True)) == [
            "new@example.com",
            "sure@example.com",
        ]
        assert AlertLanguage.objects.count() == 2 and not PollVote.objects.exists()
        assert sorted(Consent.objects.values_list("email", "purpose")) == [
            ("new@example.com", "waitlist"),
            ("sure@example.com", "waitlist"),
        ]


class TestQuestionsAndEmails:
    def test_an_answered_question_forgets_its_address_after_90_days(self):
        popup = popup_with_products(1)
        answered = Question.objects.create(
            popup=popup,
            email="ada@example.com",
            body="Itchy?",
            answer="No.",
            status=Question.Status.PUBLISHED,
            answered_at=days_ago(91),
        )
        Consent.objects.create(
            email="ada@example.com",
            purpose="question",
            basis="request",
            reference=f"question:{answered.pk}",
        )
        forgotten = Question.objects.create(popup=popup, email="linus@example.com", body="Wash?")
        Question.objects.filter(pk=forgotten.pk).update(created_at=days_ago(200))
        waiting = Question.objects.create(popup=popup, email="grace@example.com", body="Size?")
        Question.objects.filter(pk=waiting.pk).update(created_at=days_ago(10))

        assert personal_data_expire().questions == 2
        answered.refresh_from_db()
        assert answered.email == "" and answered.answer == "No."  # the page still shows it
        assert Question.objects.get(pk=forgotten.pk).email == ""  # never answered in 90 days
        assert Question.objects.get(pk=waiting.pk).email == "grace@example.com"
        assert not Consent.objects.exists()

    def test_the_record_of_an_email_forgets_its_recipient_and_error_after_90_days(self):
        old = OutgoingEmail.objects.create(
            key="a", code="X", to="ada@example.com", language="en", sent_at=days_ago(91)
        )
        failed = OutgoingEmail.objects.create(
            key="b",
            code="X",
            to="ada@example.com",
            language="en",
            last_error="550 5.1.1 <ada@example.com>: mailbox unavailable",
        )
        new = OutgoingEmail.objects.create(
            key="c", code="X", to="ada@example.com", language="en", sent_at=days_ago(3)
        )
        OutgoingEmail.objects.filter(key__in=("a", "b")).update(created_at=days_ago(91))
        assert personal_data_expire().sent_emails == 2
        old.refresh_from_db(), failed.refresh_from_db(), new.refresh_from_db()
        assert (old.to, failed.to, failed.last_error) == ("", "", "")
        assert new.to == "ada@example.com"

    def test_a_pledge_that_ended_without_an_order_forgets_who_backed_it_after_90_days(self):
        popup = popup_with_products(1, kind=PopUp.Kind.PRESALE)
        pledges = [
            Pledge.objects.create(
                popup=popup,
                email="ada@example.com",
                email_key="ada@example.com",
                shipping={"line1": "12 rue des Arts"},
                card_label="Visa •••• 4242",
                currency="EUR",
                amount=Decimal("40.00"),
                status=status,
            )
            for status in (Pledge.Status.CANCELLED, Pledge.Status.DROPPED, Pledge.Status.PLEDGED)
        ]
        PledgeEvent.objects.create(
            pledge=pledges[0],
            status_from="pledged",
            status_to="pledged",
            note="Card saved: %(card)s",
            note_args={"card": "Visa •••• 4242"},
        )
        Pledge.objects.update(updated_at=days_ago(91))

        assert personal_data_expire().ended_pledges == 2
        emails = [Pledge.objects.get(pk=pledge.pk).email for pledge in pledges]
        assert emails == ["", "", "ada@example.com"]  # an open pledge is still to be charged
        ended = Pledge.objects.get(pk=pledges[0].pk)
        assert (ended.card_label, ended.shipping, ended.amount) == ("", {}, Decimal("40.00"))
        assert "4242" not in ended.events.get().note_text


class TestSettings:
    @override_settings(POPUP_RETENTION_DAYS={"open_baskets": None, "questions": 10})
    def test_a_store_sets_only_the_kinds_it_changes(self):
        popup = popup_with_products(1)
        kept = basket(popup, changed_days_ago=400)
        question = Question.objects.create(
            popup=popup,
            email="ada@example.com",
            body="Itchy?",
            answer="No.",
            status=Question.Status.PUBLISHED,
            answered_at=days_ago(11),
        )
        personal_data_expire()
        assert personal(kept) == PERSONAL
        question.refresh_from_db()
        assert question.email == ""

    def test_the_beat_runs_it_hourly(self):
        entry = POPUP_BEAT_SCHEDULE["popup-privacy-retention"]
        assert (entry["task"], entry["schedule"]) == ("popup.tasks.personal_data_expire_run", 3600)
        basket(popup_with_products(1), changed_days_ago=40)
        assert tasks.personal_data_expire_run()["open_baskets"] == 1


def test_rate_limits_count_addresses_by_a_keyed_hash_never_the_address(client):
    cache.clear()
    popup = popup_with_products(1)
    client.post(
        f"/popup/{popup.slug}/questions/",
        json.dumps({"body": "Is the wool itchy?", "email": "ada@example.com"}),
        content_type="application/json",
        REMOTE_ADDR="203.0.113.77",
    )
    connection = redis_connection()
    stored = [key.decode() for key in connection.scan_iter("popup-rate:*")] if connection else []
    stored += list(RateCounter.objects.values_list("key", flat=True))
    assert any(":ip:" in key for key in stored)
    assert not any("203.0.113.77" in key for key in stored)
