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
    assert response.status_code == 202 and answer["message"] == (
        "Your vote counts after you confirm it: we sent a link to ada@example.com."
    )
    assert PollOption.objects.get(pk=sage.pk).votes == 0  # not before it is confirmed
    path = confirmation_path()
    page = client.get(path).content.decode()
    assert "your vote counts" in page and "Sage" in page
    client.get(path)  # the link followed twice counts once
    assert PollOption.objects.get(pk=sage.pk).votes == 1

    response, answer = vote(client, poll, rust, email="ADA@example.com")
    assert response.status_code == 409 and "already voted" in answer["error"]
    assert answer["field"] == "email" and "the link is in the e-mail we sent" in answer["error"]
    assert PollVote.objects.count() == 1


def test_the_voters_device_asks_whether_its_vote_counts_yet_and_reads_the_results(client, poll):
    sage, rust, sky = poll.options.all()
    PollOption.objects.filter(pk=rust.pk).update(votes=2)
    response, answer = vote(client, poll, sage)
    vote_answer = answer["vote"]
    assert (vote_answer["poll"], vote_answer["option"], vote_answer["confirmed"]) == (
        poll.pk,
        sage.pk,
        False,
    )
    url = f"/popup/{poll.popup.slug}/polls/{poll.pk}/vote/"

    def status():
        response = client.get(url, {"receipt": vote_answer["receipt"]})
        assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
        return response.json()

    before = status()
    assert before["vote"]["confirmed"] is False
    assert before["results"] == {
        "total": 2,
        "options": [
            {"id": sage.pk, "votes": 0, "percent": 0},
            {"id": rust.pk, "votes": 2, "percent": 100},
            {"id": sky.pk, "votes": 0, "percent": 0},
        ],
    }
    client.get(confirmation_path())
    after = status()
    assert after["vote"]["confirmed"] is True
    assert [(row["votes"], row["percent"]) for row in after["results"]["options"]] == [
        (1, 33),
        (2, 67),
        (0, 0),
    ]
    assert client.get(url, {"receipt": "forged"}).status_code == 404
    assert client.get(url).status_code == 404


def test_the_confirmation_page_shows_the_results_in_words_with_the_voters_choice(client, poll):
    sage, rust, _sky = poll.options.all()
    PollOption.objects.filter(pk=sage.pk).update(votes=3)
    vote(client, poll, rust)
    html = client.get(confirmation_path()).content.decode()
    assert "Thank you: your vote counts" in html and "You chose <strong>Rust</strong>" in html
    assert "4 confirmed votes" in html
    assert "3 votes · 75%" in html and "1 vote · 25%" in html and "0 votes · 0%" in html
    rust_row = html[html.index(f'data-option="{rust.pk}"') :].split("</li>")[0]
    assert "data-poll-mine>" in rust_row  # the one choice marked, in words: "✓ Your choice"
    assert html.count("data-poll-mine>") == 1 and html.count("data-poll-mine hidden") == 2


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
