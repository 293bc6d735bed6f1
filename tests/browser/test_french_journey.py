"""A French shopper on a phone, start to finish: the drop embedded on a French blog, bought in its
frame, a question asked, a pre-sale backed; every page, message and e-mail in French, with French
prices and dates ("59,00 €", "23 décembre 2026")."""

import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from oscar.core.loading import get_model
from playwright.sync_api import Page, expect

from popup.feedback.questions import question_answer
from popup.models import PopUp, Question
from tests.popup.presales.support import close, settle

from .support import card_fill, eventually, live_popup, violations, wait_for
from .test_phone import SIDEWAYS, in_sight, screen, shot

Order = get_model("order", "Order")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("stripe_settings", "localstripe", "france"),
]

EURO = "\u00a0€"  # French writes the sign after the amount, after a no-break space


def embedded(page: Page, host, popup: PopUp):
    """The pop-up embedded on a French blog, as its loader snippet puts it (no data-lang: the
    frame follows the visitor's browser)."""
    script = (
        f'<script src="{host.store_url}/popup/embed.js" data-popup="{popup.slug}" async></script>'
    )
    html = (
        '<!doctype html><html lang="fr"><meta name="viewport" '
        'content="width=device-width, initial-scale=1">'
        f"<body><h1>Atelier Nord, le blog</h1>{script}</body></html>"
    )
    page.goto(host.serve(f"/blog/{popup.slug}", html))
    frame = page.frame_locator(f'iframe[src*="/popup/{popup.slug}/embed/"]')
    expect(frame.locator("html")).to_have_attribute("lang", "fr")
    return frame


def details_fill(page: Page) -> None:
    """Who pays and where it ships, typed on the French form."""
    page.get_by_label("E-mail").fill("lea@example.com")
    page.get_by_label("Prénom").fill("Léa")
    page.get_by_label("Nom", exact=True).fill("Martin")
    page.get_by_label("Adresse", exact=True).fill("12 rue des Lilas")
    page.get_by_label("Code postal").fill("69001")
    page.get_by_label("Ville").fill("Lyon")
    expect(page.get_by_label("Pays")).to_have_value("FR")  # the store's country, chosen


def test_a_french_shopper_buys_in_the_embed_asks_and_reads_french_e_mails(browser, store_url, host):
    host.store_url = store_url
    popup = live_popup(1, allowed_embed_origins=host.origin)
    popup.range.all_products().first().stockrecords.update(price=Decimal("59.00"))
    page = screen(browser, 390, locale="fr-FR")
    frame = embedded(page, host, popup)

    frame.get_by_role("button", name="Ajouter Product 000").click()
    bar = frame.locator("[data-basket]")
    expect(bar).to_contain_text(f"1 article dans votre panier · 59,00{EURO}")
    with page.context.expect_page() as opened:
        bar.get_by_role("link", name="Paiement").click()
    checkout = opened.value
    checkout.wait_for_load_state()
    expect(checkout.locator("html")).to_have_attribute("lang", "fr")
    details_fill(checkout)
    card_fill(checkout, "4242424242424242")
    assert checkout.evaluate(SIDEWAYS) == [0, []]
    shot(checkout, "french-checkout-390")
    checkout.get_by_role("button", name=f"Commander et payer 59,00{EURO}").click()

    expect(checkout.get_by_role("heading", name="Merci !")).to_be_visible()
    expect(checkout.locator(".summary__total")).to_contain_text(f"Payé 59,00{EURO}")
    assert violations(checkout) == []
    order = Order.objects.get()
    wait_for(lambda: mail.outbox)
    (confirmation,) = mail.outbox  # Oscar's order confirmation, in French
    assert order.number in confirmation.subject and "commande" in confirmation.subject.lower()
    checkout.close()

    # Back in the frame: a question, answered the next day by e-mail.
    frame.get_by_role("heading", name="Questions").click()
    frame.get_by_label("Votre question").fill("Le mérinos gratte-t-il ?")
    frame.get_by_label("E-mail (pour la réponse, jamais affiché)").fill("lea@example.com")
    frame.get_by_role("button", name="Envoyer ma question").click()
    expect(frame.locator("[data-ask-message]")).not_to_be_empty()
    assert not re.search(r"[Tt]hank|question", frame.locator("[data-ask-message]").inner_text())
    question = Question.objects.get()
    assert question.language == "fr"
    mail.outbox.clear()
    question_answer(question=question, answer="Non, pas du tout.", by=None)
    (answer,) = mail.outbox
    assert answer.body.startswith("Bonjour") and "Non, pas du tout." in answer.body
    assert f"{popup.get_absolute_url()}?lang=fr" in answer.body
    # At the very end of the frame, the language switch is not under the basket bar.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    inside = page.locator("iframe").element_handle().content_frame()
    eventually(page, lambda: in_sight(page, frame.locator("[data-basket]")))  # moved along
    _uncovered(inside, frame.get_by_role("link", name="English"))
    shot(page, "french-embed-390")
    page.context.close()


UNCOVERED = """(link) => {
  const box = link.getBoundingClientRect();
  const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
  return hit === link || link.contains(hit);
}"""


def _uncovered(inside, link) -> None:
    assert inside.evaluate(UNCOVERED, link.element_handle()) is True, "under the basket bar"


def test_a_french_backer_pledges_and_is_told_in_french(browser, store_url, host):
    host.store_url = store_url
    popup = live_popup(
        1,
        units_offered=50,
        allowed_embed_origins=host.origin,
        kind=PopUp.Kind.PRESALE,
        presale_goal_units=1,
        presale_funding=PopUp.Funding.ALL_OR_NOTHING,
        presale_charge_when=PopUp.ChargeWhen.DEADLINE,
        closes_at=datetime(2026, 12, 23, 18, tzinfo=ZoneInfo("Europe/Paris")),
        presale_ships_on=date(2027, 1, 15),
    )
    popup.range.all_products().first().stockrecords.update(price=Decimal("59.00"))
    page = screen(browser, 390, locale="fr-FR")
    frame = embedded(page, host, popup)

    frame.get_by_role("button", name="Ajouter Product 000").click()
    with page.context.expect_page() as opened:
        frame.locator("[data-basket]").get_by_role("link", name="S'engager").click()
    checkout = opened.value
    checkout.wait_for_load_state()
    expect(checkout.get_by_role("heading", name="Soutenir cette précommande")).to_be_visible()
    details_fill(checkout)
    card_fill(checkout, "4242424242424242")
    checkout.get_by_role("button", name=f"S'engager pour 59,00{EURO}").click()

    expect(checkout.get_by_role("heading", name="Votre engagement")).to_be_visible()
    expect(checkout.locator("html")).to_have_attribute("lang", "fr")
    expect(checkout.locator("[data-pledge-status]")).to_contain_text(
        "Rien n'est débité pour l'instant."
    )
    assert checkout.evaluate(SIDEWAYS) == [0, []]
    assert violations(checkout) == []
    shot(checkout, "french-pledge-390")
    wait_for(lambda: mail.outbox)  # sent as the pledge commits, on the store's side
    (pledged,) = mail.outbox
    assert pledged.body.startswith("Bonjour") and "59,00" in pledged.body
    assert "23 décembre 2026" in pledged.body and "janvier 2027" in pledged.body

    mail.outbox.clear()
    close(popup)
    settle(popup)  # funded: the card is charged, the backer told
    checkout.reload()
    expect(checkout.locator("[data-pledge-status]")).to_contain_text(f"59,00{EURO}")
    subjects = [email.subject for email in mail.outbox]
    assert subjects and all(not re.search(r"\b(your|the|pledge)\b", s, re.I) for s in subjects)
    assert all(email.body.startswith("Bonjour") for email in mail.outbox)
    page.context.close()
