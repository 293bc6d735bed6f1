"""Questions in the pop-up: asked without an account, answered in the dashboard, shown once answered,
with the asker e-mailed and a response-time badge from real answer times."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from popup.feedback.selectors import answer_speed
from popup.models import Question
from popup.templatetags.popup_tags import answer_speed_badge
from tests.factories import popup_with_products
from tests.popup.checkout.support import page_queries

pytestmark = pytest.mark.django_db(transaction=True)

QUEUE_URL = "/dashboard/popups/questions/"


def ask(client, popup, body="Is the wool itchy?", email="ada@example.com", **extra):
    payload = {"body": body, "email": email, **extra}
    response = client.post(
        f"/popup/{popup.slug}/questions/", json.dumps(payload), content_type="application/json"
    )
    return response, response.json()


def answer(admin_client, question, text, action="answer"):
    return admin_client.post(
        f"{QUEUE_URL}{question.pk}/", {"action": action, "answer": text}, follow=True
    )


def test_a_question_is_shown_only_once_answered_and_the_asker_gets_the_answer(client, admin_client):
    popup = popup_with_products(1)
    response, reply = ask(client, popup, name="Ada")
    assert response.status_code == 202 and "e-mail you the answer" in reply["message"]
    question = Question.objects.get()
    assert question.status == Question.Status.PENDING
    assert "Is the wool itchy?" not in client.get(f"/popup/{popup.slug}/").content.decode()

    queue = admin_client.get(QUEUE_URL).content.decode()
    assert "Is the wool itchy?" in queue and "ada@example.com" in queue
    page = answer(admin_client, question, "Not at all: it is merino.").content.decode()
    assert "the asker e-mailed" in page

    html = client.get(f"/popup/{popup.slug}/embed/").content.decode()
    assert "Is the wool itchy?" in html and "Not at all: it is merino." in html
    assert "ada@example.com" not in html  # the address is never shown
    (email,) = mail.outbox
    assert email.to == ["ada@example.com"] and "Not at all: it is merino." in email.body

    answer(admin_client, question, "Not at all: it is fine merino.")  # a correction
    assert len(mail.outbox) == 1  # the asker is e-mailed once
    question.refresh_from_db()
    assert question.answer == "Not at all: it is fine merino."


def test_shopper_text_is_escaped_everywhere_it_is_shown(client, admin_client):
    popup = popup_with_products(1)
    ask(client, popup, body="<script>alert(1)</script> & <b>bold</b>", name="<img src=x onerror=y>")
    question = Question.objects.get()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in admin_client.get(QUEUE_URL).content.decode()
    answer(admin_client, question, "Fine <i>really</i>")
    html = client.get(f"/popup/{popup.slug}/").content.decode()
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "Fine &lt;i&gt;really&lt;/i&gt;" in html
    assert "<script>alert(1)</script> & <b>bold</b>" in mail.outbox[0].body  # plain text


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"body": "   "}, 400, "write your question"),
        ({"body": "x" * 1001}, 400, "under 1000 characters"),
        ({"email": "nope"}, 400, "valid e-mail address"),
        ({"name": "n" * 61}, 400, "shorten your name"),
        ({"body": ["a list"]}, 400, "as text"),
        ({"product": 999999}, 404, "not in this pop-up"),
        ({"product": "12"}, 400, "whole number"),
    ],
)
def test_bad_questions_get_a_clear_error_and_store_nothing(client, payload, status, message):
    popup = popup_with_products(1)
    response, reply = ask(client, popup, **payload)
    assert response.status_code == status
    assert message in reply["error"]
    assert not Question.objects.exists()


def test_spam_is_held_apart_and_bots_are_ignored(client, admin_client):
    popup = popup_with_products(1)
    ask(client, popup, body="Cheap pills http://a.example and www.b.example")
    assert Question.objects.get().status == Question.Status.SPAM
    assert "Cheap pills" not in admin_client.get(QUEUE_URL).content.decode()
    assert "Cheap pills" in admin_client.get(f"{QUEUE_URL}?status=spam").content.decode()

    response, _reply = ask(client, popup, website="http://bot.example")
    assert response.status_code == 202
    assert Question.objects.count() == 1


def test_a_flood_of_questions_is_slowed_down(client):
    popup = popup_with_products(1)
    statuses = [ask(client, popup, email=f"q{n}@example.com")[0].status_code for n in range(7)]
    assert statuses == [202] * 5 + [429] * 2
    assert Question.objects.count() == 5


def test_the_response_time_badge_is_the_median_of_real_answer_times(client):
    popup = popup_with_products(1)
    now = timezone.now()
    for hours in (1, 2, 30):
        question = Question.objects.create(popup=popup, email="a@example.com", body="?")
        Question.objects.filter(pk=question.pk).update(
            created_at=now - timedelta(hours=hours),
            answered_at=now,
            answer="!",
            status=Question.Status.PUBLISHED,
        )
    assert answer_speed_badge(answer_speed()) == "Usually answers within 2 hours"
    assert "Usually answers within 2 hours" in client.get(f"/popup/{popup.slug}/").content.decode()
    assert (
        answer_speed_badge(answer_speed(now=now + timedelta(days=91))) == ""
    )  # old answers say nothing


def test_the_pop_up_page_makes_as_many_queries_with_3_or_30_answered_questions(client):
    popup = popup_with_products(3)

    def queries():
        return page_queries(client, f"/popup/{popup.slug}/")

    def answered(count):
        for _ in range(count):
            Question.objects.create(
                popup=popup,
                email="a@example.com",
                body="?",
                answer="!",
                status=Question.Status.PUBLISHED,
                answered_at=timezone.now(),
            )

    answered(3)
    few = queries()
    answered(27)
    assert queries() == few


def test_only_staff_see_the_queue(client):
    assert client.get(QUEUE_URL).status_code == 302
