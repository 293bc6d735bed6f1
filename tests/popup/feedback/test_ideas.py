"""The idea box: ideas and votes from shoppers without accounts, one vote per address under any
load, statuses set by the merchant, and voters told once when an idea ships."""

import json
import threading

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from popup.models import Idea, IdeaVote
from tests.factories import popup_with_products

pytestmark = pytest.mark.django_db(transaction=True)

IDEAS_URL = "/dashboard/popups/ideas/"


def post(client, url, body):
    response = client.post(url, json.dumps(body), content_type="application/json")
    return response, response.json()


def suggest(client, popup, title="A sage-green scarf", email="ada@example.com", **extra):
    return post(client, f"/popup/{popup.slug}/ideas/", {"title": title, "email": email, **extra})


def vote(client, popup, idea, email):
    return post(client, f"/popup/{popup.slug}/ideas/{idea.pk}/vote/", {"email": email})


def test_shoppers_suggest_and_vote_once_each_and_the_board_shows_the_most_wanted(client):
    popup = popup_with_products(1)
    response, answer = suggest(client, popup, body="Like the indigo one")
    assert response.status_code == 201 and answer["idea"]["votes"] == 1  # the author's own vote
    idea = Idea.objects.get()
    suggest(client, popup, title="Mittens to match", email="grace@example.com")

    _response, answer = vote(client, popup, idea, "grace@example.com")
    assert (answer["idea"]["votes"], answer["counted"]) == (2, True)
    _response, answer = vote(client, popup, idea, "GRACE@example.com")  # the same person
    assert (answer["idea"]["votes"], answer["counted"]) == (2, False)

    html = client.get(f"/popup/{popup.slug}/embed/").content.decode()
    assert html.index("A sage-green scarf") < html.index("Mittens to match")  # most votes first
    assert "ada@example.com" not in html


def test_votes_stay_exact_when_many_arrive_at_once(live_server):
    popup = popup_with_products(1)
    idea = Idea.objects.create(popup=popup, title="Bigger mugs", email="a@example.com", votes=0)
    url = f"{live_server.url}/popup/{popup.slug}/ideas/{idea.pk}/vote/"
    emails = [f"v{n % 10}@example.com" for n in range(30)]  # 10 people, 3 clicks each

    def click(email):
        Client().post(url, json.dumps({"email": email}), content_type="application/json")
        connection.close()

    threads = [threading.Thread(target=click, args=(email,)) for email in emails]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    idea.refresh_from_db()
    assert idea.votes == IdeaVote.objects.filter(idea=idea).count() == 10


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"title": " "}, 400, "name your idea"),
        ({"title": "x" * 121}, 400, "keep it short"),
        ({"email": "nope"}, 400, "valid e-mail"),
        ({"title": ["x"]}, 400, "as text"),
    ],
)
def test_bad_ideas_get_a_clear_error_and_store_nothing(client, body, status, message):
    popup = popup_with_products(1)
    response, answer = suggest(client, popup, **body)
    assert response.status_code == status and message in answer["error"].lower()
    assert not Idea.objects.exists()


def test_spam_is_held_back_and_bots_are_ignored(client):
    popup = popup_with_products(1)
    suggest(client, popup, title="Visit http://spam.example")
    assert Idea.objects.get().status == Idea.Status.SPAM
    assert "spam.example" not in client.get(f"/popup/{popup.slug}/").content.decode()
    response, _answer = suggest(client, popup, title="Bot idea", website="x")
    assert response.status_code == 202 and Idea.objects.count() == 1


def test_ideas_are_escaped_on_the_page_and_in_the_dashboard(client, admin_client):
    popup = popup_with_products(1)
    suggest(client, popup, title="<script>alert(1)</script>", body="<b>bold</b>")
    for html in (
        client.get(f"/popup/{popup.slug}/").content.decode(),
        admin_client.get(IDEAS_URL).content.decode(),
    ):
        assert "<script>alert(1)</script>" not in html and "<b>bold</b>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_when_an_idea_ships_its_voters_are_told_once(client, admin_client):
    popup = popup_with_products(1)
    suggest(client, popup)
    idea = Idea.objects.get()
    vote(client, popup, idea, "grace@example.com")

    for status in ("planned", "done", "planned", "done"):  # back and forth: told once
        response = admin_client.post(f"{IDEAS_URL}{idea.pk}/", {"status": status}, follow=True)
        assert response.status_code == 200
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.com", "grace@example.com"]
    assert "is done" in mail.outbox[0].subject
    _response, answer = vote(client, popup, idea, "late@example.com")
    assert "closed" in answer["error"]
    # An off-site "next" never leads the merchant away from the dashboard.
    response = admin_client.post(
        f"{IDEAS_URL}{idea.pk}/", {"status": "done", "next": "https://evil.example/"}
    )
    assert response["Location"] == IDEAS_URL
