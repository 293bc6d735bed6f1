""" "Notify me", questions, ideas and polls inside a pop-up embedded on another site, with no
third-party cookies; and on a phone, feedback that confirms: the shopper's own idea waiting for
review (also after a reload), the same idea refused kindly with its text kept, a poll vote that
says it counts once confirmed, then the results; axe finds nothing serious in any of those states."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone
from oscar.core.loading import get_model
from oscar.test.factories import create_basket, create_order
from playwright.sync_api import Page, expect

from popup.models import Idea, Poll, PollOption, ReviewInvite
from tests.factories import popup_with_products

from .showcase import showcase_popup
from .support import violations

ProductAlert = get_model("customer", "ProductAlert")

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "feedback"
# How far the page reaches beyond the screen's right edge (0: no sideways scrolling).
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def unfold(where, heading: str) -> None:
    """Open the feedback section under `heading`, as a shopper taps it (unless it is open)."""
    section = where.locator("details.fold").filter(has=where.get_by_role("heading", name=heading))
    if not section.evaluate("details => details.open"):
        section.locator("summary").click()
    expect(section).to_have_attribute("open", "")


def embedded(page, store_url, host, popup):
    script = f'<script src="{store_url}/popup/embed.js" data-popup="{popup.slug}" async></script>'
    page.goto(host.serve(f"/{popup.slug}", f"<h1>Atelier Nord</h1>{script}"))
    return page.frame_locator(f'iframe[src*="/popup/{popup.slug}/embed/"]')


@pytest.fixture
def phone(browser) -> Page:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def test_a_shopper_joins_the_waitlist_of_a_drop_from_the_embed(page, store_url, host):
    popup = popup_with_products(
        1,
        allowed_embed_origins=host.origin,
        opens_at=timezone.now() + timedelta(days=1),
        closes_at=timezone.now() + timedelta(days=2),
    )
    frame = embedded(page, store_url, host, popup)

    frame.get_by_label("E-mail me when it's available").fill("ada@example.com")
    frame.get_by_role("button", name="Notify me").click()

    expect(frame.locator("[data-notify-message]")).to_contain_text("confirm your address")
    alert = ProductAlert.objects.get()
    assert (alert.email, alert.status) == ("ada@example.com", ProductAlert.UNCONFIRMED)


def test_a_shopper_asks_a_question_from_the_embed(page, store_url, host):
    from popup.models import Question

    popup = popup_with_products(1, allowed_embed_origins=host.origin)
    frame = embedded(page, store_url, host, popup)

    unfold(frame, "Questions")
    frame.get_by_label("Your question").fill("Does it shrink in the wash?")
    frame.get_by_label("E-mail (for the answer, never shown)").fill("ada@")
    frame.get_by_role("button", name="Send my question").click()
    email = frame.get_by_label("E-mail (for the answer, never shown)")
    expect(email).to_have_attribute("aria-invalid", "true")  # said beside the field, in words
    expect(email).to_have_accessible_description(re.compile("valid e-mail address"))
    expect(email).to_be_focused()
    expect(frame.get_by_label("Your question")).to_have_value("Does it shrink in the wash?")

    email.fill("ada@example.com")
    frame.get_by_role("button", name="Send my question").click()
    expect(frame.locator("[data-ask-message]")).to_contain_text("We will e-mail you the answer")
    expect(email).not_to_have_attribute("aria-invalid", "true")
    question = Question.objects.get()
    assert (question.body, question.status) == ("Does it shrink in the wash?", "pending")


def test_a_shopper_votes_and_suggests_in_the_idea_box_of_the_embed(page, store_url, host):
    popup = popup_with_products(1, allowed_embed_origins=host.origin)
    idea = Idea.objects.create(popup=popup, title="Sage green", email="a@example.com", votes=1)
    frame = embedded(page, store_url, host, popup)

    unfold(frame, "What should we make next?")
    frame.get_by_label("Your e-mail, to vote").fill("grace@example.com")
    frame.get_by_role("button", name="Vote for Sage green").click()
    expect(frame.locator(f'[data-idea="{idea.pk}"] [data-votes]')).to_have_text("2")
    frame.get_by_label("Your idea").fill("Matching mittens")
    frame.get_by_role("button", name="Suggest it").click()
    expect(frame.locator("[data-ideas-message]")).to_contain_text("Thank you for your idea!")
    # Storage is blocked in a third-party frame: the idea shows as theirs all the same.
    mine = frame.locator(".ideas__item--mine")
    expect(mine).to_contain_text("Matching mittens")
    expect(mine).to_contain_text("Your idea · waiting for review")
    assert Idea.objects.get(title="Matching mittens").email == "grace@example.com"


def test_a_shopper_votes_in_a_poll_of_the_embed_and_confirms_by_e_mail(page, store_url, host):
    popup = popup_with_products(1, allowed_embed_origins=host.origin)
    poll = Poll.objects.create(popup=popup, question="Which colour next?")
    PollOption.objects.create(poll=poll, label="Sage", display_order=0)
    PollOption.objects.create(poll=poll, label="Rust", display_order=1)
    frame = embedded(page, store_url, host, popup)

    unfold(frame, "Which colour next?")
    frame.get_by_label("Rust").check()
    frame.get_by_label("Your e-mail (to confirm your vote, one per person)").fill("ada@example.com")
    frame.get_by_role("button", name="Vote", exact=True).click()

    expect(frame.locator("[data-poll-message]")).to_have_text(
        "Your vote counts after you confirm it: we sent a link to ada@example.com."
    )
    assert PollOption.objects.get(label="Rust").votes == 0  # not before the address is confirmed
    (confirmation,) = mail.outbox
    link = re.search(r"https?://[^/\s]+(/\S+)", confirmation.body).group(1)
    page.goto(f"{store_url}{link}")
    expect(page.get_by_role("heading", name="Thank you: your vote counts")).to_be_visible()
    assert PollOption.objects.get(label="Rust").votes == 1


def test_a_posted_idea_shows_at_once_and_after_a_reload_and_again_is_refused_kindly(
    phone, store_url
):
    popup = showcase_popup()
    url = f"{store_url}{popup.get_absolute_url()}"
    phone.goto(url)
    ideas = phone.locator("[data-ideas]")
    expect(ideas.locator("form")).to_be_attached()
    expect(ideas.locator("details")).not_to_have_attribute("open", "")  # the shop comes first
    assert violations(phone) == []

    unfold(phone, "What should we make next?")
    phone.get_by_label("Your e-mail, to vote").fill("ada@example.com")
    phone.get_by_label("Your idea").fill("Matching mittens")
    phone.get_by_label("Details (optional)").fill("In the rust wool, please.")
    phone.get_by_role("button", name="Suggest it").click()

    status = phone.locator("[data-ideas-message]")
    expect(status).to_have_text("Thank you for your idea! It shows here, waiting for review.")
    assert status.get_attribute("role") == "status"
    mine = ideas.locator(".ideas__item--mine")
    expect(mine).to_contain_text("Matching mittens")
    expect(mine).to_contain_text("In the rust wool, please.")
    expect(mine.locator("[data-idea-mine]")).to_have_text("Your idea · waiting for review")
    expect(phone.get_by_label("Your idea")).to_have_value("")
    assert phone.evaluate(SIDEWAYS) == 0
    assert violations(phone) == []
    shot(phone, "idea-waiting-390")

    phone.reload()
    unfold(phone, "What should we make next?")
    expect(mine).to_have_count(1)
    expect(mine.locator("[data-idea-mine]")).to_have_text("Your idea · waiting for review")

    # The same idea again, in other words of case and punctuation: refused, kindly, text kept.
    phone.get_by_label("Your idea").fill("matching  MITTENS!")
    phone.get_by_role("button", name="Suggest it").click()
    title = phone.get_by_label("Your idea")
    expect(title).to_have_attribute("aria-invalid", "true")
    expect(title).to_have_accessible_description(
        "We already received this idea from you: it is waiting for review."
    )
    expect(title).to_be_focused()
    expect(title).to_have_value("matching  MITTENS!")
    expect(mine).to_have_count(1)
    assert Idea.objects.count() == 1
    assert phone.evaluate(SIDEWAYS) == 0
    assert violations(phone) == []
    shot(phone, "idea-refused-390")


def test_another_device_naming_the_same_address_is_told_only_that_it_was_received(
    phone, browser, store_url
):
    popup = showcase_popup()
    url = f"{store_url}{popup.get_absolute_url()}"
    phone.goto(url)
    unfold(phone, "What should we make next?")
    phone.get_by_label("Your e-mail, to vote").fill("ada@example.com")
    phone.get_by_label("Your idea").fill("Mugs like www.example.com")  # held back as spam
    phone.get_by_label("Details (optional)").fill("A secret only Ada knows.")
    phone.get_by_role("button", name="Suggest it").click()
    expect(phone.locator(".ideas__item--mine")).to_have_count(1)

    # Someone else types Ada's address: the address proves nothing, the receipt Ada's device
    # keeps is what shows an idea as one's own.
    other = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    stranger = other.new_page()
    stranger.goto(url)
    unfold(stranger, "What should we make next?")
    stranger.get_by_label("Your e-mail, to vote").fill("ada@example.com")
    stranger.get_by_label("Your idea").fill("mugs like www.example.com")
    stranger.get_by_role("button", name="Suggest it").click()
    title = stranger.get_by_label("Your idea")
    expect(title).to_have_accessible_description("We already received this idea from you.")
    expect(title).to_be_focused()
    ideas = stranger.locator("[data-ideas]")
    expect(ideas.locator(".ideas__item--mine")).to_have_count(0)
    expect(ideas).not_to_contain_text("A secret only Ada knows.")
    assert stranger.evaluate(f"() => localStorage.getItem('popup-ideas:{popup.slug}')") is None
    assert violations(stranger) == []
    other.close()


def test_an_idea_held_for_review_shows_to_its_author_only_until_the_shop_hides_it(phone, store_url):
    popup = showcase_popup()
    url = f"{store_url}{popup.get_absolute_url()}"
    phone.goto(url)
    unfold(phone, "What should we make next?")
    phone.get_by_label("Your e-mail, to vote").fill("ada@example.com")
    phone.get_by_label("Your idea").fill("Mugs like www.example.com")
    phone.get_by_role("button", name="Suggest it").click()
    mine = phone.locator(".ideas__item--mine")
    expect(mine.locator("[data-idea-mine]")).to_have_text("Your idea · waiting for review")
    idea = Idea.objects.get()
    assert idea.status == Idea.Status.SPAM

    phone.reload()  # not on the shared page: this device asks about it, and opens its section
    expect(mine).to_contain_text("Mugs like www.example.com")
    expect(mine.locator("[data-idea-mine]")).to_be_visible()
    assert "Mugs like" not in phone.request.get(url).text()

    idea.status = Idea.Status.HIDDEN
    idea.save()
    phone.reload()
    unfold(phone, "What should we make next?")
    expect(phone.locator("[data-ideas-list] li")).to_have_count(0)
    assert phone.evaluate(f"() => localStorage.getItem('popup-ideas:{popup.slug}')") == "[]"


def test_a_poll_vote_says_it_counts_once_confirmed_then_shows_the_results(phone, store_url):
    popup = showcase_popup()
    poll = Poll.objects.create(popup=popup, question="Which glaze next?")
    for number, (label, votes) in enumerate((("Celadon", 3), ("Tenmoku", 0), ("Ash", 1))):
        PollOption.objects.create(poll=poll, label=label, display_order=number, votes=votes)
    url = f"{store_url}{popup.get_absolute_url()}"
    phone.goto(url)
    section = phone.locator(f'[data-poll="{poll.pk}"]')
    unfold(phone, "Which glaze next?")
    expect(section.locator("[data-poll-results]")).to_be_hidden()  # results come after the vote
    assert violations(phone) == []

    section.get_by_label("Tenmoku").check()
    section.get_by_label("Your e-mail (to confirm your vote, one per person)").fill(
        "ada@example.com"
    )
    section.get_by_role("button", name="Vote", exact=True).click()
    message = section.locator("[data-poll-message]")
    pending = "Your vote counts after you confirm it: we sent a link to ada@example.com."
    expect(message).to_have_text(pending)
    expect(message).to_be_focused()
    expect(section.locator("form")).to_be_hidden()
    expect(section.locator("[data-poll-results]")).to_be_hidden()
    expect(section.get_by_text("0 votes")).to_be_hidden()
    assert phone.evaluate(SIDEWAYS) == 0
    assert violations(phone) == []
    shot(phone, "poll-pending-390")

    phone.reload()  # still waiting: said again, its section open
    expect(message).to_have_text(pending)
    expect(section.locator("details")).to_have_attribute("open", "")

    (confirmation,) = mail.outbox
    link = re.search(r"https?://[^/\s]+(/\S+)", confirmation.body).group(1)
    phone.goto(f"{store_url}{link}")
    expect(phone.get_by_role("heading", name="Thank you: your vote counts")).to_be_visible()
    rows = phone.locator(".poll__results li")
    expect(rows.locator(".poll__label")).to_have_text(
        ["Celadon", "Tenmoku ✓ Your choice", "Ash"], use_inner_text=True
    )
    expect(rows.locator("[data-poll-votes]")).to_have_text(
        ["3 votes · 60%", "1 vote · 20%", "1 vote · 20%"]
    )
    expect(phone.locator("[data-poll-mine]:visible")).to_have_count(1)
    expect(rows.nth(1).locator("[data-poll-mine]")).to_have_text("✓ Your choice")
    expect(phone.get_by_text("5 confirmed votes")).to_be_visible()
    assert phone.evaluate(SIDEWAYS) == 0
    assert violations(phone) == []
    shot(phone, "poll-confirmed-390")

    phone.goto(url)  # the pop-up, afterwards: the results, the shopper's choice marked
    expect(section.locator("details")).to_have_attribute("open", "")
    expect(section.locator("[data-poll-results]")).to_be_visible()
    expect(section.locator(".poll__option--mine .poll__label")).to_have_text(
        "Tenmoku ✓ Your choice", use_inner_text=True
    )
    expect(section.locator("[data-poll-mine]:visible")).to_have_count(1)
    expect(section.locator(".poll__option--mine [data-poll-votes]")).to_have_text("1 vote · 20%")
    expect(message).to_be_empty()
    expect(section.locator("form")).to_be_hidden()
    assert phone.evaluate(SIDEWAYS) == 0
    assert violations(phone) == []
    shot(phone, "poll-results-390")


def test_a_mistyped_address_can_vote_again_with_everything_kept(phone, store_url):
    popup = showcase_popup()
    poll = Poll.objects.create(popup=popup, question="Which glaze next?")
    for number, label in enumerate(("Celadon", "Tenmoku")):
        PollOption.objects.create(poll=poll, label=label, display_order=number)
    phone.goto(f"{store_url}{popup.get_absolute_url()}")
    unfold(phone, "Which glaze next?")
    phone.get_by_label("Celadon").check()
    email = phone.get_by_label("Your e-mail (to confirm your vote, one per person)")
    email.fill("ada@exmaple.com")
    phone.get_by_role("button", name="Vote", exact=True).click()
    expect(phone.locator("[data-poll-message]")).to_contain_text("ada@exmaple.com")

    phone.get_by_role("button", name="Wrong address? Vote with another one").click()
    expect(email).to_be_focused()
    expect(email).to_have_value("ada@exmaple.com")
    expect(phone.get_by_label("Celadon")).to_be_checked()
    email.fill("ada@example.com")
    phone.get_by_role("button", name="Vote", exact=True).click()
    expect(phone.locator("[data-poll-message]")).to_contain_text("link to ada@example.com.")


def test_the_review_page_and_a_refused_review_at_390_px(phone, store_url):
    popup = popup_with_products(1)
    product = popup.product_terms.get().product
    basket = create_basket(empty=True)
    basket.add_product(product)
    order = create_order(basket=basket, guest_email="ada@example.com")
    invite = ReviewInvite.objects.create(order=order, popup=popup)
    phone.goto(f"{store_url}/popup/review/{invite.token}/")
    expect(phone.get_by_role("heading", name="How do you like it?")).to_be_visible()
    assert violations(phone) == []

    phone.get_by_label("Title").fill("Warm and soft")
    phone.get_by_label("Your review").fill("I wear it every day.")
    # The browser would ask for the stars itself; the server says it too, for any browser.
    phone.locator("form.qa__ask").evaluate("form => { form.noValidate = true; }")
    phone.get_by_role("button", name="Publish my review").click()
    error = phone.get_by_text("Choose a rating from 1 to 5 stars.")
    expect(error).to_be_visible()
    expect(phone.get_by_label("1 star", exact=True)).to_be_focused()
    expect(phone.get_by_label("Title")).to_have_value("Warm and soft")
    expect(phone.get_by_label("Your review")).to_have_value("I wear it every day.")
    assert phone.evaluate(SIDEWAYS) == 0
    assert violations(phone) == []
    shot(phone, "review-refused-390")
