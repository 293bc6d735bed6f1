"""Catalogue feeds for Meta (Facebook and Instagram catalogues) and Google Merchant Center.

What goes in (`feed_items`): the products of published pop-ups that are not event-only and not
closed (live, coming soon or sold out), public products only, priced and counted exactly as the
pop-up page shows them (`storefront_item`). Never a draft, a closed or an event-only pop-up, a
hidden product, a cost price or an event price. Items are read in chunks and written as they come
(CSV, or RSS 2.0 with Google's g: namespace, which Meta reads too), so 10,000 products take no more
memory than 1,000.

One item per pop-up and product, the store-wide feed being the pop-up feeds one after the other: a
product in two pop-ups is two offers with their own landing page, price, dates and availability.
Its id, "popup<pop-up id>-<product id>", never changes when something is renamed; item_group_id
groups an Oscar parent's variants within a pop-up.

Per field (Google's spelling; Meta's in brackets where it differs):
- price: the price the page shows; where the page shows a reduction (popup.core.reductions: the
  pop-up price below the lowest price of the 30 days before its promotion started), price is that
  prior price and sale_price the pop-up price, with sale_price_effective_date = the promotion's
  start/the pop-up's closing (time zone offset included). Never a reduction against a regular price
  raised just before the drop.
- availability: in_stock [in stock] while live with units left; out_of_stock [out of stock] when
  sold out, and while coming soon: nobody can order yet, which is Google's definition of
  out_of_stock (preorder would promise an order the page refuses); in a live pre-sale, preorder
  with availability_date = the expected ship date (the closing date without one or once it passed).
- brand: the product's attribute "brand", else the shop's name (private label); condition: its
  attribute "condition" if new, refurbished or used, else new; gtin: its attribute "gtin", else its
  UPC when that is a valid GTIN; identifier_exists (Google) no when neither a GTIN nor an MPN is known.
- link: the pop-up's page, absolute (POPUP_SITE_URL, else https:// and the Site's domain), with
  utm_source=google or facebook, utm_medium=feed, utm_campaign=<pop-up slug>, utm_content=<item id>
  (the landing page records them on the shopper's basket).
- checkout_link_template (Google): the checkout link's page (popup.channels.checkout_links) for
  that one item, `…/popup/checkout-link/?products={id}` with utm_source=google and
  utm_medium=checkout_link, so a "Buy" on Google lands in a held basket attributed to the pop-up's
  "Google checkout link" placement. Meta's checkout URL is declared once in Commerce Manager (the
  dashboard's feed section shows it).
- A product without a price or a photo is left out: both platforms reject such an item.
"""

import csv
import html
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from typing import BinaryIO
from xml.sax.saxutils import XMLGenerator

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.html import strip_tags
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_class, get_model

from integrations.social.previews import popup_description
from popup.conf import popup_settings, site_url
from popup.core.reductions import popup_reductions
from popup.core.selectors import popup_products, storefront_item
from popup.models import PopUp

ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
Selector = get_class("partner.strategy", "Selector")

GOOGLE_NS = "http://base.google.com/ns/1.0"
IN_STOCK, OUT_OF_STOCK, PREORDER = "in_stock", "out_of_stock", "preorder"
CONDITIONS = frozenset({"new", "refurbished", "used"})
# Product attributes (by code) the feeds read when a product has them.
FEED_ATTRIBUTES = ("brand", "condition", "gtin", "mpn")
CHUNK_SIZE = 500  # products per query (and per prefetch): what a feed holds in memory at once
TITLE_CHARS, DESCRIPTION_CHARS, BRAND_CHARS = 150, 5000, 70  # the stricter of the two platforms
UTM_MEDIUM = "feed"
CHECKOUT_LINK_MEDIUM = "checkout_link"
FORMATS = {"csv": "text/csv; charset=utf-8", "xml": "application/xml; charset=utf-8"}
TOKEN_SALT = "integrations.social.feeds.token"
# What XML 1.0 cannot carry at all (control characters pasted into a description, say).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _google_moment(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M%z")  # 2026-12-01T09:00+0100


def _meta_moment(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="minutes")  # 2026-12-01T09:00+01:00


@dataclass(frozen=True)
class FeedPlatform:
    """A platform's columns, spellings and date format."""

    code: str  # in the feed's URL
    label: str  # the platform as the dashboard names it, in the merchant's language
    utm_source: str
    availability: dict[str, str]  # ours -> theirs
    moment: Callable[[datetime], str]
    columns: tuple[str, ...]


PLATFORMS = {
    "google": FeedPlatform(
        code="google",
        label="Google Merchant Center",  # the product's name, in every language
        utm_source="google",
        availability={IN_STOCK: "in_stock", OUT_OF_STOCK: "out_of_stock", PREORDER: "preorder"},
        moment=_google_moment,
        columns=(
            "id",
            "title",
            "description",
            "link",
            "image_link",
            "availability",
            "availability_date",
            "price",
            "sale_price",
            "sale_price_effective_date",
            "brand",
            "condition",
            "gtin",
            "mpn",
            "identifier_exists",
            "item_group_id",
            "checkout_link_template",
        ),
    ),
    "meta": FeedPlatform(
        code="meta",
        label=_("Meta catalogue (Facebook, Instagram)"),
        utm_source="facebook",
        availability={IN_STOCK: "in stock", OUT_OF_STOCK: "out of stock", PREORDER: "preorder"},
        moment=_meta_moment,
        columns=(
            "id",
            "title",
            "description",
            "availability",
            "availability_date",
            "condition",
            "price",
            "link",
            "image_link",
            "brand",
            "sale_price",
            "sale_price_effective_date",
            "gtin",
            "mpn",
            "item_group_id",
        ),
    ),
}


@dataclass(frozen=True)
class FeedItem:
    """One product of one pop-up, as every platform is told about it (their spellings aside)."""

    id: str
    group_id: str  # "" unless the product is a variant
    title: str
    description: str
    url: str  # the pop-up's page, absolute, without campaign parameters
    checkout_url: str  # the checkout link's page, absolute
    image_url: str
    availability: str  # IN_STOCK, OUT_OF_STOCK or PREORDER
    available_at: datetime | None  # pre-orders: when it ships
    price: Decimal
    sale_price: Decimal | None
    sale_starts: datetime | None
    sale_ends: datetime | None
    currency: str
    brand: str
    condition: str
    gtin: str
    mpn: str
    campaign: str


@dataclass(frozen=True)
class FeedLink:
    platform: FeedPlatform
    format: str
    url: str


def popup_in_feeds(*, popup: PopUp, now: datetime) -> bool:
    """Whether the pop-up's products are in the feeds now: published, not event-only, not closed."""
    return popup.is_published and not popup.event_only and now < popup.closes_at


def feed_popups(*, now: datetime) -> QuerySet:
    """The pop-ups whose products are in the store-wide feed now, in the order they open."""
    return (
        PopUp.objects.filter(is_published=True, event_only=False, closes_at__gt=now)
        .select_related("range")
        .order_by("opens_at", "pk")
    )


def feed_items(
    *, popup: PopUp | None = None, now: datetime | None = None, strategy=None
) -> Iterator[FeedItem]:
    """The feed's items, the pop-up's or the store's (popup=None), streamed from the database."""
    now = now or timezone.now()
    strategy = strategy or Selector().strategy()
    site = site_url()
    popups = feed_popups(now=now) if popup is None else [popup]
    for each in popups:
        if popup_in_feeds(popup=each, now=now):
            yield from _popup_items(popup=each, now=now, strategy=strategy, site=site)


def feed_rows(
    *, platform: str, popup: PopUp | None = None, now: datetime | None = None
) -> Iterator[dict[str, str]]:
    """The feed's items as one platform's rows: column name -> text, "" where nothing applies."""
    spec = PLATFORMS[platform]
    for item in feed_items(popup=popup, now=now):
        yield feed_row(item=item, platform=spec)


def feed_row(*, item: FeedItem, platform: FeedPlatform) -> dict[str, str]:
    """One item in the platform's columns, spellings and date format."""
    moment = platform.moment
    campaign = {
        "utm_source": platform.utm_source,
        "utm_medium": UTM_MEDIUM,
        "utm_campaign": item.campaign,
        "utm_content": item.id,  # which product was clicked
    }
    on_sale = item.sale_price is not None
    row = {
        "id": item.id,
        "title": item.title,
        "description": item.description,
        "link": f"{item.url}?{urlencode(campaign)}",
        "image_link": item.image_url,
        "availability": platform.availability[item.availability],
        "availability_date": moment(item.available_at) if item.available_at else "",
        "price": _money(item.price, item.currency),
        "sale_price": _money(item.sale_price, item.currency) if on_sale else "",
        "sale_price_effective_date": (
            f"{moment(item.sale_starts)}/{moment(item.sale_ends)}" if on_sale else ""
        ),
        "brand": item.brand,
        "condition": item.condition,
        "gtin": item.gtin,
        "mpn": item.mpn,
        "identifier_exists": "yes" if item.gtin or item.mpn else "no",
        "item_group_id": item.group_id,
        "checkout_link_template": checkout_link_template(
            checkout_url=item.checkout_url, campaign=item.campaign
        ),
    }
    return {column: row[column] for column in platform.columns}


def checkout_link_template(*, checkout_url: str, campaign: str = "") -> str:
    """Google's checkout_link_template: the checkout link's page for one item, "{id}" left for
    Google to fill in."""
    query = {"utm_source": "google", "utm_medium": CHECKOUT_LINK_MEDIUM}
    if campaign:
        query["utm_campaign"] = campaign
    return f"{checkout_url}?products={{id}}&{urlencode(query)}"


def checkout_url(*, request: HttpRequest | None = None) -> str:
    """The checkout link's page, absolute: the URL a Meta shop declares in Commerce Manager."""
    path = reverse("popup:checkout-link")
    return request.build_absolute_uri(path) if request else f"{site_url()}{path}"


def feed_token(*, popup: PopUp | None = None) -> str:
    """The unguessable, stable token in a feed's URL: an HMAC of its scope with the feed secret."""
    return feed_scope_digest(salt=TOKEN_SALT, popup_id=popup.pk if popup else None)


def feed_scope_digest(*, salt: str, popup_id: int | None) -> str:
    """32 hex digits derived from the scope (the store, or a pop-up's id) and POPUP_FEED_SECRET."""
    secret = popup_settings.POPUP_FEED_SECRET or settings.SECRET_KEY
    scope = "store" if popup_id is None else f"popup:{popup_id}"
    return salted_hmac(salt, scope, secret=secret, algorithm="sha256").hexdigest()[:32]


def feed_scope_resolve(*, token: str, slug: str | None = None) -> PopUp | None:
    """The pop-up a feed URL is for (None: the store's feed); Http404 for a wrong token or slug.

    Any pop-up with its right token resolves, drafts too: their feed is empty (see feed_items).
    """
    if slug is None:
        if not constant_time_compare(token, feed_token()):
            raise Http404("No such feed.")
        return None
    popup = PopUp.objects.select_related("range").filter(slug=slug).first()
    if popup is None or not constant_time_compare(token, feed_token(popup=popup)):
        raise Http404("No such feed.")
    return popup


def feed_links(*, popup: PopUp | None = None, request: HttpRequest | None = None) -> list[FeedLink]:
    """The four feed URLs (Google and Meta, XML and CSV) of the pop-up, or of the store, absolute."""
    token = feed_token(popup=popup)
    links = []
    for platform in PLATFORMS.values():
        for fmt in ("xml", "csv"):
            kwargs = {"token": token, "platform": platform.code, "fmt": fmt}
            if popup is None:
                path = reverse("popup-social:feed", kwargs=kwargs)
            else:
                path = reverse("popup-social:popup-feed", kwargs={"slug": popup.slug, **kwargs})
            url = request.build_absolute_uri(path) if request else f"{site_url()}{path}"
            links.append(FeedLink(platform=platform, format=fmt, url=url))
    return links


class CsvFeedWriter:
    """Rows written as CSV under a header line, each as it comes (RFC 4180 quoting, UTF-8)."""

    def __init__(self, out: BinaryIO, *, columns: Sequence[str]):
        self._text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        self._csv = csv.writer(self._text)
        self._columns = tuple(columns)
        self._csv.writerow(self._columns)

    def write(self, row: dict[str, str]) -> None:
        self._csv.writerow([row.get(column, "") for column in self._columns])

    def close(self) -> None:
        self._text.flush()
        self._text.detach()  # the caller closes the file


class XmlFeedWriter:
    """Rows written as the items of an RSS 2.0 channel, fields in Google's g: namespace.

    One field per line (Meta refuses lines over 5 MB); empty fields are left out.
    """

    def __init__(self, out: BinaryIO, *, title: str, link: str, description: str):
        self._xml = XMLGenerator(out, encoding="utf-8", short_empty_elements=True)
        self._xml.startDocument()
        self._xml.startElement("rss", {"version": "2.0", "xmlns:g": GOOGLE_NS})
        self._xml.ignorableWhitespace("\n")
        self._xml.startElement("channel", {})
        self._xml.ignorableWhitespace("\n")
        for name, value in (("title", title), ("link", link), ("description", description)):
            self._element(name, value)

    def write(self, row: dict[str, str]) -> None:
        self._xml.startElement("item", {})
        self._xml.ignorableWhitespace("\n")
        for name, value in row.items():
            if value:
                self._element(f"g:{name}", value)
        self._xml.endElement("item")
        self._xml.ignorableWhitespace("\n")

    def close(self) -> None:
        self._xml.endElement("channel")
        self._xml.ignorableWhitespace("\n")
        self._xml.endElement("rss")
        self._xml.ignorableWhitespace("\n")
        self._xml.endDocument()

    def _element(self, name: str, value: str) -> None:
        self._xml.startElement(name, {})
        self._xml.characters(_NOT_XML.sub("", value))
        self._xml.endElement(name)
        self._xml.ignorableWhitespace("\n")


def _popup_items(*, popup: PopUp, now: datetime, strategy, site: str) -> Iterator[FeedItem]:
    url = f"{site}{popup.get_absolute_url()}"
    checkout = f"{site}{reverse('popup:checkout-link')}"
    fallback = _plain(popup_description(popup=popup, shop_name=settings.OSCAR_SHOP_NAME))
    reductions = popup_reductions(popup=popup)  # one read of the history for the whole pop-up
    for product in _feed_products(popup=popup, now=now).iterator(chunk_size=CHUNK_SIZE):
        shown = storefront_item(
            popup=popup, product=product, strategy=strategy, reduction=reductions.get(product.pk)
        )
        item = _feed_item(
            popup=popup,
            product=product,
            shown=shown,
            now=now,
            url=url,
            checkout_url=checkout,
            site=site,
            fallback_description=fallback,
        )
        _forget(product)
        if item is not None:
            yield item


def _feed_item(
    *,
    popup: PopUp,
    product,
    shown,
    now: datetime,
    url: str,
    checkout_url: str,
    site: str,
    fallback_description: str,
) -> FeedItem | None:
    """The product as the pop-up shows it (`shown`), as a feed item; None without price or photo."""
    if shown.price is None or shown.price <= 0 or shown.image is None or not shown.image.original:
        return None
    if now < popup.opens_at or (shown.units_left is not None and shown.units_left <= 0):
        availability, available_at = OUT_OF_STOCK, None
    elif popup.kind == PopUp.Kind.PRESALE:
        availability, available_at = PREORDER, _ships_at(popup=popup, now=now)
    else:
        availability, available_at = IN_STOCK, None
    # A sale only where the page shows a reduction: against the prior price (popup.core.reductions)
    on_sale = shown.is_discounted
    sale_starts = popup.opens_at
    if on_sale and shown.reduction is not None:
        sale_starts = shown.reduction.started_at
    attributes = _attributes(product)
    description = product.description or (product.parent.description if product.parent else "")
    condition = attributes.get("condition", "").lower()
    return FeedItem(
        id=f"popup{popup.pk}-{product.pk}",
        group_id=f"popup{popup.pk}-{product.parent_id}" if product.parent_id else "",
        title=_clip(_plain(shown.title), TITLE_CHARS),
        description=_clip(_plain(description) or fallback_description, DESCRIPTION_CHARS),
        url=url,
        checkout_url=checkout_url,
        image_url=_absolute(shown.image.original.url, site=site),
        availability=availability,
        available_at=available_at,
        price=shown.prior_price if on_sale else shown.price,
        sale_price=shown.price if on_sale else None,
        sale_starts=sale_starts if on_sale else None,
        sale_ends=popup.closes_at if on_sale else None,
        currency=shown.currency,
        brand=_clip(_plain(attributes.get("brand", "")) or settings.OSCAR_SHOP_NAME, BRAND_CHARS),
        condition=condition if condition in CONDITIONS else "new",
        gtin=_gtin(attributes.get("gtin", "")) or _gtin(product.upc or ""),
        mpn=_plain(attributes.get("mpn", "")),
        campaign=popup.slug,
    )


def _feed_products(*, popup: PopUp, now: datetime) -> QuerySet:
    """popup_products, public ones only (pre-sales included), with the attributes feeds read."""
    attributes = ProductAttributeValue.objects.filter(
        attribute__code__in=FEED_ATTRIBUTES
    ).select_related("attribute", "value_option")
    return (
        popup_products(popup=popup, now=now)
        .filter(Q(parent__isnull=True) | Q(parent__is_public=True), is_public=True)
        .prefetch_related(
            Prefetch("attribute_values", queryset=attributes, to_attr="feed_attributes"),
            Prefetch("parent__attribute_values", queryset=attributes, to_attr="feed_attributes"),
        )
        .order_by("pk")
    )


def _attributes(product) -> dict[str, str]:
    """The product's feed attributes as text; a variant's own values win over its parent's."""
    values: dict[str, str] = {}
    for source in (product.parent, product):
        for value in getattr(source, "feed_attributes", ()):
            text = str(value.value_as_text or "").strip()
            if text:
                values[value.attribute.code] = text
    return values


def _forget(product) -> None:
    """Drop what ties a product done with to its prefetched rows, so its chunk is freed at once.

    A product and its prefetched rows point at each other (and Oscar's `product.attr` points back
    at it): such cycles wait for Python's full garbage collection, which comes later the more the
    process holds, so memory would grow with the feed instead of staying at one chunk.
    """
    for instance in (product.parent, product):
        if instance is not None:
            for name in (
                "attr",
                "_prefetched_objects_cache",
                "popup_terms_here",
                "ordered_images",
                "feed_attributes",
            ):
                instance.__dict__.pop(name, None)


def _ships_at(*, popup: PopUp, now: datetime) -> datetime:
    """When a pre-sale's product ships: its ship date (midnight, store time), else its closing."""
    if popup.presale_ships_on:
        ships = timezone.make_aware(datetime.combine(popup.presale_ships_on, time.min))
        if ships > now:
            return ships
    return popup.closes_at


def _gtin(code: str) -> str:
    """`code` if it is a GTIN-8, -12 (UPC), -13 (EAN) or -14 with a right check digit, else ""."""
    code = code.strip()
    if not (code.isascii() and code.isdigit() and len(code) in (8, 12, 13, 14)):
        return ""
    *body, check = (int(digit) for digit in code)
    total = sum(digit * (3 if index % 2 == 0 else 1) for index, digit in enumerate(reversed(body)))
    return code if (10 - total % 10) % 10 == check else ""


def _plain(text: str) -> str:
    """Plain text on one line: no tags, no entities, no characters XML cannot carry."""
    text = html.unescape(strip_tags(text or ""))
    return " ".join(_NOT_XML.sub("", text).split())


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _absolute(url: str, *, site: str) -> str:
    return url if url.startswith(("https://", "http://")) else f"{site}{url}"


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount.quantize(Decimal('0.01'))} {currency}"
