""" "Notify me", questions, ideas and polls inside a pop-up embedded on another site, with no
third-party cookies."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from oscar.core.loading import get_model
from playwright.sync_api import expect

from tests.factories import popup_with_products

ProductAlert = get_model("customer", "ProductAlert")

pytestmark = pytest.mark.browser


def test_a_shopper_joins_the_waitlist_of_a_drop_from_the_embed(page, store_url, host):
    popup = popup_with_products(
        1,
        allowed_embed_origins=host.origin,
        opens_at=timezone.now() + timedelta(days=1),
        closes_at=timezone.now() + timedelta(days=2),
    )
    script = f'<script src="{store_url}/popup/embed.js" data-popup="{popup.slug}" async></script>'
    page.goto(host.serve(f"/{popup.slug}", f"<h1>Atelier Nord</h1>{script}"))
    frame = page.frame_locator(f'iframe[src*="/popup/{popup.slug}/embed/"]')

    frame.get_by_label("E-mail me when it's available").fill("ada@example.com")
    frame.get_by_role("button", name="Notify me").click()

    expect(frame.locator("[data-notify-message]")).to_contain_text("confirm your address")
    alert = ProductAlert.objects.get()
    assert (alert.email, alert.status) == ("ada@example.com", ProductAlert.UNCONFIRMED)


def test_a_shopper_asks_a_question_from_the_embed(page, store_url, host):
    from popup.models import Question

    popup = popup_with_products(1, allowed_embed_origins=host.origin)
    script = f'<script src="{store_url}/popup/embed.js" data-popup="{popup.slug}" async></script>'
    page.goto(host.serve(f"/{popup.slug}", f"<h1>Atelier Nord</h1>{script}"))
    frame = page.frame_locator(f'iframe[src*="/popup/{popup.slug}/embed/"]')

    frame.get_by_label("Your question").fill("Does it shrink in the wash?")
    frame.get_by_label("E-mail (for the answer, never shown)").fill("ada@example.com")
    frame.get_by_role("button", name="Send my question").click()

    expect(frame.locator("[data-ask-message]")).to_contain_text("We will e-mail you the answer")
    question = Question.objects.get()
    assert (question.body, question.status) == ("Does it shrink in the wash?", "pending")


def test_a_shopper_votes_and_suggests_in_the_idea_box_of_the_embed(page, store_url, host):
    from popup.models import Idea

    popup = popup_with_products(1, allowed_embed_origins=host.origin)
    idea = Idea.objects.create(popup=popup, title="Sage green", email="a@example.com", votes=1)
    script = f'<script src="{store_url}/popup/embed.js" data-popup="{popup.slug}" async></script>'
    page.goto(host.serve(f"/{popup.slug}", f"<h1>Atelier Nord</h1>{script}"))
    frame = page.frame_locator(f'iframe[src*="/popup/{popup.slug}/embed/"]')

    frame.get_by_label("Your e-mail, to vote").fill("grace@example.com")
    frame.get_by_role("button", name="Vote for Sage green").click()
    expect(frame.locator(f'[data-idea="{idea.pk}"] [data-votes]')).to_have_text("2")
    frame.get_by_label("Your idea").fill("Matching mittens")
    frame.get_by_role("button", name="Suggest it").click()
    expect(frame.locator("[data-ideas-message]")).to_contain_text("Thank you for your idea!")
    assert Idea.objects.get(title="Matching mittens").email == "grace@example.com"


def test_a_shopper_votes_in_a_poll_of_the_embed_and_confirms_by_e_mail(page, store_url, host):
    from popup.models import Poll, PollOption

    popup = popup_with_products(1, allowed_embed_origins=host.origin)
    poll = Poll.objects.create(popup=popup, question="Which colour next?")
    PollOption.objects.create(poll=poll, label="Sage", display_order=0)
    PollOption.objects.create(poll=poll, label="Rust", display_order=1)
    script = f'<script src="{store_url}/popup/embed.js" data-popup="{popup.slug}" async></script>'
    page.goto(host.serve(f"/{popup.slug}", f"<h1>Atelier Nord</h1>{script}"))
    frame = page.frame_locator(f'iframe[src*="/popup/{popup.slug}/embed/"]')

    frame.get_by_label("Rust").check()
    frame.get_by_label("Your e-mail (to confirm your vote, one per person)").fill("ada@example.com")
    frame.get_by_role("button", name="Vote", exact=True).click()

    expect(frame.locator("[data-poll-message]")).to_contain_text("confirm")
    assert PollOption.objects.get(label="Rust").votes == 0  # not before the address is confirmed
    (confirmation,) = mail.outbox
    link = re.search(r"https?://[^/\s]+(/\S+)", confirmation.body).group(1)
    page.goto(f"{store_url}{link}")
    assert PollOption.objects.get(label="Rust").votes == 1
    page.goto(host.serve(f"/{popup.slug}", f"<h1>Atelier Nord</h1>{script}"))
    expect(frame.locator("[data-poll] li", has_text="Rust")).to_contain_text("1 vote")
