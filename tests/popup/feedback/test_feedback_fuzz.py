"""Every public feedback endpoint, fed anything (hypothesis): never a 5xx, and whatever was stored
never reaches a page as markup, for shoppers or for staff."""

import json

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oscar.test.factories import create_basket, create_order

from popup.models import Idea, Poll, PollOption, Question, ReviewInvite
from tests.factories import popup_with_products

pytestmark = pytest.mark.django_db(transaction=True)

ATTACK = "<script>fuzz()</script>"
texts = st.one_of(
    st.text(max_size=300),
    st.text(max_size=40).map(lambda text: f"{text}{ATTACK}{text}"),
    st.just(f'"{ATTACK}"@example.com'),
    st.emails(),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = ("email", "body", "name", "title", "product", "option", "website", "source")
bodies = st.one_of(
    st.fixed_dictionaries({}, optional={name: json_values for name in FIELDS}),
    json_values,
)
raw = st.one_of(bodies.map(json.dumps), st.binary(max_size=200))


@pytest.fixture
def site(admin_client):
    popup = popup_with_products(1, units_offered=1)
    poll = Poll.objects.create(popup=popup, question="Which colour next?")
    PollOption.objects.create(poll=poll, label="Sage")
    idea = Idea.objects.create(popup=popup, title="Mittens", email="a@example.com", votes=1)
    return popup, poll, idea


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    payload=raw,
    target=st.sampled_from(["waitlist", "questions", "ideas", "vote", "poll", "basket"]),
)
def test_no_input_makes_a_feedback_endpoint_fail(client, site, payload, target):
    popup, poll, idea = site
    cache.clear()  # rate limits would hide the endpoints behind 429s
    url = {
        "waitlist": f"/popup/{popup.slug}/waitlist/",
        "questions": f"/popup/{popup.slug}/questions/",
        "ideas": f"/popup/{popup.slug}/ideas/",
        "vote": f"/popup/{popup.slug}/ideas/{idea.pk}/vote/",
        "poll": f"/popup/{popup.slug}/polls/{poll.pk}/vote/",
        "basket": f"/popup/{popup.slug}/basket/new/",
    }[target]
    response = client.post(url, payload, content_type="application/json")
    assert response.status_code < 500, response.content[:300]


@pytest.fixture
def invite(site):
    popup, _poll, _idea = site
    product = popup.product_terms.get().product
    basket = create_basket(empty=True)
    basket.add_product(product)
    order = create_order(basket=basket, guest_email="ada@example.com")
    return ReviewInvite.objects.create(order=order, popup=popup), product


REVIEW_FIELDS = ("score", "title", "body", "name", "aspect-quality", "aspect-value")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(form=st.fixed_dictionaries({}, optional={name: texts for name in REVIEW_FIELDS}))
def test_no_form_makes_the_review_page_fail_or_show_markup(client, invite, form):
    invite, product = invite
    response = client.post(f"/popup/review/{invite.token}/{product.pk}/", form)
    assert response.status_code in (302, 400), response.content[:300]
    assert ATTACK not in client.get(f"/popup/review/{invite.token}/").content.decode()


def test_stored_fuzz_never_reaches_a_page_as_markup(client, admin_client, site):
    popup, _poll, _idea = site
    for text in (ATTACK, f"x{ATTACK}", f"{ATTACK}\n{ATTACK}"):
        client.post(
            f"/popup/{popup.slug}/ideas/",
            json.dumps(
                {"title": text[:120], "body": text, "name": text[:60], "email": "f@example.com"}
            ),
            content_type="application/json",
        )
        client.post(
            f"/popup/{popup.slug}/questions/",
            json.dumps({"body": text, "name": text[:60], "email": "f@example.com"}),
            content_type="application/json",
        )
    for question in Question.objects.all():
        admin_client.post(
            f"/dashboard/popups/questions/{question.pk}/", {"action": "answer", "answer": ATTACK}
        )
    assert Idea.objects.filter(title__contains="<script>").exists()
    pages = [
        client.get(f"/popup/{popup.slug}/"),
        client.get(f"/popup/{popup.slug}/embed/"),
        admin_client.get("/dashboard/popups/questions/?status=published"),
        admin_client.get("/dashboard/popups/ideas/"),
        admin_client.get("/dashboard/popups/polls/"),
        admin_client.get(f"/dashboard/popups/{popup.pk}/drop/"),
    ]
    for page in pages:
        assert page.status_code == 200
        assert ATTACK not in page.content.decode()
