"""Each e-mail address the plugin collects has its purpose and basis recorded, with the words the
shopper read; waitlists, poll votes and news of ideas are double opt-in, and a "stop" is kept."""

import json
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone
from oscar.core.loading import get_model

from popup.models import Consent, Idea, Poll, PollOption
from tests.factories import popup_with_products

ProductAlert = get_model("customer", "ProductAlert")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()


def post(client, url, body):
    response = client.post(url, json.dumps(body), content_type="application/json")
    return response, response.json()


def link(message, pattern=r"/popup/consent/\S+?/(?:stop/)?") -> str:
    return re.search(rf"https?://[^/\s]+({pattern})(?:\?|\s|$)", message.body).group(1)


def test_a_waitlist_sign_up_is_consent_confirmed_by_oscars_link_and_withdrawn_by_its_cancel(
    client,
):
    popup = popup_with_products(
        1, opens_at=timezone.now() + timedelta(days=1), closes_at=timezone.now() + timedelta(days=3)
    )
    product = popup.product_terms.get().product
    post(
        client,
        f"/popup/{popup.slug}/waitlist/?lang=fr",
        {"product": product.pk, "email": "Ada@example.com"},
    )

    consent = Consent.objects.get()
    alert = ProductAlert.objects.get()
    assert (consent.purpose, consent.basis, consent.popup, consent.reference) == (
        "waitlist",
        "consent",
        popup,
        f"productalert:{alert.pk}",
    )
    assert (
        consent.wording == "Prévenez-moi par e-mail quand il sera disponible"
        and consent.language == "fr"
    )
    assert consent.confirmed_at is None

    confirm = re.search(r"(/accounts/alerts/confirm/\S+)", mail.outbox[-1].body).group(1)
    client.get(confirm)
    consent.refresh_from_db()
    assert consent.confirmed_at is not None and consent.withdrawn_at is None

    client.get(f"/accounts/alerts/cancel/key/{ProductAlert.objects.get().key}/")
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None


def test_a_poll_vote_is_consent_confirmed_with_the_vote(client):
    popup = popup_with_products(1)
    poll = Poll.objects.create(popup=popup, question="Which colour next?")
    sage = PollOption.objects.create(poll=poll, label="Sage")
    post(
        client,
        f"/popup/{popup.slug}/polls/{poll.pk}/vote/",
        {"option": sage.pk, "email": "grace@example.com"},
    )
    consent = Consent.objects.get()
    assert (consent.purpose, consent.confirmed_at) == ("poll_vote", None)
    assert consent.wording == "Your e-mail (to confirm your vote, one per person)"

    path = re.search(r"(/popup/vote/\S+/)", mail.outbox[-1].body).group(1)
    client.get(path)
    consent.refresh_from_db()
    assert consent.confirmed_at is not None


def test_a_question_is_the_shoppers_own_request_with_nothing_to_confirm(client):
    popup = popup_with_products(1)
    post(
        client,
        f"/popup/{popup.slug}/questions/",
        {"body": "Is the wool itchy?", "email": "ada@example.com", "name": "Ada"},
    )
    consent = Consent.objects.get()
    assert (consent.purpose, consent.basis) == ("question", "request")
    assert consent.wording == "E-mail (for the answer, never shown)"
    assert not mail.outbox  # the answer is what was asked for: no confirmation


class TestIdeaNews:
    def vote(self, client, popup, idea, email):
        return post(client, f"/popup/{popup.slug}/ideas/{idea.pk}/vote/", {"email": email})

    def test_a_vote_counts_at_once_and_news_is_asked_once_per_address_and_pop_up(self, client):
        popup = popup_with_products(1)
        first = Idea.objects.create(popup=popup, title="Mittens", email="a@example.com")
        second = Idea.objects.create(popup=popup, title="A hat", email="a@example.com")

        _response, answer = self.vote(client, popup, first, "grace@example.com")
        assert answer["counted"]
        self.vote(client, popup, second, "GRACE@example.com")

        (asked,) = mail.outbox
        assert asked.to == ["grace@example.com"] and popup.title in asked.subject
        assert "your vote still counts" in asked.body
        consent = Consent.objects.get()
        assert (consent.purpose, consent.confirmed_at) == ("idea_updates", None)

    def test_opening_the_link_confirms_nothing_the_button_does(self, client):
        popup = popup_with_products(1)
        idea = Idea.objects.create(popup=popup, title="Mittens", email="a@example.com")
        self.vote(client, popup, idea, "grace@example.com")
        path = link(mail.outbox[-1])

        page = client.get(path)  # a mail scanner, a preview: nothing changes
        assert page.status_code == 200 and "Yes, tell me" in page.content.decode()
        assert Consent.objects.get().confirmed_at is None

        page = client.post(path)
        assert "Thank you: we will tell you" in page.content.decode()
        assert Consent.objects.get().confirmed_at is not None

    def test_only_confirmed_voters_hear_it_shipped_and_stop_means_stop(self, client, admin_client):
        popup = popup_with_products(1)
        idea = Idea.objects.create(popup=popup, title="Mittens", email="a@example.com")
        self.vote(client, popup, idea, "grace@example.com")
        self.vote(client, popup, idea, "linus@example.com")
        grace = next(message for message in mail.outbox if message.to == ["grace@example.com"])
        client.post(link(grace))
        mail.outbox.clear()

        admin_client.post(f"/dashboard/popups/ideas/{idea.pk}/", {"status": "done"})

        (told,) = mail.outbox
        assert told.to == ["grace@example.com"]
        stop = link(told)
        assert stop.endswith("/stop/")
        client.post(stop)
        consent = Consent.objects.get(email="grace@example.com")
        assert consent.withdrawn_at is not None
        # A later vote in the same pop-up asks nothing again, and ships to nobody.
        mail.outbox.clear()
        other = Idea.objects.create(popup=popup, title="A hat", email="a@example.com")
        self.vote(client, popup, other, "grace@example.com")
        assert not mail.outbox
        admin_client.post(f"/dashboard/popups/ideas/{other.pk}/", {"status": "done"})
        assert not mail.outbox

    def test_the_pages_speak_french(self, client):
        popup = popup_with_products(1)
        idea = Idea.objects.create(popup=popup, title="Mittens", email="a@example.com")
        post(
            client,
            f"/popup/{popup.slug}/ideas/{idea.pk}/vote/?lang=fr",
            {"email": "grace@example.com"},
        )
        asked = mail.outbox[-1]
        assert asked.subject.startswith("Recevoir un e-mail quand les idées de")
        page = client.get(link(asked) + "?lang=fr").content.decode()
        assert "Oui, prévenez-moi" in page and '<html lang="fr"' in page

    def test_an_unknown_link_is_a_404(self, client):
        assert client.get("/popup/consent/nothing-here-at-all-123/").status_code == 404
        assert client.post("/popup/consent/nothing-here-at-all-123/stop/").status_code == 404
