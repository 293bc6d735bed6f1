""" "Notify me" and questions inside a pop-up embedded on another site, with no third-party cookies."""

from datetime import timedelta

import pytest
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
