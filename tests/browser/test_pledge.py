"""Backing an all-or-nothing pre-sale embedded on another site: the card is saved (3-D Secure in
localstripe's Stripe.js), settlement charges it, and a charge that needs the backer is paid from the
recovery link, all in Debian's Chromium running the same card.js, checkout.js and pledge.js as
production."""

import re

import pytest
from oscar.core.loading import get_model
from playwright.sync_api import Page, expect

from popup.models import Pledge, PopUp
from tests.popup.presales.support import close, settle

from .support import card_fill, live_popup, shopper_details_fill, violations

Country = get_model("address", "Country")

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("stripe_settings")]


@pytest.fixture
def presale(page, context, store_url, host, localstripe):
    Country.objects.update_or_create(
        iso_3166_1_a2="FR",
        defaults={"name": "France", "printable_name": "France", "is_shipping_country": True},
    )
    popup = live_popup(
        1,
        units_offered=50,
        allowed_embed_origins=host.origin,
        kind=PopUp.Kind.PRESALE,
        presale_goal_units=1,
        presale_funding=PopUp.Funding.ALL_OR_NOTHING,
    )
    script = f'<script src="{store_url}/popup/embed.js" data-popup="{popup.slug}" async></script>'
    page.goto(host.serve(f"/{popup.slug}", f"<h1>Ember Labs</h1>{script}"))
    return popup, page, page.frame_locator(f'iframe[src*="/popup/{popup.slug}/embed/"]')


def back(page: Page, frame, number: str) -> Page:
    """Pledge one unit from the embed with card `number`; returns the checkout tab."""
    expect(frame.locator(".presale__terms")).to_contain_text("only if the goal is met")
    frame.get_by_role("button", name="Add Product 000").click()
    with page.context.expect_page() as opened:
        frame.get_by_role("link", name="Pledge").click()
    checkout = opened.value
    checkout.wait_for_load_state()
    expect(checkout.get_by_role("heading", name="Back this pre-sale")).to_be_visible()
    expect(checkout.locator("[data-pledge-terms]")).to_contain_text("Nothing is charged today.")
    shopper_details_fill(checkout)
    card_fill(checkout, number)
    checkout.get_by_role("button", name=re.compile(r"^Pledge €")).click()
    return checkout


def test_a_backer_pledges_from_the_embed_and_settlement_charges_the_saved_card(presale):
    popup, page, frame = presale
    checkout = back(page, frame, "4242424242424242")

    expect(checkout.get_by_role("heading", name="Your pledge")).to_be_visible()
    expect(checkout.locator("[data-pledge-status]")).to_contain_text("Nothing is charged yet.")
    backer = Pledge.objects.get()
    assert (backer.status, backer.card_label) == (Pledge.Status.PLEDGED, "Visa •••• 4242")
    assert backer.source.startswith("127.0.0.1:")  # the embedding page's host, for the report

    close(popup)
    settle(popup)
    checkout.reload()
    expect(checkout.locator("[data-pledge-status]")).to_contain_text("Paid, thank you!")
    backer.refresh_from_db()
    expect(checkout.locator("[data-order-number]")).to_have_text(backer.order.number)


def test_a_card_that_needs_3d_secure_is_saved_then_paid_from_the_recovery_link(presale):
    popup, page, frame = presale
    checkout = back(page, frame, "4000002760003184")
    # localstripe's fake bank challenge, inside Stripe.js confirmCardSetup.
    checkout.get_by_role("button", name="Complete authentication").click()
    expect(checkout.get_by_role("heading", name="Your pledge")).to_be_visible()

    close(popup)
    settle(popup)  # off session, the bank wants the backer: the charge fails, nothing is taken
    backer = Pledge.objects.get()
    assert (backer.status, backer.failure_code) == (Pledge.Status.FAILED, "authentication_required")

    checkout.reload()  # the link from the "did not go through" e-mail
    expect(checkout.locator("[data-pledge-status]")).to_contain_text("did not go through")
    checkout.get_by_role("button", name=re.compile(r"^Pay €.* with Visa •••• 3184$")).click()
    checkout.get_by_role("button", name="Complete authentication").click()
    expect(checkout.locator("[data-pledge-status]")).to_contain_text("Paid, thank you!")
    backer.refresh_from_db()
    assert backer.status == Pledge.Status.PAID
    assert backer.order.sources.get().amount_debited == backer.amount


def test_a_declined_card_is_replaced_on_the_recovery_page(presale, store_url):
    popup, page, frame = presale
    checkout = back(page, frame, "4000000000000341")  # saved fine, declined when charged
    expect(checkout.get_by_role("heading", name="Your pledge")).to_be_visible()
    checkout.close()
    close(popup)
    settle(popup)
    backer = Pledge.objects.get()
    assert backer.status == Pledge.Status.FAILED

    recovery = page.context.new_page()
    recovery.goto(f"{store_url}/popup/pledge/{backer.token}/")
    card_fill(recovery, "4242424242424242")
    recovery.get_by_role("button", name=re.compile(r"with this card$")).click()
    expect(recovery.locator("[data-pledge-status]")).to_contain_text("Paid, thank you!")
    backer.refresh_from_db()
    assert (backer.status, backer.card_label) == (Pledge.Status.PAID, "Visa •••• 4242")


# The largest button or button-like link on the page: what the eye lands on.
BIGGEST_BUTTON = """() => [...document.querySelectorAll('button, a.pay')]
    .filter(el => el.offsetParent !== null)
    .map(el => [el.offsetWidth * el.offsetHeight, el.textContent.trim()])
    .sort((a, b) => b[0] - a[0])[0][1]"""


def test_once_pledged_the_page_leads_back_and_keeps_another_card_folded(presale):
    popup, page, frame = presale
    checkout = back(page, frame, "4242424242424242")
    expect(checkout.get_by_role("heading", name="Your pledge")).to_be_visible()

    assert checkout.evaluate(BIGGEST_BUTTON) == f"Back to {popup.title}"
    expect(checkout.get_by_role("button", name="Save this card")).to_be_hidden()
    assert violations(checkout) == []

    checkout.get_by_text("Use another card").click()
    card_fill(checkout, "4000056655665556")
    checkout.get_by_role("button", name="Save this card").click()
    expect(checkout.locator("[data-card-label]")).to_have_text("Visa •••• 5556")
    assert Pledge.objects.get().card_label == "Visa •••• 5556"
    assert violations(checkout) == []
