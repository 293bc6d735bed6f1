"""What social networks and search engines see of a pop-up: share card, meta tags, JSON-LD, share image.

Everything here is computed from the storefront the page already loaded (`popup_storefront`), so a page
with social tags runs the same SQL queries whatever the number of products.
"""

import hashlib
import logging
from dataclasses import astuple, dataclass
from decimal import Decimal

from django.db.models.fields.files import FieldFile
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import strip_tags
from django.utils.http import urlencode
from django.utils.text import Truncator
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from oscar.templatetags.currency_filters import currency

from integrations.social.share_image import (
    HEIGHT,
    LAYOUT_VERSION,
    WIDTH,
    ShareCard,
    share_image_render,
    share_image_width,
)
from popup.cache import cache_get, cache_set
from popup.core.languages import language_asked, language_locale, languages_offered
from popup.core.selectors import Storefront, StorefrontItem
from popup.models import PopUp

logger = logging.getLogger(__name__)

# Keys are content fingerprints, so an entry never goes stale; the timeout only frees memory.
SHARE_IMAGE_CACHE_SECONDS = 7 * 24 * 3600
DESCRIPTION_CHARS = 200
SCHEMA = "https://schema.org/"


@dataclass(frozen=True)
class SocialPreview:
    """The values of a pop-up page's canonical, Open Graph, Twitter, JSON-LD and oEmbed tags."""

    canonical_url: str
    title: str
    description: str
    site_name: str
    image_url: str
    image_alt: str
    oembed_url: str
    json_ld: dict
    indexable: bool
    # og:locale, og:locale:alternate, and the page in each language (hreflang) with the pop-up's
    # default as x-default: crawlers ask for no language, and get that one. `page_url`: this page's
    # own canonical, with the ?lang= it was asked with (an hreflang alternate must be canonical).
    page_url: str = ""
    locale: str = ""
    locale_alternates: tuple[str, ...] = ()
    language_urls: tuple[tuple[str, str], ...] = ()
    image_width: int = WIDTH
    image_height: int = HEIGHT


@dataclass(frozen=True)
class SharePNG:
    etag: str  # quoted, ready for the ETag header
    content: bytes


def share_card_build(*, storefront: Storefront, shop_name: str) -> ShareCard:
    """The share image's content for the pop-up as it stands in `storefront`."""
    popup = storefront.popup
    picture, is_hero = _share_picture(storefront)
    return ShareCard(
        title=popup.title,
        price_text=storefront_price_text(storefront=storefront),
        status_text=_status_text(storefront),
        shop_name=shop_name,
        accent_colour=popup.accent_colour,
        picture_name=picture.name if picture else "",
        picture_is_hero=is_hero,
    )


def share_card_fingerprint(*, popup: PopUp, card: ShareCard) -> str:
    """A short hash of everything the share image draws: it changes exactly when the image would."""
    parts = [
        LAYOUT_VERSION,
        str(popup.pk),
        popup.updated_at.isoformat() if popup.updated_at else "",
        *(str(value) for value in astuple(card)),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]


def share_image_url(*, request: HttpRequest, popup: PopUp, card: ShareCard) -> str:
    """The absolute share.png URL, versioned by content so social caches fetch it again on change."""
    version = share_card_fingerprint(popup=popup, card=card)
    path = reverse("popup-social:share-image", kwargs={"slug": popup.slug})
    query = urlencode({"v": version, "lang": get_language()})  # its words are in the page's
    return request.build_absolute_uri(f"{path}?{query}")


def share_image_get(*, storefront: Storefront, shop_name: str, width: int = WIDTH) -> SharePNG:
    """The share image as PNG, drawn once per content and width and then served from the cache."""
    width = share_image_width(width)
    card = share_card_build(storefront=storefront, shop_name=shop_name)
    fingerprint = share_card_fingerprint(popup=storefront.popup, card=card)
    key = share_image_cache_key(fingerprint=fingerprint, width=width)
    content = cache_get(key)
    if content is None:
        picture, _is_hero = _share_picture(storefront)
        content = share_image_render(card=card, picture=picture_read(picture=picture), width=width)
        cache_set(key, content, SHARE_IMAGE_CACHE_SECONDS)
    return SharePNG(etag=f'"{fingerprint}-{width}"', content=content)


def share_image_cache_key(*, fingerprint: str, width: int) -> str:
    """Where the PNG drawn for this content fingerprint and width is kept in Django's cache."""
    return f"popup-social:share-png:{fingerprint}:{width}"


def social_preview_build(
    *, request: HttpRequest, storefront: Storefront, shop_name: str
) -> SocialPreview:
    """The social and structured-data description of the pop-up page, with absolute URLs."""
    popup = storefront.popup
    canonical = request.build_absolute_uri(popup.get_absolute_url())
    card = share_card_build(storefront=storefront, shop_name=shop_name)
    oembed = reverse("popup-social:oembed")
    language, offered, asked = get_language(), languages_offered(), language_asked(request)
    return SocialPreview(
        canonical_url=canonical,
        title=popup.title,
        description=popup_description(popup=popup, shop_name=shop_name),
        site_name=shop_name,
        image_url=share_image_url(request=request, popup=popup, card=card),
        image_alt=" · ".join(
            text for text in (popup.title, card.price_text, card.status_text, shop_name) if text
        ),
        oembed_url=request.build_absolute_uri(
            f"{oembed}?{urlencode({'url': canonical, 'format': 'json'})}"
        ),
        json_ld=products_json_ld(request=request, storefront=storefront, url=canonical),
        indexable=popup.is_published,
        page_url=f"{canonical}?{urlencode({'lang': asked})}" if asked else canonical,
        locale=language_locale(language),
        locale_alternates=tuple(language_locale(code) for code in offered if code != language),
        language_urls=(
            *((code, f"{canonical}?{urlencode({'lang': code})}") for code in offered),
            ("x-default", canonical),
        )
        if len(offered) > 1
        else (),
    )


def popup_description(*, popup: PopUp, shop_name: str) -> str:
    """One plain-text sentence for previews: the tagline, else the start of the description."""
    if popup.tagline:
        return popup.tagline
    text = " ".join(strip_tags(popup.description).split())
    if text:
        return Truncator(text).chars(DESCRIPTION_CHARS)
    return _("%(kind)s at %(shop)s") % {"kind": popup.get_kind_display(), "shop": shop_name}


def products_json_ld(*, request: HttpRequest, storefront: Storefront, url: str) -> dict:
    """schema.org ItemList of the pop-up's Products with their Offers, as search engines read it."""
    products = []
    for position, item in enumerate(storefront.items, start=1):
        product: dict = {"@type": "Product", "name": item.title, "url": url}
        if item.image is not None:
            product["image"] = [request.build_absolute_uri(item.image.original.url)]
        description = " ".join(strip_tags(item.product.description or "").split())
        if description:
            product["description"] = Truncator(description).chars(500)
        if item.product.upc:
            product["sku"] = item.product.upc
        if item.price is not None:
            product["offers"] = _offer(storefront, item, url=url)
        products.append({"@type": "ListItem", "position": position, "item": product})
    return {
        "@context": "https://schema.org",
        "@type": "ItemList",
        "name": storefront.popup.title,
        "url": url,
        "numberOfItems": len(products),
        "itemListElement": products,
    }


def offer_availability(*, storefront: Storefront, item: StorefrontItem) -> str:
    """The schema.org availability of an item, told honestly from the pop-up's state and its stock.

    - Coming soon (or a draft): PreOrder — announced, with `availabilityStarts` at the opening.
    - Live: SoldOut when this item has no units left; PreOrder in a pre-sale (the product ships
      later); InStock otherwise.
    - Sold out: SoldOut.
    - Closed: SoldOut if the item sold out; else Discontinued for a limited series or a clearance
      (the offer will not come back as such), OutOfStock for a seasonal offer or a pre-sale (it may).
    """
    state, kind = storefront.state, storefront.popup.kind
    sold_out = item.units_left is not None and item.units_left <= 0
    if state in (PopUp.State.COMING_SOON, PopUp.State.DRAFT):
        return SCHEMA + "PreOrder"
    if state == PopUp.State.SOLD_OUT or sold_out:
        return SCHEMA + "SoldOut"
    if state == PopUp.State.CLOSED:
        if kind in (PopUp.Kind.LIMITED, PopUp.Kind.CLEARANCE):
            return SCHEMA + "Discontinued"
        return SCHEMA + "OutOfStock"
    if kind == PopUp.Kind.PRESALE:
        return SCHEMA + "PreOrder"
    return SCHEMA + "InStock"


def _offer(storefront: Storefront, item: StorefrontItem, *, url: str) -> dict:
    popup = storefront.popup
    opens, closes = timezone.localtime(popup.opens_at), timezone.localtime(popup.closes_at)
    offer = {
        "@type": "Offer",
        "url": url,
        "price": str(item.price.quantize(Decimal("0.01"))),
        "priceCurrency": item.currency,
        "availability": offer_availability(storefront=storefront, item=item),
        "validFrom": opens.isoformat(),
        "priceValidUntil": closes.date().isoformat(),
        "availabilityStarts": opens.isoformat(),
        "availabilityEnds": closes.isoformat(),
    }
    if item.units_left is not None:
        offer["inventoryLevel"] = {"@type": "QuantitativeValue", "value": item.units_left}
    return offer


def _share_picture(storefront: Storefront) -> tuple[FieldFile | None, bool]:
    """The hero image, else the first product photo in display order."""
    if storefront.popup.hero_image:
        return storefront.popup.hero_image, True
    for item in storefront.items:
        if item.image is not None and item.image.original:
            return item.image.original, False
    return None, False


def picture_read(*, picture: FieldFile | None) -> bytes | None:
    """The stored picture's bytes; None when there is none or it cannot be read (logged)."""
    if picture is None:
        return None
    try:
        with picture.storage.open(picture.name, "rb") as source:
            return source.read()
    except OSError:
        logger.warning("Drawn without its picture %s: unreadable.", picture.name)
        return None


def storefront_price_text(*, storefront: Storefront) -> str:
    """The lowest price, as “from €25.00” when the prices differ; empty when nothing has one."""
    lowest = storefront.lowest_price
    if lowest is None:
        return ""
    amount = currency(lowest.price, lowest.currency)
    prices = {(item.price, item.currency) for item in storefront.items if item.price is not None}
    return _("from %(price)s") % {"price": amount} if len(prices) > 1 else amount


def _status_text(storefront: Storefront) -> str:
    popup, state, now = storefront.popup, storefront.state, storefront.now
    if state in (PopUp.State.COMING_SOON, PopUp.State.DRAFT) and now < popup.opens_at:
        return _("Opens %(date)s") % {"date": _day(popup.opens_at, now=now)}
    if state == PopUp.State.CLOSED or now >= popup.closes_at:
        return _("Ended %(date)s") % {"date": _day(popup.closes_at, now=now)}
    if state == PopUp.State.SOLD_OUT:
        return _("Sold out")
    units = storefront.units_left
    if units is not None:
        return ngettext("%(count)d left", "%(count)d left", units) % {"count": units}
    return _("Until %(date)s") % {"date": _day(popup.closes_at, now=now)}


def _day(moment, *, now) -> str:
    """“12 December”, with the year when it is not the current one."""
    local, today = timezone.localtime(moment), timezone.localtime(now)
    return date_format(local, "j F" if local.year == today.year else "j F Y")
