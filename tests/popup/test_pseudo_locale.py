"""The pseudo-locale test (issue 17): in "qps", a language whose every message is its English
wrapped in ⟦ ⟧, no text a shopper meets may be left unwrapped: not on a page in any of its states,
not in an API's refusal, not in an e-mail. What is not ours to translate is allowed by name: the
pop-up's and the products' own texts, what shoppers and the merchant wrote, the shop's name, brand
names, and the names of the languages in the switch (each written in itself).

The catalogue is made from the French ones: the plugin's (every message wrapped) and those of the
apps it builds on, Django and Oscar (the messages they translate into French wrapped, since a French
shopper reads those in French too). So Django's month names and form errors count as translated
here, and an English month name left on a page is one no catalogue could translate (a strftime).
"""

import importlib
import io
import json
import re
from collections.abc import Callable, Iterable
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import django
import oscar
import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import F
from django.test import override_settings
from django.utils import timezone, translation
from django.utils.translation import gettext
from oscar.core.loading import get_model
from oscar.test.factories import create_order

from popup.checkout.services import checkout_pay
from popup.core.holds import basket_create, hold_set
from popup.models import (
    Ambassador,
    Idea,
    IdeaVote,
    Placement,
    Pledge,
    PledgeEvent,
    PledgeLine,
    Poll,
    PollOption,
    PollVote,
    PopUp,
    PopUpBasket,
    PopUpProduct,
    Question,
    ReviewInvite,
    VerifiedReview,
)
from popup.notifications.emails import email_messages
from tests.factories import PopUpFactory, create_product
from tests.integrations.stripe.support import card_token
from tests.popup.checkout.support import SHOPPER

Country = get_model("address", "Country")
ProductAlert = get_model("customer", "ProductAlert")
ProductReview = get_model("reviews", "ProductReview")

# Orders are placed as the checkout places them, committed (popup.checkout.services).
pytestmark = pytest.mark.django_db(transaction=True)

PSEUDO = "qps"
OPEN, CLOSE = "⟦", "⟧"
ROOT = Path(settings.BASE_DIR)
# The plugin's catalogues, wherever its packages keep them: every message in them is its own.
OWN_CATALOGUES = sorted(
    path
    for package in ("popup", "integrations")
    for path in (ROOT / package).glob("**/locale/fr/LC_MESSAGES/django.po")
)
# The catalogues of what the plugin builds on: their French messages reach French shoppers too.
FRAMEWORK_CATALOGUES = [
    Path(django.__file__).parent / "conf" / "locale" / "fr" / "LC_MESSAGES" / "django.po",
    Path(oscar.__file__).parent / "locale" / "fr" / "LC_MESSAGES" / "django.po",
]

# Written as they are in every language: brands, and the switch's language names, each in itself.
BRANDS = ("WhatsApp", "Messenger", "Instagram", "Facebook", "Stripe", "Visa", "X")
LANGUAGE_NAMES = ("English", "Français", PSEUDO, PSEUDO.capitalize())


# --- The pseudo-locale ---------------------------------------------------------------------------


def wrapped(text: str) -> str:
    return f"{OPEN}{text}{CLOSE}"


def pseudo_catalogue() -> Catalog:
    """Every French message of the plugin, and every message Django and Oscar translate into
    French, with its English wrapped in markers (placeholders and contexts kept)."""
    catalogue = Catalog(locale=None, domain="django")  # two plural forms, as English has
    sources = [(path, False) for path in FRAMEWORK_CATALOGUES]
    sources += [(path, True) for path in OWN_CATALOGUES]  # last: the plugin's own win
    for path, every_message in sources:
        with path.open("rb") as po, redirect_stdout(io.StringIO()):  # Babel's warnings
            french = read_po(po)
        for message in french:
            if not message.id:
                continue
            translated = all(message.string) if message.pluralizable else message.string
            if not every_message and (message.fuzzy or not translated):
                continue
            if message.pluralizable:
                singular, plural = message.id[0], message.id[1]
                string = (wrapped(singular), wrapped(plural))
            else:
                string = wrapped(message.id)
            catalogue.add(message.id, string, context=message.context, flags=message.flags)
    return catalogue


@pytest.fixture(scope="module", autouse=True)
def pseudo_locale(tmp_path_factory):
    """The "qps" catalogue in LOCALE_PATHS, and "qps" among the languages pop-ups offer.

    Changing LOCALE_PATHS sends `setting_changed`, on which Django's test signals
    (django.test.signals.language_changed) forget the loaded catalogues and the active language,
    on the way in and on the way out: no catalogue of "qps" outlives this module."""
    root = tmp_path_factory.mktemp("pseudo-locale")
    folder = root / PSEUDO / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "django.mo").open("wb") as mo:
        write_mo(mo, pseudo_catalogue())
    # Babel knows no "qps", and Oscar's `currency` filter formats by the active language's
    # locale: prices are written as in the store's own language.
    currencies = {code: {"locale": "en_GB"} for code in ("EUR", "GBP", "CHF", "CAD", "USD")}
    with override_settings(
        LOCALE_PATHS=[str(root)],
        POPUP_LANGUAGES=("en-gb", "fr", PSEUDO),
        OSCAR_CURRENCY_FORMAT=currencies,
    ):
        yield


# --- What a person reads -------------------------------------------------------------------------

# Attributes a person meets: read aloud, shown on hover, in an empty field, on a button.
READ_ATTRIBUTES = {
    "alt",
    "title",
    "placeholder",
    "label",
    "aria-label",
    "aria-description",
    "aria-roledescription",
    "aria-valuetext",
}
BUTTON_INPUTS = {"submit", "button", "reset"}
# data-* attributes that carry codes, addresses or numbers for scripts, never words to show.
DATA_NOT_TEXT = {"data-languages"}
SEPARATOR = "\x1f"  # between text nodes, so that a message split by its tags is one piece


@dataclass
class Visible:
    """What a person reads in one HTML document: its text (text nodes in document order, joined
    by SEPARATOR), each attribute's text, and each text of the page's scripts (#popup-text)."""

    text: str = ""
    attributes: list[tuple[str, str]] = field(default_factory=list)
    script_texts: dict[str, str] = field(default_factory=dict)


# Elements whose content is not read as prose: scripts, styles, code to paste, what was typed.
NOT_PROSE = {"script", "style", "code", "textarea"}
# <meta> whose content shows in link previews.
PREVIEW_META = {"og:title", "og:description", "og:image:alt", "description", "twitter:title"}


def read_attribute(tag: str, name: str, attributes: dict[str, str]) -> bool:
    """Whether a person reads this attribute's value: one of READ_ATTRIBUTES, a button's value, a
    link preview's text, or a data-* text a script shows."""
    if name in READ_ATTRIBUTES:
        return True
    if name == "value":
        return tag == "input" and attributes.get("type") in BUTTON_INPUTS
    if name == "content":
        return (
            tag == "meta" and (attributes.get("property") or attributes.get("name")) in PREVIEW_META
        )
    return (
        name.startswith("data-") and name not in DATA_NOT_TEXT and looks_like_text(attributes[name])
    )


class VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.visible = Visible()
        self.nodes: list[str] = []
        self.not_prose: list[str] = []  # the NOT_PROSE elements open around the parser
        self.script_json: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        for name, value in attributes.items():
            if read_attribute(tag, name, attributes):
                self.visible.attributes.append((f"<{tag} {name}>", value))
        if tag in NOT_PROSE:
            self.not_prose.append(tag)
            if attributes.get("id") == "popup-text":
                self.script_json = []

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in self.not_prose:
            del self.not_prose[len(self.not_prose) - 1 - self.not_prose[::-1].index(tag) :]
        if tag == "script" and self.script_json is not None:
            self.visible.script_texts = json.loads("".join(self.script_json))
            self.script_json = None

    def handle_data(self, data):
        if self.script_json is not None:
            self.script_json.append(data)
        elif not self.not_prose:
            self.nodes.append(data)

    def close(self):
        super().close()
        self.visible.text = SEPARATOR.join(self.nodes)


def looks_like_text(value: str) -> bool:
    """A data-* value a script may show: words (a space between letters, or a capitalised
    word), not a code, an address, a number or a date."""
    if "://" in value or value.startswith(("/", "?", "#")):
        return False
    return bool(re.search(r"[^\W\d_]\s+\S", value) or re.fullmatch(r"[A-Z][a-z]+\W?", value))


def visible_in(html: str) -> Visible:
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    return parser.visible


# --- What escaped translation ---------------------------------------------------------------------

INNERMOST = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
TRANSLATED = "▪"  # where a wrapped message was, in what is reported


def unwrapped(text: str) -> str:
    """`text` with each wrapped message as TRANSLATED (innermost first: a message may hold
    another, and a message split by its tags into several text nodes is one again)."""
    while True:
        text, found = INNERMOST.subn(TRANSLATED, text)
        if not found:
            return text


def escaped_pieces(text: str, allowed: Iterable[str]) -> list[str]:
    """The pieces of `text` (split at SEPARATOR) that still hold a letter once their wrapped
    messages and the `allowed` texts are taken out."""
    allowed = sorted({a for a in allowed if a}, key=len, reverse=True)
    pieces = []
    for piece in unwrapped(text).split(SEPARATOR):
        rest = piece
        for text_allowed in allowed:
            rest = rest.replace(text_allowed, "")
        if any(character.isalpha() for character in rest):
            pieces.append(" ".join(piece.split()))
    return pieces


def escapes_in_html(html: str, allowed: Iterable[str]) -> list[str]:
    """Every text of an HTML document that escaped translation, saying where it was met."""
    allowed = set(allowed)
    visible = visible_in(html)
    found = [f"text: {piece!r}" for piece in escaped_pieces(visible.text, allowed)]
    for where, value in visible.attributes:
        found += [f"{where}: {piece!r}" for piece in escaped_pieces(value, allowed)]
    for key, value in visible.script_texts.items():
        if not (value.startswith(OPEN) and value.endswith(CLOSE)):
            found.append(f"#popup-text {key}: {value!r}")
    return found


def escapes_in_json(payload, allowed: Iterable[str], keys=("error", "message", "errors")):
    """Every text under `keys` (at any depth) of a JSON answer that escaped translation."""
    found = []

    def visit(value, path: str, counted: bool):
        if isinstance(value, dict):
            for key, item in value.items():
                visit(item, f"{path}.{key}", counted or key in keys)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                visit(item, f"{path}[{index}]", counted)
        elif counted and isinstance(value, str):
            found.extend(f"{path}: {piece!r}" for piece in escaped_pieces(value, allowed))

    visit(payload, "", False)
    return found


def allowed_for(*popups: PopUp) -> set[str]:
    """What a page of these pop-ups may show untranslated: their own texts and their products',
    what shoppers and the merchant wrote there, the shop's name, brands and language names."""
    allowed = {settings.OSCAR_SHOP_NAME, *BRANDS, *LANGUAGE_NAMES}
    allowed |= {country.printable_name for country in Country.objects.all()}
    for popup in popups:
        allowed |= {popup.title, popup.tagline, popup.description, popup.slug}
        for terms in popup.product_terms.select_related("product"):
            allowed.add(terms.product.get_title())
        for question in popup.questions.all():
            allowed |= {question.name, question.body, question.answer}
        for idea in popup.ideas.all():
            allowed |= {idea.title, idea.body, idea.name}
        for review in ProductReview.objects.filter(product__popup_terms__popup=popup):
            allowed |= {review.title, review.body, review.name}
        for placement in popup.placements.select_related("ambassador"):
            allowed.add(placement.name)
            if placement.ambassador is not None:
                allowed |= {placement.ambassador.name, placement.ambassador.code}
        for poll in popup.polls.all():
            allowed.add(poll.question)
            allowed |= {option.label for option in poll.options.all()}
    return allowed


def with_lang(path: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}lang={PSEUDO}"


# --- The pop-ups and what shoppers did there ------------------------------------------------------


def a_drop(
    *,
    opens_in: timedelta | None = None,
    closed: bool = False,
    sold_out: bool = False,
    feedback: bool = True,
    **popup_fields,
) -> PopUp:
    """A published pop-up showing all it can: a discounted product, one with no cap, contact
    links, a description; and, with `feedback`, an answered question, ideas, a poll and a
    verified review."""
    now = timezone.now()
    if opens_in is not None:
        popup_fields |= {
            "opens_at": now + opens_in,
            "closes_at": now + opens_in + timedelta(days=2),
        }
    if closed:
        popup_fields |= {"opens_at": now - timedelta(days=3), "closes_at": now - timedelta(hours=1)}
    popup = PopUpFactory(
        title="Aurora knitwear",
        tagline="Hand-dyed, 50 pieces only",
        description="Knitted in Lyon from undyed merino.",
        whatsapp_number="+33612345678",
        messenger_username="ateliernord",
        instagram_username="atelier.nord",
        **popup_fields,
    )
    scarf = create_product(title="Indigo scarf", price=Decimal("40.00"), image=True)
    tote = create_product(title="Linen tote", price=Decimal("30.00"))
    popup.range.add_product(scarf)
    popup.range.add_product(tote)
    # The scarf at a pop-up price below its regular one; the tote capped only by its stock,
    # unless the drop sells out (a drop with an uncapped product never does).
    PopUpProduct.objects.create(popup=popup, product=scarf, units_offered=5, price=Decimal("25.00"))
    PopUpProduct.objects.create(
        popup=popup, product=tote, units_offered=3 if sold_out else None, display_order=1
    )
    if sold_out:
        PopUpProduct.objects.filter(popup=popup).update(units_sold=F("units_offered"))
    if feedback:
        feedback_given(popup, scarf)
    return popup


def feedback_given(popup: PopUp, product) -> None:
    """What shoppers and the merchant wrote on the pop-up: every feedback section shows."""
    Question.objects.create(
        popup=popup,
        product=product,
        email="ada@example.com",
        name="Ada",
        body="Is the wool itchy?",
        answer="Not at all: it is merino.",
        answered_at=timezone.now(),
        status=Question.Status.PUBLISHED,
    )
    Question.objects.create(
        popup=popup,
        email="grace@example.com",
        body="Do you ship to Belgium?",
        answer="Yes, in three days.",
        answered_at=timezone.now(),
        status=Question.Status.PUBLISHED,
    )
    for title, status in (("A sage-green scarf", Idea.Status.OPEN), ("Mittens", Idea.Status.DONE)):
        idea = Idea.objects.create(
            popup=popup, title=title, body="Same wool, please.", email="ada@example.com"
        )
        Idea.objects.filter(pk=idea.pk).update(status=status, votes=2)
    poll = Poll.objects.create(popup=popup, question="Which colour next?")
    sage = PollOption.objects.create(poll=poll, label="Sage", votes=3)
    PollOption.objects.create(poll=poll, label="Rust", votes=1, display_order=1)
    PollVote.objects.create(poll=poll, option=sage, email="ada@example.com")
    closed_poll = Poll.objects.create(popup=popup, question="Which size?", is_open=False)
    PollOption.objects.create(poll=closed_poll, label="Small", votes=2)
    PollOption.objects.create(poll=closed_poll, label="Large", votes=5, display_order=1)
    verified_review(popup, product)


def verified_review(popup: PopUp, product) -> None:
    invite = ReviewInvite.objects.create(order=create_order(), popup=popup)
    review = ProductReview.objects.create(
        product=product,
        score=5,
        title="Warm and soft",
        body="Worn every day since.",
        name="Grace",
        email="grace@example.com",
        status=ProductReview.APPROVED,
    )
    VerifiedReview.objects.create(invite=invite, product=product, review=review, quality=5)


def pledged_on(popup: PopUp, *, status=Pledge.Status.PLEDGED, **fields) -> Pledge:
    """A backer's pledge for two of the pop-up's first product (as popup.presales makes them)."""
    terms = PopUpProduct.objects.filter(popup=popup).select_related("product").first()
    pledge = Pledge.objects.create(
        popup=popup,
        email="ada@example.com",
        currency="EUR",
        amount=Decimal("55.00"),
        shipping_charge=Decimal("5.00"),
        card_label="Visa •••• 4242",
        status=status,
        **fields,
    )
    PledgeLine.objects.create(pledge=pledge, terms=terms, quantity=2, unit_price=Decimal("25.00"))
    PledgeEvent.objects.create(pledge=pledge, status_from="", status_to=Pledge.Status.PLEDGED)
    if status != Pledge.Status.PLEDGED:
        PledgeEvent.objects.create(
            pledge=pledge, status_from=Pledge.Status.PLEDGED, status_to=status
        )
    return pledge


def a_presale(funding=PopUp.Funding.ALL_OR_NOTHING, **fields) -> PopUp:
    popup = a_drop(
        kind=PopUp.Kind.PRESALE,
        presale_funding=funding,
        presale_ships_on=date(2031, 6, 1),
        **{"presale_goal_units": 10, **fields},
    )
    pledged_on(popup)
    return popup


def basket_of(popup: PopUp, quantity: int = 2) -> PopUpBasket:
    basket = basket_create(popup=popup)
    scarf = PopUpProduct.objects.filter(popup=popup).first().product
    hold_set(basket=basket, product_id=scarf.pk, quantity=quantity)
    return basket


def ordered_from(popup: PopUp, localstripe) -> PopUpBasket:
    basket = basket_of(popup)
    checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe))
    basket.refresh_from_db()
    return basket


# --- Every page, in every state -------------------------------------------------------------------


@dataclass
class Shown:
    """One page as a shopper gets it (and, for a pop-up's page, its live call), with what it may
    show untranslated."""

    html: str
    allowed: set[str]
    live: dict | None = None


def get(client, path: str, *, status: int = 200, **headers) -> str:
    response = client.get(with_lang(path), **headers)
    assert response.status_code == status, f"{path}: {response.status_code}"
    return response.content.decode()


def live_call(client, popup: PopUp, query: str = "") -> dict:
    """The call the page's script makes on arrival, in the page's language."""
    path = f"/popup/{popup.slug}/live/?view=page" + (f"&{query}" if query else "")
    response = client.get(with_lang(path), HTTP_ACCEPT_LANGUAGE=PSEUDO)
    assert response.status_code == 200, response.content
    return response.json()


# A pop-up's states: how to make it, and the query of the shopper's arrival.
POPUP_STATES: dict[str, tuple[Callable[[], PopUp], str]] = {
    "coming soon": (lambda: a_drop(opens_in=timedelta(days=1)), ""),
    "live": (a_drop, ""),
    "live, every unit in baskets": (lambda: all_in_baskets(a_drop()), ""),
    "sold out": (lambda: a_drop(sold_out=True), ""),
    "closed": (lambda: a_drop(closed=True), ""),
    "pre-sale, all or nothing": (a_presale, ""),
    "pre-sale, flexible, a money goal": (
        lambda: a_presale(
            PopUp.Funding.FLEXIBLE, presale_goal_units=None, presale_goal_amount=Decimal("900")
        ),
        "",
    ),
    "pre-sale, funded and closed": (
        lambda: a_presale(presale_outcome=PopUp.Outcome.FUNDED, closed=True),
        "",
    ),
    "event only, unlocked by its code": (
        lambda: a_drop(event_only=True, unlock_code="GALA26"),
        "code=GALA26",
    ),
    "arrived through an ambassador": (lambda: with_ambassador(a_drop()), "pl=SOPHIE"),
}


def all_in_baskets(popup: PopUp) -> PopUp:
    basket_of(popup, quantity=5)
    return popup


def with_ambassador(popup: PopUp) -> PopUp:
    ambassador = Ambassador.objects.create(
        name="Sophie", email="sophie@example.com", code="SOPHIE10", discount_percent=10
    )
    Placement.objects.create(popup=popup, name="Sophie", code="SOPHIE", ambassador=ambassador)
    return popup


PAGES: dict[str, Callable[..., Shown]] = {}


def page(name: str):
    def register(build):
        PAGES[name] = build
        return build

    return register


def popup_page(state: str, view: str):
    make, query = POPUP_STATES[state]

    def build(client, localstripe) -> Shown:
        popup = make()
        path = f"/popup/{popup.slug}/" + ("embed/" if view == "embed" else "")
        html = get(client, f"{path}?{query}" if query else path)
        return Shown(html, allowed_for(popup), live=live_call(client, popup, query))

    return build


for _state in POPUP_STATES:
    for _view in ("page", "embed"):
        page(f"pop-up {_view}, {_state}")(popup_page(_state, _view))


@page("pop-up page, draft (the staff's preview)")
def _draft(client, localstripe) -> Shown:
    popup = a_drop(is_published=False)
    staff = get_user_model().objects.create_user("staff", "staff@example.com", "x", is_staff=True)
    client.force_login(staff)
    return Shown(get(client, f"/popup/{popup.slug}/"), allowed_for(popup))


@page("pop-up page, event only, locked")
def _locked(client, localstripe) -> Shown:
    popup = a_drop(event_only=True, unlock_code="GALA26")
    return Shown(get(client, f"/popup/{popup.slug}/"), allowed_for(popup))


@page("pop-up embed, event only, a wrong code")
def _refused(client, localstripe) -> Shown:
    popup = a_drop(event_only=True, unlock_code="GALA26")
    html = get(client, f"/popup/{popup.slug}/embed/?code=WRONG", status=403)
    return Shown(html, allowed_for(popup))


@page("checkout, a basket with items")
def _checkout(client, localstripe) -> Shown:
    basket = basket_of(a_drop())
    return Shown(get(client, f"/popup/checkout/{basket.token}/"), allowed_for(basket.popup))


@page("checkout, the hold lapsed")
def _checkout_lapsed(client, localstripe) -> Shown:
    basket = basket_of(a_drop())
    basket.holds.update(reserved_until=timezone.now() - timedelta(minutes=1))
    return Shown(get(client, f"/popup/checkout/{basket.token}/"), allowed_for(basket.popup))


@page("checkout, an empty basket")
def _checkout_empty(client, localstripe) -> Shown:
    basket = basket_create(popup=a_drop())
    return Shown(get(client, f"/popup/checkout/{basket.token}/"), allowed_for(basket.popup))


@page("checkout, a pledge")
def _checkout_pledge(client, localstripe) -> Shown:
    basket = basket_of(a_presale())
    return Shown(get(client, f"/popup/checkout/{basket.token}/"), allowed_for(basket.popup))


@page("checkout, a pledge charged at the goal")
def _checkout_pledge_goal(client, localstripe) -> Shown:
    basket = basket_of(a_presale(presale_charge_when=PopUp.ChargeWhen.GOAL))
    return Shown(get(client, f"/popup/checkout/{basket.token}/"), allowed_for(basket.popup))


@page("done, an order")
def _done(client, localstripe) -> Shown:
    basket = ordered_from(a_drop(), localstripe)
    return Shown(get(client, f"/popup/checkout/{basket.token}/done/"), allowed_for(basket.popup))


@page("done, a pre-order")
def _done_preorder(client, localstripe) -> Shown:
    basket = ordered_from(a_presale(PopUp.Funding.FLEXIBLE), localstripe)
    return Shown(get(client, f"/popup/checkout/{basket.token}/done/"), allowed_for(basket.popup))


PLEDGE_STATES = {
    "pledged": {},
    "charging": {"status": Pledge.Status.CHARGING},
    "failed": {
        "status": Pledge.Status.FAILED,
        "failure_message": "Your card was declined.",
        "next_retry_at": timezone.now() + timedelta(days=2),
    },
    "retrying": {"status": Pledge.Status.RETRYING, "attempts": 2},
    "dropped": {"status": Pledge.Status.DROPPED},
    "cancelled": {"status": Pledge.Status.CANCELLED},
}


def pledge_page(state: str):
    def build(client, localstripe) -> Shown:
        pledge = pledged_on(a_presale(), **PLEDGE_STATES[state])
        return Shown(get(client, f"/popup/pledge/{pledge.token}/"), allowed_for(pledge.popup))

    return build


for _state in PLEDGE_STATES:
    page(f"pledge, {_state}")(pledge_page(_state))


@page("pledge, paid")
def _pledge_paid(client, localstripe) -> Shown:
    popup = a_presale(PopUp.Funding.ALL_OR_NOTHING, presale_outcome=PopUp.Outcome.FUNDED)
    order = ordered_from(popup, localstripe).order
    pledge = pledged_on(popup, status=Pledge.Status.PAID, order=order)
    return Shown(get(client, f"/popup/pledge/{pledge.token}/"), allowed_for(popup))


@page("pledge, a quantity refused")
def _pledge_refused(client, localstripe) -> Shown:
    pledge = pledged_on(a_presale())
    line = pledge.lines.get()
    response = client.post(
        with_lang(f"/popup/pledge/{pledge.token}/lines/{line.pk}/"), {"quantity": "many"}
    )
    assert response.status_code == 400
    return Shown(response.content.decode(), allowed_for(pledge.popup))


@page("pledge, a cancellation refused")
def _pledge_not_cancelled(client, localstripe) -> Shown:
    pledge = pledged_on(a_presale(), status=Pledge.Status.CHARGING)
    response = client.post(with_lang(f"/popup/pledge/{pledge.token}/cancel/"))
    assert response.status_code == 409
    return Shown(response.content.decode(), allowed_for(pledge.popup))


def invited(localstripe) -> ReviewInvite:
    basket = ordered_from(a_drop(feedback=False), localstripe)
    return ReviewInvite.objects.create(order=basket.order, popup=basket.popup)


@page("review, invited")
def _review(client, localstripe) -> Shown:
    invite = invited(localstripe)
    return Shown(get(client, f"/popup/review/{invite.token}/"), allowed_for(invite.popup))


@page("review, reviewed")
def _reviewed(client, localstripe) -> Shown:
    invite = invited(localstripe)
    product = invite.order.lines.get().product_id
    form = {"score": "4", "title": "Warm and soft", "body": "Worn every day since."}
    response = client.post(with_lang(f"/popup/review/{invite.token}/{product}/"), form)
    assert response.status_code == 302
    allowed = allowed_for(invite.popup) | set(form.values())
    return Shown(get(client, f"/popup/review/{invite.token}/"), allowed)


def review_refused(form: dict):
    def build(client, localstripe) -> Shown:
        invite = invited(localstripe)
        product = invite.order.lines.get().product_id
        response = client.post(with_lang(f"/popup/review/{invite.token}/{product}/"), form)
        assert response.status_code == 400
        allowed = allowed_for(invite.popup) | {value for value in form.values() if value.strip()}
        return Shown(response.content.decode(), allowed)

    return build


REVIEW_REFUSALS = {
    "no score": {"score": "9", "title": "Warm", "body": "Soft"},
    "no title": {"score": "4", "title": " ", "body": "Soft"},
    "too long": {"score": "4", "title": "t" * 256, "body": "Soft"},
    "an aspect out of range": {"score": "4", "title": "Warm", "body": "Soft", "aspect-value": "9"},
}
for _refusal, _form in REVIEW_REFUSALS.items():
    page(f"review, refused: {_refusal}")(review_refused(_form))


@page("poll vote confirmed")
def _vote_confirmed(client, localstripe) -> Shown:
    popup = a_drop()
    vote = PollVote.objects.get(poll__popup=popup)
    return Shown(get(client, f"/popup/vote/{vote.token}/"), allowed_for(popup))


@page("ambassador")
def _ambassador(client, localstripe) -> Shown:
    popup = with_ambassador(a_drop())
    ambassador = Ambassador.objects.get()
    allowed = allowed_for(popup) | {ambassador.name, ambassador.code}
    return Shown(get(client, f"/popup/ambassador/{ambassador.token}/"), allowed)


@page("ambassador, nothing to share")
def _ambassador_alone(client, localstripe) -> Shown:
    ambassador = Ambassador.objects.create(name="Sophie", email="s@example.com", code="SOPHIE10")
    allowed = allowed_for() | {ambassador.name, ambassador.code}
    return Shown(get(client, f"/popup/ambassador/{ambassador.token}/"), allowed)


def checkout_link_of(popup: PopUp, *extra: str) -> tuple[str, set[str]]:
    """A checkout link naming the pop-up's products (2 each) and `extra` ids; the ids, shown."""
    ids = [f"popup{terms.popup_id}-{terms.product_id}" for terms in popup.product_terms.all()]
    products = ",".join([f"{content_id}:2" for content_id in ids] + [f"{i}:1" for i in extra])
    return products, {*ids, *extra}


@page("checkout link")
def _checkout_link(client, localstripe) -> Shown:
    popup = a_drop()
    closed = a_drop(closed=True)
    products, ids = checkout_link_of(popup, "12345", "popup0-0")
    more, more_ids = checkout_link_of(closed)
    query = f"products={products},{more}," + ",".join(f"x{n}:1" for n in range(30))
    allowed = allowed_for(popup, closed) | ids | more_ids | {f"x{n}" for n in range(20)}
    return Shown(get(client, f"/popup/checkout-link/?{query}&coupon=SUMMER"), allowed)


@page("checkout link, partly held")
def _checkout_link_held(client, localstripe) -> Shown:
    popup = a_drop(sold_out=True)
    products, ids = checkout_link_of(popup)
    response = client.post(
        with_lang("/popup/checkout-link/"), {"products": products, "popup": popup.pk}, follow=True
    )
    assert response.status_code == 200 and response.redirect_chain, response.status_code
    return Shown(response.content.decode(), allowed_for(popup) | ids)


@pytest.mark.usefixtures("stripe_settings", "france")
@pytest.mark.parametrize("name", list(PAGES))
def test_no_text_on_a_page_escapes_translation(name, client, localstripe):
    shown = PAGES[name](client, localstripe)

    assert OPEN in shown.html, f"{name} is not in the pseudo-locale"
    found = escapes_in_html(shown.html, shown.allowed)
    if shown.live is not None:
        live = shown.live
        found += escapes_in_json(live, shown.allowed, keys=("state_label", "notices", "error"))
        found += [
            f"live presale_html {escape}"
            for escape in escapes_in_html(live.get("presale_html", ""), shown.allowed)
        ]
    assert not found, f"{name}: {len(found)} escaped translation:\n" + "\n".join(found)


# --- Every API's refusals ------------------------------------------------------------------------


@dataclass
class Call:
    """A bad request to a JSON endpoint, as the pop-up's scripts send them (in the page's
    language, by Accept-Language)."""

    label: str
    path: str
    body: object = None  # a JSON value, or bytes sent as they are
    token: str = ""  # the basket's, in X-Popup-Basket

    def send(self, client):
        data = self.body if isinstance(self.body, bytes) else json.dumps(self.body or {})
        headers = {"HTTP_ACCEPT_LANGUAGE": PSEUDO}
        if self.token:
            headers["HTTP_X_POPUP_BASKET"] = self.token
        return client.post(self.path, data, content_type="application/json", **headers)


def basket_calls() -> tuple[list[Call], set[str]]:
    popup = a_drop(feedback=False)
    scarf = PopUpProduct.objects.filter(popup=popup).first().product
    lines = f"/popup/{popup.slug}/basket/lines/"
    basket, empty = basket_of(popup), basket_create(popup=popup)
    closed = a_drop(closed=True, feedback=False)
    soon = a_drop(opens_in=timedelta(days=1), feedback=False)
    calls = [
        Call("not JSON", lines, b"{oops"),
        Call("not an object", lines, b"[1]"),
        Call("a quantity in words", lines, {"product": scarf.pk, "quantity": "two"}),
        Call("an unknown product", lines, {"product": 999999, "quantity": 1}),
        Call("too many", lines, {"product": scarf.pk, "quantity": 500}),
        Call("more than there is", lines, {"product": scarf.pk, "quantity": 9}, basket.token),
        Call(
            "a closed pop-up",
            f"/popup/{closed.slug}/basket/lines/",
            {"product": closed.product_terms.first().product_id, "quantity": 1},
        ),
        Call(
            "a pop-up not open yet",
            f"/popup/{soon.slug}/basket/lines/",
            {"product": soon.product_terms.first().product_id, "quantity": 1},
        ),
        Call("more time, nothing held", f"/popup/{popup.slug}/basket/time/", {}, empty.token),
    ]
    return calls, allowed_for(popup, closed, soon)


def feedback_calls() -> tuple[list[Call], set[str]]:
    popup = a_drop()
    scarf = PopUpProduct.objects.filter(popup=popup).first().product
    base = f"/popup/{popup.slug}"
    poll = Poll.objects.get(popup=popup, is_open=True)
    closed_poll = Poll.objects.get(popup=popup, is_open=False)
    idea = Idea.objects.filter(popup=popup).first()
    calls = [
        Call("waitlist, a bad e-mail", f"{base}/waitlist/", {"product": scarf.pk, "email": "no"}),
        Call("waitlist, no e-mail", f"{base}/waitlist/", {"product": scarf.pk}),
        Call("waitlist, no product", f"{base}/waitlist/", {"email": "ada@example.com"}),
        Call("question, empty", f"{base}/questions/", {"body": "", "email": "ada@example.com"}),
        Call("question, a bad e-mail", f"{base}/questions/", {"body": "Wool?", "email": "no"}),
        Call("question, too long", f"{base}/questions/", {"body": "w" * 1200, "email": "a@b.fr"}),
        Call("idea, no title", f"{base}/ideas/", {"title": "", "email": "ada@example.com"}),
        Call("idea, not text", f"{base}/ideas/", {"title": 5, "email": "ada@example.com"}),
        Call("idea vote, unknown idea", f"{base}/ideas/999999/vote/", {"email": "a@b.fr"}),
        Call("idea vote, a bad e-mail", f"{base}/ideas/{idea.pk}/vote/", {"email": "no"}),
        Call(
            "poll vote, unknown option",
            f"{base}/polls/{poll.pk}/vote/",
            {"option": 999999, "email": "ada@example.com"},
        ),
        Call(
            "poll vote, a bad e-mail",
            f"{base}/polls/{poll.pk}/vote/",
            {"option": poll.options.first().pk, "email": "no"},
        ),
        Call(
            "poll vote, a closed poll",
            f"{base}/polls/{closed_poll.pk}/vote/",
            {"option": closed_poll.options.first().pk, "email": "ada@example.com"},
        ),
    ]
    return calls, allowed_for(popup)


def checkout_calls() -> tuple[list[Call], set[str]]:
    basket = basket_of(a_drop(feedback=False))
    pledging = basket_of(a_presale(feedback=False))
    pledge = pledged_on(pledging.popup)
    details = {**SHOPPER.__dict__, "email": "no"}
    calls = [
        Call("pay, nothing filled in", f"/popup/checkout/{basket.token}/pay/", {}),
        Call("pay, a bad e-mail and no card", f"/popup/checkout/{basket.token}/pay/", details),
        Call("complete, no payment", f"/popup/checkout/{basket.token}/complete/", {}),
        Call("pledge, nothing filled in", f"/popup/checkout/{pledging.token}/pledge/", {}),
        Call("pledged, no card", f"/popup/checkout/{pledging.token}/pledged/", {}),
        Call("pledge card saved, no card", f"/popup/pledge/{pledge.token}/card/saved/", {}),
        Call("pledge pay, not failed", f"/popup/pledge/{pledge.token}/pay/", {}),
        Call("pledge paid, no payment", f"/popup/pledge/{pledge.token}/pay/complete/", {}),
    ]
    return calls, allowed_for(basket.popup, pledging.popup)


API_FAMILIES = {
    "basket": basket_calls,
    "feedback": feedback_calls,
    "checkout and pledges": checkout_calls,
}


@pytest.mark.usefixtures("stripe_settings", "france")
@pytest.mark.parametrize("family", list(API_FAMILIES))
def test_no_api_refusal_escapes_translation(family, client):
    calls, allowed = API_FAMILIES[family]()

    found = []
    for call in calls:
        response = call.send(client)
        where = f"{call.label} ({response.status_code})"
        if response.status_code < 400 or response.get("Content-Type") != "application/json":
            found.append(f"{where}: not a JSON refusal: {response.content[:120]!r}")
            continue
        answer = response.json()
        if OPEN not in str(answer.get("error")):
            found.append(f"{where}: no error in the pseudo-locale: {answer}")
        found += [f"{where} {escape}" for escape in escapes_in_json(answer, allowed)]
    assert not found, f"{family}: {len(found)} escaped translation:\n" + "\n".join(found)


# --- Every e-mail --------------------------------------------------------------------------------

EMAIL_TYPES = importlib.import_module("popup.migrations.0017_email_types")
CONSENT_EMAIL_TYPES = importlib.import_module("popup.migrations.0030_consent")
SITE = "http://shop.example"


def pledge_context(status=Pledge.Status.PLEDGED, **fields) -> dict:
    pledge = pledged_on(a_presale(feedback=False), status=status, **fields)
    return {
        "pledge": pledge,
        "popup": pledge.popup,
        "lines": pledge.lines.select_related("terms__product"),
        "manage_url": f"{SITE}/popup/pledge/{pledge.token}/",
        "popup_url": f"{SITE}{pledge.popup.get_absolute_url()}",
    }


def waitlist_context() -> dict:
    popup = a_drop(feedback=False)
    product = PopUpProduct.objects.filter(popup=popup).first().product
    alert = ProductAlert.objects.create(product=product, email="ada@example.com")
    return {
        "alert": alert,
        "product": product,
        "popup": popup,
        "confirm_url": f"{SITE}{alert.get_confirm_url()}",
        "cancel_url": f"{SITE}{alert.get_cancel_url()}",
        "popup_url": f"{SITE}{popup.get_absolute_url()}",
    }


def checkout_lost_context() -> dict:
    basket = basket_of(a_drop(feedback=False))
    # The reason as the checkout words it, in the shopper's language (popup.checkout.services).
    with translation.override(PSEUDO):
        reason = gettext("No longer available: %(titles)s.") % {"titles": "Indigo scarf"}
        reason = f"{reason} {gettext('Nothing was charged.')}"
    return {"basket": basket, "popup": basket.popup, "reason": reason}


def idea_shipped_context() -> dict:
    popup = a_drop()
    idea = Idea.objects.get(popup=popup, status=Idea.Status.DONE)
    IdeaVote.objects.create(idea=idea, email="grace@example.com")
    return {
        "idea": idea,
        "popup": popup,
        "popup_url": f"{SITE}{popup.get_absolute_url()}",
        "stop_url": f"{SITE}/popup/consent/abc/stop/",
        "shop_name": settings.OSCAR_SHOP_NAME,
    }


def idea_updates_confirm_context() -> dict:
    return {
        "popup": a_drop(),
        "confirm_url": f"{SITE}/popup/consent/abc/",
        "shop_name": settings.OSCAR_SHOP_NAME,
    }


def question_answered_context() -> dict:
    popup = a_drop()
    return {
        "question": Question.objects.filter(popup=popup).first(),
        "popup": popup,
        "popup_url": f"{SITE}{popup.get_absolute_url()}",
        "shop_name": settings.OSCAR_SHOP_NAME,
    }


def poll_vote_context() -> dict:
    vote = PollVote.objects.select_related("poll__popup", "option").get(
        poll__popup=a_drop(), poll__is_open=True
    )
    return {
        "vote": vote,
        "poll": vote.poll,
        "popup": vote.poll.popup,
        "confirm_url": f"{SITE}/popup/vote/{vote.token}/",
    }


def review_invite_context() -> dict:
    order = create_order(guest_email="ada@example.com")
    invite = ReviewInvite.objects.create(order=order, popup=a_drop(feedback=False))
    return {
        "invite": invite,
        "order": order,
        "popup": invite.popup,
        "lines": order.lines.all(),
        "review_url": f"{SITE}/popup/review/{invite.token}/",
        "shop_name": settings.OSCAR_SHOP_NAME,
    }


def ambassador_invite_context() -> dict:
    popup = with_ambassador(a_drop(feedback=False))
    placement = Placement.objects.select_related("ambassador").get(popup=popup)
    return {
        "ambassador": placement.ambassador,
        "popup": popup,
        "link": f"{SITE}{placement.get_absolute_url()}",
        "page_url": f"{SITE}{placement.ambassador.get_absolute_url()}",
        "shop_name": settings.OSCAR_SHOP_NAME,
    }


def order_placed_context() -> dict:
    order = create_order(guest_email="ada@example.com")
    return {"order": order, "lines": order.lines.all()}


# Each e-mail's context, as popup.notifications.messages builds it.
EMAIL_CONTEXTS: dict[str, Callable[[], dict]] = {
    "ORDER_PLACED": order_placed_context,
    "POPUP_AMBASSADOR_INVITE": ambassador_invite_context,
    "POPUP_CHECKOUT_LOST": checkout_lost_context,
    "POPUP_IDEA_SHIPPED": idea_shipped_context,
    "POPUP_IDEA_UPDATES_CONFIRM": idea_updates_confirm_context,
    "POPUP_PLEDGE_CANCELLED": lambda: pledge_context(Pledge.Status.CANCELLED),
    "POPUP_PLEDGE_DROPPED": lambda: pledge_context(Pledge.Status.DROPPED),
    "POPUP_PLEDGE_FAILED": lambda: pledge_context(
        Pledge.Status.FAILED,
        failure_message="Your card was declined.",
        next_retry_at=timezone.now() + timedelta(days=2),
    ),
    "POPUP_PLEDGE_LAUNCHED": lambda: pledge_context(Pledge.Status.PAID, order=create_order()),
    "POPUP_PLEDGE_NOT_FUNDED": lambda: pledge_context(Pledge.Status.CANCELLED),
    "POPUP_PLEDGE_PLEDGED": pledge_context,
    "POPUP_POLL_VOTE": poll_vote_context,
    "POPUP_QUESTION_ANSWERED": question_answered_context,
    "POPUP_REVIEW_INVITE": review_invite_context,
    "POPUP_WAITLIST_CONFIRM": waitlist_context,
    "POPUP_WAITLIST_OPENED": waitlist_context,
}


def test_the_pseudo_locale_wraps_messages_of_the_plugin_and_of_django():
    with translation.override(PSEUDO):
        assert gettext("Sold out") == wrapped("Sold out")
        assert gettext("January") == wrapped("January")  # Django's own


def test_every_email_of_the_plugin_is_rendered_here():
    declared = {code for code, _name, _category in EMAIL_TYPES.EMAILS} | {"ORDER_PLACED"}
    declared |= {code for code, _name, _category in CONSENT_EMAIL_TYPES.EMAILS}
    assert set(EMAIL_CONTEXTS) == declared


# Links and addresses in an e-mail's text (a message may end with one, before its closing marker).
URL_OR_ADDRESS = re.compile(f"[^\\s{OPEN}{CLOSE}]+(://|@)[^\\s{OPEN}{CLOSE}]+")


@pytest.mark.usefixtures("stripe_settings", "france")
@pytest.mark.parametrize("code", list(EMAIL_CONTEXTS))
def test_no_text_in_an_email_escapes_translation(code, localstripe):
    context = EMAIL_CONTEXTS[code]()
    popups = [context["popup"]] if context.get("popup") else []

    messages = email_messages(code=code, context=context, language=PSEUDO)

    assert OPEN in messages["subject"] and OPEN in messages["body"], messages["body"]
    allowed = allowed_for(*popups)
    if "lines" in context:
        allowed |= {getattr(line, "title", "") for line in context["lines"]}
    found = []
    for part in ("subject", "body"):
        lines = URL_OR_ADDRESS.sub("", messages[part]).replace("\n", SEPARATOR)
        found += [f"{part}: {piece!r}" for piece in escaped_pieces(lines, allowed)]
    assert not found, f"{code}: {len(found)} escaped translation:\n" + "\n".join(found)
