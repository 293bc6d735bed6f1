"""Pop-up polls: one vote per person, counted once its address is confirmed; made in the dashboard."""

import json
import re

import pytest
from django.core import mail

from popup.models import Poll, PollOption, PollVote
from tests.factories import popup_with_products

pytestmark = pytest.mark.django_db(transaction=True)

POLLS_URL = "/dashboard/popups/polls/"


def vote(client, poll, option, email="ada@example.com", **extra):
    body = {"option": option.pk, "email": email, **extra}
    response = client.post(
        f"/popup/{poll.popup.slug}/polls/{poll.pk}/vote/",
        json.dumps(body),
        content_type="application/json",
    )
    return response, response.json()


def confirmation_path() -> str:
    return re.search(r"https?://[^/\s]+(/popup/vote/\S+/)", mail.outbox[-1].body).group(1)


@pytest.fixture
def poll(admin_client):
    popup = popup_with_products(1)
    response = admin_client.post(
        POLLS_URL,
        {"popup": popup.pk, "question": "Which colour next?", "options": "Sage\nRust\n\nSky"},
        follow=True,
    )
    assert "is live on its pop-up" in response.content.decode()
    return Poll.objects.get()


def test_a_vote_counts_once_confirmed_and_once_per_person(client, poll):
    sage, rust, _sky = poll.options.all()
    assert [option.label for option in poll.options.all()] == ["Sage", "Rust", "Sky"]
    html = client.get(f"/popup/{poll.popup.slug}/").content.decode()
    assert "Which colour next?" in html and "data-poll-form" in html

    response, answer = vote(client, poll, sage)
    assert response.status_code == 202 and "confirm your vote" in answer["message"]
    assert PollOption.objects.get(pk=sage.pk).votes == 0  # not before it is confirmed
    path = confirmation_path()
    page = client.get(path).content.decode()
    assert "your vote counts" in page and "Sage" in page
    client.get(path)  # the link followed twice counts once
    assert PollOption.objects.get(pk=sage.pk).votes == 1

    response, answer = vote(client, poll, rust, email="ADA@example.com")
    assert response.status_code == 409 and "already voted" in answer["error"]
    assert PollVote.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"email": "nope"}, 400, "valid e-mail"),
        ({"option": 999999}, 404, "No such choice"),
        ({"option": "1"}, 400, "whole number"),
    ],
)
def test_bad_votes_get_a_clear_error(client, poll, change, status, message):
    body = {"option": poll.options.first().pk, "email": "ada@example.com", **change}
    response = client.post(
        f"/popup/{poll.popup.slug}/polls/{poll.pk}/vote/",
        json.dumps(body),
        content_type="application/json",
    )
    assert response.status_code == status and message in response.json()["error"]
    assert not PollVote.objects.exists()


def test_a_closed_poll_takes_no_votes_and_bots_are_ignored(client, admin_client, poll):
    option = poll.options.first()
    _response, _answer = vote(client, poll, option, website="x")
    assert not PollVote.objects.exists() and mail.outbox == []
    admin_client.post(f"{POLLS_URL}{poll.pk}/")
    response, answer = vote(client, poll, option)
    assert response.status_code == 409 and "closed" in answer["error"]
    assert "This poll is closed." in client.get(f"/popup/{poll.popup.slug}/").content.decode()


def test_the_dashboard_refuses_a_poll_with_one_choice(admin_client):
    popup = popup_with_products(1)
    response = admin_client.post(
        POLLS_URL, {"popup": popup.pk, "question": "Yes?", "options": "Only one"}
    )
    assert "between 2 and 8 choices" in response.content.decode()
    assert not Poll.objects.exists()


def test_an_unknown_confirmation_link_is_not_found(client):
    assert client.get("/popup/vote/guess/").status_code == 404
