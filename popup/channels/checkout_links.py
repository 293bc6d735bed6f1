"""Checkout links: the URL a Facebook or Instagram shop (and Google's checkout_link_template) sends
its buyers to, with the products they chose.

Meta calls the shop's declared checkout URL with `products=<content id>:<quantity>,…` (the commas and
colons percent-escaped, sometimes twice), an optional `coupon`, its click id (`fbclid`), where the
cart was filled (`cart_origin`) and utm_*; Google with one id, from the feed's
checkout_link_template (with utm_source=google). Our catalogue feeds name each product
`popup<pop-up id>-<product id>` (integrations.social.feeds). This module reads such a query into
lines, whatever arrives: nothing in it raises, every line that cannot be taken says why, and the
number of lines and units is capped.

Who brought the shopper: the coupon, when it is an ambassador's code, gives the basket to the
ambassador's placement (their discount and commission); otherwise the pop-up's channel placement,
"Meta shop" (or "Google checkout link" for utm_source=google), made the first time. A coupon that
is an unlock code opens the pop-up's event prices, and its event-only products.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote_plus

from django.core import signing
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from popup.analytics.stats import stat_count
from popup.channels.placements import (
    UTM_KEYS,
    Coupon,
    ad_click_clean,
    ambassador_placement_get,
    basket_attribute,
    channel_placement_get,
    coupon_read,
    utm_clean,
)
from popup.core.holds import MAX_UNITS_PER_LINE, HoldRefused, basket_create, hold_set
from popup.models import Hold, Placement, PopUp, PopUpBasket, PopUpProduct

MAX_LINES = 20  # a basket, not a warehouse order: more is cut, and the shopper told
MAX_PRODUCTS_CHARACTERS = 4000  # what is read of `products`; the rest is ignored
MAX_UNESCAPES = 3  # "%253A" is "%3A" is ":": links pass through several hands
SOURCE = "checkout-link"  # the baskets' source, as a utm_source would name it
CONTENT_ID = re.compile(r"popup(\d{1,18})-(\d{1,18})")
QUANTITY = re.compile(r"[+-]?\d{1,12}")


@dataclass(frozen=True)
class LinkLine:
    """One product of the link as asked for: the content id, and what it names when it is ours."""

    content_id: str
    popup_id: int | None
    product_id: int | None
    quantity: int  # what will be asked for (1 to MAX_UNITS_PER_LINE); 0 when the line is refused
    problem: str = ""  # why the line cannot be taken as asked, in the shopper's words
    asked: str = ""  # the quantity as it came, when it was not taken as it came


@dataclass(frozen=True)
class CheckoutLink:
    lines: tuple[LinkLine, ...]
    coupon: str
    notices: tuple[str, ...]  # about the link as a whole (lines cut, nothing readable)

    @property
    def wanted(self) -> list[LinkLine]:
        """The lines naming one of our products with a quantity to hold."""
        return [line for line in self.lines if line.popup_id is not None and line.quantity]


def _unescaped(text: str) -> str:
    for _round in range(MAX_UNESCAPES):
        if "%" not in text:
            break
        text = unquote_plus(text)
    return text


def _quantity(text: str) -> tuple[int, str]:
    """The quantity to ask for and, when it is not the one asked, why."""
    text = text.strip()
    if not text:
        return 1, ""  # Google's one-item template names no quantity
    if not QUANTITY.fullmatch(text):
        return 0, _("“%(quantity)s” is not a number of units.") % {"quantity": text[:20]}
    number = int(text)
    if number < 1:
        return 0, _("A quantity must be at least 1.")
    if number > MAX_UNITS_PER_LINE:
        return MAX_UNITS_PER_LINE, _capped()
    return number, ""


def _capped() -> str:
    return ngettext(
        "At most %(max)d unit per product: %(max)d asked for.",
        "At most %(max)d units per product: %(max)d asked for.",
        MAX_UNITS_PER_LINE,
    ) % {"max": MAX_UNITS_PER_LINE}


def checkout_link_parse(*, products: str, coupon: str = "") -> CheckoutLink:
    """The link's lines, in the order given, one per product (a product named twice is one line
    with both quantities); never raises."""
    notices = []
    text = _unescaped(products[:MAX_PRODUCTS_CHARACTERS])
    entries = [entry for entry in re.split(r"[,;\s]+", text) if entry]
    by_id: dict[str, dict] = {}
    for entry in entries:
        content_id, _colon, asked = entry.partition(":")
        content_id = content_id.strip().lower()
        known = by_id.get(content_id)
        if known is None:
            if len(by_id) == MAX_LINES:
                notices.append(
                    ngettext(
                        "The link names more than %(max)d product: only the first %(max)d are "
                        "taken.",
                        "The link names more than %(max)d products: only the first %(max)d are "
                        "taken.",
                        MAX_LINES,
                    )
                    % {"max": MAX_LINES}
                )
                break
            known = by_id[content_id] = {"asked": [], "quantity": 0, "problems": []}
        quantity, problem = _quantity(asked)
        known["asked"].append(asked.strip()[:20])
        known["quantity"] += quantity
        if problem:
            known["problems"].append(problem)
    lines = []
    for content_id, known in by_id.items():
        matched = CONTENT_ID.fullmatch(content_id)
        quantity = min(known["quantity"], MAX_UNITS_PER_LINE)
        problem = known["problems"][0] if known["problems"] else ""
        if known["quantity"] > MAX_UNITS_PER_LINE and not problem:
            problem = _capped()
        if matched is None:
            problem, quantity = _("This product is not sold in our pop-up shops."), 0
        lines.append(
            LinkLine(
                content_id=content_id[:60],
                popup_id=int(matched.group(1)) if matched else None,
                product_id=int(matched.group(2)) if matched else None,
                quantity=quantity,
                problem=problem,
                asked=",".join(known["asked"]) if problem else "",
            )
        )
    if not lines:
        notices.append(_("This link names no product."))
    return CheckoutLink(
        lines=tuple(lines),
        coupon="".join(ch for ch in _unescaped(coupon[:64]) if ch.isprintable()).strip(),
        notices=tuple(notices),
    )


@dataclass(frozen=True)
class LinkOffer:
    """A line of the link as the store can take it: the pop-up and terms it would be held in."""

    line: LinkLine
    popup: PopUp | None  # where it is sold now: the named pop-up, or the relaunch of a closed one
    terms: PopUpProduct | None
    problem: str = ""  # why it cannot be held now (before stock is even looked at)
    named: PopUp | None = None  # the pop-up the link named, when the product moved to its relaunch


def _public(popup: PopUp, unlocked: frozenset[int]) -> bool:
    return popup.is_published and (not popup.event_only or popup.pk in unlocked)


def checkout_link_offers(
    *, link: CheckoutLink, unlocked: frozenset[int] = frozenset(), now: datetime | None = None
) -> list[LinkOffer]:
    """Each wanted line of the link with the pop-up that sells it now, read in one query: the named
    pop-up's terms, or those of its live relaunch when it closed. Drafts are not ours to name, nor
    event-only pop-ups but those in `unlocked` (the caller checked the coupon as their code, with
    the tries counted as arrival_record counts them)."""
    now = now or timezone.now()
    wanted = link.wanted
    if not wanted:
        return []
    named_or_relaunched = Q()
    for line in wanted:
        named_or_relaunched |= Q(popup_id=line.popup_id, product_id=line.product_id)
        named_or_relaunched |= Q(
            popup__relaunched_from_id=line.popup_id, product_id=line.product_id
        )
    found = list(
        PopUpProduct.objects.select_related("popup", "popup__range", "product")
        .filter(named_or_relaunched)
        .order_by("-popup__opens_at", "pk")
    )
    offers = []
    for line in wanted:
        named = next(
            (
                terms
                for terms in found
                if terms.popup_id == line.popup_id and terms.product_id == line.product_id
            ),
            None,
        )
        relaunched = [
            terms
            for terms in found
            if terms.popup.relaunched_from_id == line.popup_id
            and terms.product_id == line.product_id
            and _public(terms.popup, unlocked)
            and terms.popup.closes_at > now
        ]
        if named is None or not _public(named.popup, unlocked):
            offers.append(
                LinkOffer(line, None, None, _("This product is not sold in our pop-up shops."))
            )
        elif named.popup.closes_at <= now and relaunched:
            offers.append(LinkOffer(line, relaunched[0].popup, relaunched[0], named=named.popup))
        elif named.popup.closes_at <= now:
            offers.append(LinkOffer(line, named.popup, named, _("This pop-up has closed.")))
        elif named.popup.opens_at > now:
            opens = date_format(localtime(named.popup.opens_at), "DATETIME_FORMAT")
            problem = _("Not open yet: opens %(when)s.") % {"when": opens}
            offers.append(LinkOffer(line, named.popup, named, problem))
        else:
            offers.append(LinkOffer(line, named.popup, named))
    return offers


@dataclass(frozen=True)
class LinkArrival:
    """Where the link's shopper came from: its coupon as read, the channel, the campaign."""

    coupon: Coupon
    channel: str  # a Placement.Channel
    utm: dict
    ad_click: dict


def checkout_link_arrival(*, link: CheckoutLink, query, client_ip: str) -> LinkArrival:
    """The link's coupon read against the pop-ups it names (and their relaunches), and its
    campaign. One query for the pop-ups, and one for an ambassador, when there is a coupon."""
    utm = utm_clean({key: query.get(f"utm_{key}") for key in UTM_KEYS})
    google = utm.get("source", "").lower() == "google"
    coupon = Coupon()
    if link.coupon:
        named = {line.popup_id for line in link.wanted}
        popups = PopUp.objects.filter(
            Q(pk__in=named) | Q(relaunched_from_id__in=named), is_published=True
        ).exclude(unlock_code="")
        coupon = coupon_read(popups=list(popups), code=link.coupon, client_ip=client_ip)
    return LinkArrival(
        coupon=coupon,
        channel=Placement.Channel.GOOGLE if google else Placement.Channel.META_SHOP,
        utm=utm,
        ad_click=ad_click_clean(query),
    )


def link_placement_get(
    *, popup: PopUp, arrival: LinkArrival, create: bool = True
) -> Placement | None:
    """The placement a basket of `popup` from this link belongs to: the coupon's ambassador's,
    else the channel's, made the first time when `create`; None when there is none (or the
    merchant switched it off)."""
    if arrival.coupon.ambassador is not None:
        placement = ambassador_placement_get(
            popup=popup, ambassador=arrival.coupon.ambassador, create=create
        )
        if placement is not None:
            return placement
    placement = channel_placement_get(popup=popup, channel=arrival.channel, create=create)
    return placement if placement is not None and placement.is_active else None


@dataclass(frozen=True)
class LinkHeld:
    """What a shopper's press of "Hold and check out" did: the basket and each line's outcome."""

    basket: PopUpBasket | None  # None: nothing could be held (no basket kept)
    held: list[LinkOffer]
    refused: list[tuple[LinkOffer, str]]  # and why, in the shopper's words


def checkout_link_hold(
    *,
    popup: PopUp,
    offers: list[LinkOffer],
    arrival: LinkArrival,
    placement: Placement | None,
    client_ip: str,
    language: str = "",
) -> LinkHeld:
    """A new basket of `popup`, attributed to `placement` (link_placement_get) with the link's
    campaign, holding what the link asks of it, line by line, with the stock, the per-customer
    limit and the per-address caps as any hold has them; the basket is dropped when nothing could
    be held. Refusal (429) when the address opened too many baskets."""
    wanted = [offer for offer in offers if offer.popup == popup and not offer.problem]
    basket = basket_create(popup=popup, source=SOURCE, address=client_ip, language=language)
    basket_attribute(
        basket=basket,
        placement_code=placement.code if placement is not None else "",
        utm=arrival.utm,
        unlocked=popup.pk in arrival.coupon.unlocks,
        ad_click=arrival.ad_click,
    )
    held, refused = [], []
    for offer in wanted:
        try:
            hold_set(basket=basket, product_id=offer.terms.product_id, quantity=offer.line.quantity)
        except HoldRefused as refusal:
            refused.append((offer, refusal.message))
        else:
            held.append(offer)
    if not held:
        basket.delete()
        return LinkHeld(basket=None, held=[], refused=refused)
    stat_count(popup_id=popup.pk, event="baskets")
    return LinkHeld(basket=basket, held=held, refused=refused)


# The outcome of a press that could not hold everything is a page of its own, its address carrying
# the outcome signed: a reload shows it again and holds nothing.
OUTCOME_SALT = "popup.channels.checkout-link.held"
OUTCOME_MAX_AGE = 24 * 3600  # shown for a day, then the link's page as it is then


@dataclass(frozen=True)
class LinkOutcome:
    """A press's outcome as the page after it shows it: the basket with what it still holds, and
    each line that could not be held with why (in the language of the press)."""

    basket: PopUpBasket | None
    held: list[tuple[str, int]]  # product, units
    refused: list[tuple[str, int, str]]  # product, units asked, why


def checkout_link_outcome_sign(held: LinkHeld) -> str:
    """The outcome of a press, signed for the address of the page that shows it."""
    return signing.dumps(
        {
            "basket": held.basket.token if held.basket is not None else "",
            "refused": [[offer.line.content_id, why] for offer, why in held.refused],
        },
        salt=OUTCOME_SALT,
        compress=True,
    )


def checkout_link_outcome(
    *, signed: str, offers: list[LinkOffer], now: datetime | None = None
) -> LinkOutcome | None:
    """The outcome checkout_link_outcome_sign signed, with the products of the link's `offers`
    and the holds still running; None when it is not one (tampered, older than OUTCOME_MAX_AGE),
    or when nothing of it is left to show (the basket paid or lapsed, nothing refused)."""
    now = now or timezone.now()
    try:
        outcome = signing.loads(signed, salt=OUTCOME_SALT, max_age=OUTCOME_MAX_AGE)
        token, refused = str(outcome["basket"]), list(outcome["refused"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    holds = []
    basket = None
    if token:
        basket = PopUpBasket.objects.filter(token=token, status=PopUpBasket.Status.OPEN).first()
    if basket is not None:
        holds = list(
            Hold.objects.filter(basket=basket)
            .active(now)
            .select_related("terms__product")
            .order_by("pk")
        )
        if not holds:
            basket = None
    if basket is None and not refused:
        return None
    by_id = {offer.line.content_id: offer for offer in offers if offer.terms is not None}
    return LinkOutcome(
        basket=basket,
        held=[(hold.terms.product.get_title(), hold.quantity) for hold in holds],
        refused=[
            (by_id[content_id].terms.product.get_title(), by_id[content_id].line.quantity, why)
            for content_id, why in refused
            if isinstance(content_id, str) and content_id in by_id
        ],
    )
