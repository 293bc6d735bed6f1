"""Shoppers' data under the GDPR: `popup_privacy export` gives everything held about an address,
`popup_privacy erase` leaves nothing personal outside the orders, which stay for the accounts."""

import io
import json
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone, translation
from oscar.core.loading import get_model

from integrations.stripe.client import webhook_event_construct
from integrations.stripe.webhooks import stripe_event_record
from popup.checkout.customers import email_key
from popup.feedback.ideas import idea_post, idea_vote
from popup.feedback.questions import question_ask
from popup.models import Idea, Pledge, PollOption, PopUp, PopUpBasket, PopUpProduct, Question
from popup.presales.pledges import _move
from popup.privacy.addresses import mailbox_key
from popup.privacy.retention import personal_data_expire
from popup.privacy.selectors import personal_data_export
from popup.privacy.services import ErasureRefused, personal_data_erase
from tests.factories import popup_with_products
from tests.integrations.stripe.support import deliver, event_payload, signed
from tests.localstripe_server import WEBHOOK_SECRET
from tests.popup.checkout.support import authorised_then_gone
from tests.popup.presales.support import all_or_nothing, close, settle
from tests.popup.privacy.support import (
    ADA,
    ADA_CARD,
    ADA_DETAILS,
    GRACE,
    IP,
    bought,
    everywhere,
    pledged,
    redis_keys_naming,
    rows_naming,
    shipped,
)

Order = get_model("order", "Order")
ProductReview = get_model("reviews", "ProductReview")
StripeEvent = get_model("popup_stripe", "StripeEvent")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("stripe_settings"),
    pytest.mark.usefixtures("france"),
]

# What names Ada anywhere: every spelling of her address and its customer key hold "lovelace",
# her shipping address "Lilas", her saved card its label.
ADA_KEY = email_key(ADA)
ADA_CARD_LABEL = "Visa •••• 5556"
NEEDLES = ("lovelace", "Lilas", ADA_KEY, ADA_CARD_LABEL)


def without_date(export: dict) -> dict:
    return {key: value for key, value in export.items() if key != "exported_at"}


def run(*args) -> str:
    out = io.StringIO()
    call_command("popup_privacy", *args, stdout=out)
    return out.getvalue()


def test_export_then_erase_leaves_nothing_personal_outside_the_minimised_orders(localstripe):
    ada, grace = everywhere(localstripe)
    assert ADA_KEY == "adalovelace@gmail.com"
    # The scan sees her wherever the plugin put her: it would see what the erasure missed.
    before = rows_naming(*NEEDLES)
    for table in (
        "popup_popupbasket",
        "popup_pledge",
        "order_order",
        "order_ordernote",  # the ad click id her order was attributed with
        "order_shippingaddress",
        "customer_productalert",
        "popup_question",
        "popup_idea",
        "popup_ideavote",
        "popup_pollvote",
        "reviews_productreview",
        "popup_outgoingemail",
        "popup_stripe_stripeevent",
        "popup_pledgeevent",
    ):
        assert table in before, table
    assert redis_keys_naming("lovelace")
    grace_before = without_date(personal_data_export(email=GRACE))
    total_before, lines_before = ada.order.total_incl_tax, list(ada.order.lines.values())

    export = personal_data_export(email="ADA.Lovelace@gmail.com")
    json.dumps(export)  # JSON as it is
    data = export["data"]
    (order,) = data["orders"]
    assert (order["number"], order["total_incl_tax"]) == (str(ada.order.number), str(total_before))
    assert order["email"] == ADA
    assert order["shipping_address"]["last_name"] == "Lovelace"
    assert order["lines"][0]["quantity"] == 2
    (pledge,) = data["pledges"]
    assert (pledge["status"], pledge["email"]) == ("pledged", "ada.lovelace@gmail.com")
    assert [step["to"] for step in pledge["history"]] == ["pledged"]
    assert pledge["history"][0]["note"] == f"Card saved: {ADA_CARD_LABEL}"
    assert pledge["shipping"]["last_name"] == "Lovelace" and pledge["card"] == ADA_CARD_LABEL
    assert len(data["baskets"]) == 2  # the one she bought with, the one she pledged from
    assert [basket["ad_click"].get("fbclid") for basket in data["baskets"]] == [
        "IwAR0lovelace9Zq",
        None,
    ]
    (waited,) = data["waitlists"]
    assert waited["email"] == "ADA.LOVELACE@gmail.com" and waited["status"] == "Unconfirmed"
    assert {question["question"] for question in data["questions"]} == {
        "Is it soft enough for a baby? Write to me at ada.lovelace@gmail.com",
        "Do you ship to Lyon?",
    }
    assert [idea["idea"] for idea in data["ideas"]] == ["A sage-green scarf"]
    assert {vote["idea"] for vote in data["idea_votes"]} == {
        "A sage-green scarf",
        "Mittens to match",
    }
    (poll_vote,) = data["poll_votes"]
    assert (poll_vote["choice"], bool(poll_vote["confirmed_at"])) == ("Sage", True)
    (review,) = data["reviews"]
    assert (review["title"], review["name"], review["order"]) == (
        "Soft and warm",
        "Ada L.",
        str(ada.order.number),
    )
    assert {"ORDER_PLACED", "POPUP_PLEDGE_PLEDGED", "POPUP_WAITLIST_CONFIRM"} <= {
        email["message"] for email in data["emails_sent"]
    }
    assert len(data["rate_limits"]) == 3  # questions from two spellings, the waitlist
    assert len(data["payment_messages"]) == 1
    assert all(language["language"] for language in data["poll_votes"] + data["idea_votes"])

    sent_before = len(mail.outbox)
    report = personal_data_erase(email="ada.lovelace@gmail.com")

    assert report.erased["orders"] == 1 and report.erased["pledges_cancelled"] == 1
    assert report.erased["waitlists"] == 1 and report.erased["questions"] == 2
    assert report.erased["idea_votes"] == 2 and report.erased["poll_votes"] == 1
    assert report.erased["reviews"] == 1 and report.erased["payment_messages"] == 1
    # Nothing names her in any table or in Redis; no e-mail went anywhere for her since.
    assert rows_naming(*NEEDLES) == {}
    assert redis_keys_naming("lovelace") == []
    assert mail.outbox[sent_before:] == []
    # The order stays for the accounts: its figures, lines and country, nobody's name or address.
    order = Order.objects.get(pk=ada.order.pk)
    assert order.total_incl_tax == total_before
    assert list(order.lines.values()) == lines_before
    assert order.guest_email.endswith("@erased.invalid") and order.status == "Shipped"
    address = order.shipping_address
    assert (address.country_id, address.first_name, address.line1, address.postcode) == (
        "FR",
        "",
        "",
        "",
    )
    # The pledge was withdrawn before anything was charged: its units are back on sale.
    erased_pledge = Pledge.objects.get(pk=ada.pledge.pk)
    assert erased_pledge.status == Pledge.Status.CANCELLED
    # Its history keeps every step, naming nobody.
    assert [event.note_text for event in erased_pledge.events.all()] == [
        "Card saved: …",
        "Cancelled by the backer.",
    ]
    assert PopUpProduct.objects.get(popup=ada.pledge.popup).units_sold == 1  # Grace's
    # What was published stays, its author gone; counts stay as they were.
    question = Question.objects.get(pk=ada.question.pk)
    assert question.body == "Is it soft enough for a baby? Write to me at …"
    assert (question.name, question.email, question.answer) == ("", "", "Yes, it is merino.")
    assert Idea.objects.get(pk=ada.idea.pk).votes == 2  # hers and Grace's
    assert Idea.objects.get(pk=grace.idea.pk).votes == 2
    assert list(PollOption.objects.order_by("pk").values_list("votes", flat=True)) == [1, 1]
    review = ProductReview.objects.get()
    assert (review.name, review.email, review.status) == ("A buyer", "", ProductReview.APPROVED)

    # Nothing is left to export, nothing to erase; Grace's data are all there, unchanged.
    assert all(rows == [] for rows in personal_data_export(email=ADA)["data"].values())
    assert personal_data_erase(email=ADA).total == 0
    assert without_date(personal_data_export(email=GRACE)) == grace_before


def test_the_command_exports_json_and_erases_whatever_the_letter_case():
    popup = popup_with_products(1)
    question_ask(
        popup=popup, body="Lavable à 30 °C ?", email="Ada@Example.com", name="Ada", client_ip=IP
    )
    idea = idea_post(popup=popup, title="Mittens to match", email=GRACE, client_ip=IP)
    idea_vote(idea=idea, email="ada@example.COM", client_ip=IP)

    output = run("export", "  ADA@example.com ")
    assert "Lavable à 30 °C ?" in output  # UTF-8, not \u escapes
    exported = json.loads(output)
    assert exported["email"] == "ADA@example.com"
    assert len(exported["data"]["questions"]) == len(exported["data"]["idea_votes"]) == 1

    dry = run("erase", "ADA@EXAMPLE.COM", "--dry-run")
    heading, *counts = dry.splitlines()
    assert heading == "Would erase for ADA@EXAMPLE.COM (nothing was changed):"
    assert {"  Questions: 1", "  Votes for ideas: 1", "  Rate-limit counters: 1"} <= set(counts)
    assert without_date(json.loads(run("export", "ada@example.com")))["data"] == exported["data"]

    with translation.override("fr"):
        erased = run("erase", "ada@example.com")
    heading, *counts = erased.splitlines()
    assert heading == "Effacé pour ada@example.com\u00a0:"
    assert {
        "  Questions\u00a0: 1",
        "  Votes pour des idées\u00a0: 1",
        "  Compteurs de limite de fréquence\u00a0: 1",
    } <= set(counts)
    assert len(counts) == len(dry.splitlines()) - 1  # what the dry run said, in French
    assert Idea.objects.get().votes == 2  # counted, named nobody: it stays
    assert run("erase", "ada@example.com").splitlines() == [
        "Erased for ada@example.com:",
        "  Nothing: the plugin holds nothing about this address.",
    ]


def test_an_unknown_address_exports_empty_lists_and_erases_nothing():
    popup = popup_with_products(1)
    question_ask(popup=popup, body="Warm?", email=GRACE, client_ip=IP)

    export = personal_data_export(email="nobody@example.org")
    assert export["email"] == "nobody@example.org"
    assert set(export["data"]) >= {"orders", "pledges", "waitlists", "questions", "poll_votes"}
    assert all(rows == [] for rows in export["data"].values())
    report = personal_data_erase(email="nobody@example.org")
    assert report.total == 0 and set(report.erased.values()) == {0}
    assert Question.objects.get().email == GRACE


@pytest.mark.parametrize("address", ["ada", "ada@", "@example.com", "ada@exa mple.com", ""])
def test_a_malformed_address_is_a_clear_error(address):
    with pytest.raises(CommandError, match="is not an e-mail address"):
        run("export", address)
    with pytest.raises(CommandError, match="is not an e-mail address"):
        run("erase", address)


def test_a_purchase_under_way_refuses_the_erasure_and_changes_nothing(localstripe):
    shop = popup_with_products(1)
    order = bought(localstripe, shop, ADA_DETAILS)  # Pending: still to be shipped
    presale, _candle = all_or_nothing()
    pledge = pledged(localstripe, presale, ADA_DETAILS)
    _move(pledge, Pledge.Status.FAILED, "declined")  # funded, its charge to be retried
    before = without_date(personal_data_export(email=ADA))

    with pytest.raises(ErasureRefused) as refused:
        personal_data_erase(email=ADA)
    first, second = refused.value.reasons
    assert first.startswith(f"Order {order.number} is still in progress (Pending)")
    assert second.startswith(
        f"The pledge {pledge.pk} in “{presale.title}” is a purchase under way (Payment failed)"
    )
    with pytest.raises(CommandError, match="Nothing was erased"):
        run("erase", ADA, "--dry-run")
    assert without_date(personal_data_export(email=ADA)) == before


def test_a_checkout_paid_minutes_ago_may_still_become_an_order_so_it_is_not_erased(localstripe):
    basket, _step = authorised_then_gone(localstripe)  # the settle task would make its order

    with pytest.raises(ErasureRefused) as refused:
        personal_data_erase(email="ada@example.com")
    (reason,) = refused.value.reasons
    assert reason.startswith(f"A payment in “{basket.popup.title}” may still become an order")
    basket.refresh_from_db()
    assert (basket.email, basket.shipping["last_name"]) == ("ada@example.com", "Lovelace")


def test_a_paid_pledge_is_kept_anonymous_and_its_order_minimised_once_shipped(localstripe):
    presale, _candle = all_or_nothing(presale_goal_units=1)
    backer = pledged(localstripe, presale, ADA_DETAILS, card=ADA_CARD)
    close(presale)
    settle(presale)
    backer.refresh_from_db()
    assert backer.status == Pledge.Status.PAID
    with pytest.raises(ErasureRefused, match=f"Order {backer.order.number} is still in progress"):
        personal_data_erase(email=ADA)

    shipped(backer.order)
    report = personal_data_erase(email=ADA)

    assert (report.erased["pledges"], report.erased["orders"]) == (1, 1)
    assert report.erased["pledges_cancelled"] == 0
    backer.refresh_from_db()
    assert backer.status == Pledge.Status.PAID and backer.email.endswith("@erased.invalid")
    assert (backer.shipping, backer.card_label, backer.email_key) == ({}, "", "")
    assert backer.order.guest_email == backer.email  # one placeholder: one backer still
    assert rows_naming(*NEEDLES) == {}


def test_one_mailbox_whatever_its_spelling_but_never_a_look_alike():
    popup = popup_with_products(1)
    mine = question_ask(popup=popup, body="Warm?", email="A.Da+shop@googlemail.com", client_ip=IP)
    # Cyrillic "а": the customer key reads it as Latin (one buyer, one limit); the mailbox is
    # someone else's.
    look_alike = Question.objects.create(popup=popup, body="Soft?", email="\u0430da@gmail.com")
    assert email_key(look_alike.email) == email_key("ada@gmail.com")
    assert mailbox_key(look_alike.email) != mailbox_key("ada@gmail.com")
    assert mailbox_key(mine.email) == mailbox_key("ADA@gmail.com")

    assert [
        q["question"] for q in personal_data_export(email="ada@gmail.com")["data"]["questions"]
    ] == ["Warm?"]
    assert personal_data_erase(email="ada@gmail.com").erased["questions"] == 1
    assert list(Question.objects.values_list("email", flat=True)) == ["\u0430da@gmail.com"]


def charge_message(email: str, *, processed: bool = True) -> StripeEvent:
    """Stripe's charge.succeeded for a payment of `email`, delivered to the store's webhook (and
    processed), or stored only, as the webhook stores it before its processing runs."""
    charge = {
        "id": f"ch_{uuid.uuid4().hex[:14]}",
        "object": "charge",
        "receipt_email": email,
        "billing_details": {"email": email, "name": email.partition("@")[0].title()},
    }
    payload = event_payload("charge.succeeded", charge)
    if processed:
        assert deliver(payload, signed(payload, WEBHOOK_SECRET)).status_code == 200
        return StripeEvent.objects.get(stripe_id=json.loads(payload)["id"])
    event = webhook_event_construct(payload=payload, signature=signed(payload, WEBHOOK_SECRET))
    return stripe_event_record(event=event)[0]


def test_a_payment_message_names_an_address_whole_never_one_that_holds_it():
    """nevada@example.com holds ada@example.com: Nevada's messages are not Ada's to export,
    to cut down, nor to wait for."""
    popup = popup_with_products(1)
    question_ask(popup=popup, body="Warm?", email="ada@example.com", client_ip=IP)
    ada = charge_message("Ada@Example.com")
    nevada = charge_message("nevada@example.com")
    waiting = charge_message("nevada@example.com", processed=False)
    assert ada.processed_at and nevada.processed_at and waiting.processed_at is None
    nevada_payloads = {event.pk: event.payload for event in (nevada, waiting)}

    exported = personal_data_export(email="ada@example.com")["data"]["payment_messages"]
    report = personal_data_erase(email="ada@example.com")  # Nevada's waiting one is not hers

    assert [message["id"] for message in exported] == [ada.stripe_id]
    assert (report.erased["payment_messages"], report.erased["questions"]) == (1, 1)
    ada.refresh_from_db()
    assert ada.payload["erased"] and "ada" not in json.dumps(ada.payload).lower()
    assert {
        event.pk: event.payload for event in StripeEvent.objects.exclude(pk=ada.pk)
    } == nevada_payloads


def test_the_ad_click_id_leaves_the_order_s_note_with_the_basket_s_data(localstripe):
    shop = popup_with_products(1)
    click = {"fbclid": "IwAR0grace7Kq", "cart_origin": "facebook"}
    order = bought(localstripe, shop, ADA_DETAILS, ad_click=click)
    assert "fbclid=IwAR0grace7Kq" in order.notes.get().message
    PopUp.objects.filter(pk=shop.pk).update(
        opens_at=timezone.now() - timedelta(days=60), closes_at=timezone.now() - timedelta(days=31)
    )

    assert personal_data_expire().closed_baskets == 1

    assert "IwAR0grace7Kq" not in order.notes.get().message
    assert order.notes.get().message.endswith("Ad click: cart_origin=facebook, fbclid=…")
    assert PopUpBasket.objects.get(order=order).ad_click == {}
