"""What a shopper sends from a French page (an embed with data-lang="fr" says so in each call's
Accept-Language) remembers French, and the e-mails sent to them later, by Celery, speak it, with
links that open the pop-up's pages in it."""

import json
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone
from oscar.core.loading import get_model

from popup.feedback.ideas import idea_status_set
from popup.feedback.questions import question_answer
from popup.models import AlertLanguage, Idea, Poll, PollOption, PollVote, PopUpBasket, Question
from tests.factories import popup_with_products

ProductAlert = get_model("customer", "ProductAlert")

pytestmark = pytest.mark.django_db(transaction=True)

FRENCH_PAGE = {"HTTP_ACCEPT_LANGUAGE": "fr"}  # what popup.js sends from a page in French


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()


def post(client, path, body, **headers):
    response = client.post(path, json.dumps(body), content_type="application/json", **headers)
    assert response.status_code in (200, 201, 202), response.content
    return response.json()


def link_in(email) -> str:
    return re.search(r"https?://[^/\s]+(/popup/\S+)", email.body).group(1)


def test_a_question_asked_in_french_is_answered_in_french_days_later(client):
    popup = popup_with_products(1)
    post(
        client,
        f"/popup/{popup.slug}/questions/",
        {"body": "Ça gratte ?", "email": "lea@example.com"},
        **FRENCH_PAGE,
    )
    question = Question.objects.get()
    assert question.language == "fr"

    mail.outbox.clear()
    question_answer(question=question, answer="Non, c'est du mérinos.", by=None)  # the merchant
    (email,) = mail.outbox
    assert email.body.startswith("Bonjour") and "Non, c'est du mérinos." in email.body
    page = link_in(email)
    assert page.endswith("?lang=fr")
    assert '<html lang="fr">' in client.get(page).content.decode()


def test_a_waitlist_sign_up_an_idea_and_a_poll_vote_remember_their_language(client):
    soon = timezone.now() + timedelta(days=1)
    popup = popup_with_products(1, opens_at=soon, closes_at=soon + timedelta(days=2))
    product_id = popup.product_terms.get().product_id
    post(
        client,
        f"/popup/{popup.slug}/waitlist/",
        {"product": product_id, "email": "lea@example.com"},
        **FRENCH_PAGE,
    )
    alert = ProductAlert.objects.get()
    assert AlertLanguage.objects.get(alert=alert).language == "fr"
    (confirmation,) = mail.outbox
    assert confirmation.body.startswith("Bonjour")

    post(
        client,
        f"/popup/{popup.slug}/ideas/",
        {"title": "Une écharpe vert sauge", "email": "lea@example.com"},
        **FRENCH_PAGE,
    )
    post(
        client,
        f"/popup/{popup.slug}/ideas/",
        {"title": "Mittens to match", "email": "ada@example.com"},
    )
    # Each author is asked, in their language, whether to hear when ideas are done; both say yes.
    asked = {email.to[0]: email for email in mail.outbox[1:]}
    assert asked["lea@example.com"].body.startswith("Bonjour")
    assert asked["ada@example.com"].body.startswith("Hello")
    for email in asked.values():
        client.post(urlsplit(link_in(email)).path)
    mail.outbox.clear()
    for idea in Idea.objects.all():
        idea_status_set(idea=idea, status=Idea.Status.DONE)  # shipped: its voters are told
    told = {email.to[0]: email for email in mail.outbox}
    assert told["lea@example.com"].body.startswith("Bonjour")
    assert link_in(told["lea@example.com"]).endswith("?lang=fr")
    assert told["ada@example.com"].body.startswith("Hello")  # her page spoke English

    poll = Poll.objects.create(popup=popup, question="Quelle couleur ?")
    sage = PollOption.objects.create(poll=poll, label="Sauge")
    mail.outbox.clear()
    post(
        client,
        f"/popup/{popup.slug}/polls/{poll.pk}/vote/",
        {"option": sage.pk, "email": "lea@example.com"},
        **FRENCH_PAGE,
    )
    assert PollVote.objects.get().language == "fr"
    (confirm,) = mail.outbox
    assert confirm.body.startswith("Bonjour") and link_in(confirm).endswith("?lang=fr")


@pytest.mark.usefixtures("stripe_settings", "france")
def test_a_buyer_from_a_french_embed_is_invited_to_review_in_french_a_week_later(
    client, localstripe, settings
):
    from popup.checkout.services import checkout_pay
    from popup.core.holds import hold_set
    from popup.tasks import review_invites_send
    from tests.integrations.stripe.support import card_token
    from tests.popup.checkout.support import SHOPPER

    popup = popup_with_products(1)
    answer = post(client, f"/popup/{popup.slug}/basket/new/", {}, **FRENCH_PAGE)
    basket = PopUpBasket.objects.get(token=answer["basket"]["token"])
    hold_set(basket=basket, product_id=popup.product_terms.get().product_id, quantity=1)
    order = checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe)).order
    (confirmation,) = mail.outbox  # Oscar's own order confirmation, in Oscar's French
    assert confirmation.to == [SHOPPER.email] and "commande" in confirmation.subject.lower()

    mail.outbox.clear()
    settings.POPUP_REVIEW_REQUEST_DAYS = 7
    type(order).objects.filter(pk=order.pk).update(date_placed=timezone.now() - timedelta(days=8))
    assert review_invites_send.delay().result == 1  # as the beat runs it, a week on
    (invitation,) = mail.outbox
    assert invitation.body.startswith("Bonjour")
    review = link_in(invitation)
    assert review.endswith("?lang=fr")
    assert '<html lang="fr">' in client.get(review).content.decode()
