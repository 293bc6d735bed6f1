"""Printable QR posters of a pop-up, or of one of its placements: A4 or square, PNG or PDF.

The QR code carries the placement's short link, so scans are counted for it, else the pop-up's page
tagged utm_source=poster. Drawing an A4 page at 300 dpi takes a while: each poster is drawn once
per content, size and format, then served from Django's cache.
"""

import hashlib
from dataclasses import astuple, dataclass
from datetime import datetime
from io import BytesIO
from urllib.parse import urlsplit

import qrcode
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from oscar.templatetags.currency_filters import currency
from PIL import Image, ImageDraw, ImageOps

from integrations.social.previews import picture_read, storefront_price_text
from integrations.social.share_image import (
    INK,
    WHITE,
    colour_contrasting,
    colour_parse,
    font_load,
    picture_decode,
    text_ellipsize,
    text_fit,
    text_wrap,
)
from popup.cache import cache_get, cache_set
from popup.core.selectors import Storefront, popup_storefront
from popup.models import Placement, PopUp

# Bump when the drawing changes, so cached posters of unchanged pop-ups are drawn again.
LAYOUT_VERSION = "1"
# Keys are content fingerprints, so an entry never goes stale; the timeout only frees memory.
POSTER_CACHE_SECONDS = 7 * 24 * 3600
POSTER_FORMATS = {"png": "image/png", "pdf": "application/pdf"}
POSTER_UTM = {"utm_source": "poster", "utm_medium": "qr"}
MUTED = (75, 85, 99)
MM_PER_INCH = 25.4
LEADING = 1.2


@dataclass(frozen=True)
class PosterLayout:
    """Where things go on one poster size, in pixels, and the printed page it makes."""

    width: int
    height: int
    page_mm: tuple[int, int]  # the PDF page, and the print size the PNG's dpi says
    margin: int
    hero_height: int
    qr_side: int  # the code with its quiet zone
    qr_beside_text: bool  # the code right of the text (square), or under it (A4)
    title_sizes: range
    title_max_lines: int
    tagline_size: int
    price_size: int
    small_size: int
    gap: int

    @property
    def dpi(self) -> tuple[float, float]:
        return (
            self.width * MM_PER_INCH / self.page_mm[0],
            self.height * MM_PER_INCH / self.page_mm[1],
        )


POSTER_LAYOUTS = {
    # 300 dpi on A4 portrait; the code is 10 cm wide with its quiet zone: phones read it from 1-2 m.
    "a4": PosterLayout(
        width=2480,
        height=3508,
        page_mm=(210, 297),
        margin=170,
        hero_height=1000,
        qr_side=1180,
        qr_beside_text=False,
        title_sizes=range(150, 59, -6),
        title_max_lines=4,
        tagline_size=64,
        price_size=120,
        small_size=54,
        gap=44,
    ),
    # 254 dpi on a 20 cm square (a counter card, a window sticker, a social post).
    "square": PosterLayout(
        width=2000,
        height=2000,
        page_mm=(200, 200),
        margin=120,
        hero_height=620,
        qr_side=880,
        qr_beside_text=True,
        title_sizes=range(120, 43, -4),
        title_max_lines=4,
        tagline_size=48,
        price_size=96,
        small_size=40,
        gap=34,
    ),
}


@dataclass(frozen=True)
class PosterContent:
    """Everything a poster shows; two equal contents draw the same poster."""

    title: str
    tagline: str
    price_text: str  # "€25.00", "from €25.00", or "" when nothing has a price yet
    regular_price_text: str  # struck through beside the price: the reduction's prior price
    note: str  # a pre-sale's goal and ship date
    opens_text: str
    closes_text: str
    url: str  # what the QR code carries
    url_label: str  # the same, written for people under the code
    kind_text: str
    shop_name: str
    accent_colour: str
    hero_name: str = ""  # storage name of the hero image drawn, if any


def poster_url(*, request: HttpRequest, popup: PopUp, placement: Placement | None = None) -> str:
    """The absolute URL a poster's code carries: the placement's short link, else the pop-up's
    page tagged as coming from a poster."""
    if placement is not None:
        return request.build_absolute_uri(placement.get_absolute_url())
    return request.build_absolute_uri(f"{popup.get_absolute_url()}?{urlencode(POSTER_UTM)}")


def poster_url_label(url: str) -> str:
    """The URL as people type it: no scheme, no query, no trailing slash."""
    parts = urlsplit(url)
    return parts.netloc.rpartition("@")[2] + parts.path.rstrip("/")


def poster_filename(
    *, popup: PopUp, size: str, fmt: str, placement: Placement | None = None
) -> str:
    """A download name that tells posters apart, e.g. indigo-winter-poster-market-stand-a4.pdf."""
    parts = [popup.slug, "poster"]
    if placement is not None:
        parts.append(slugify(placement.name) or placement.code)
    return f"{'-'.join(parts)}-{size}.{fmt}"


def poster_content_build(
    *, popup: PopUp, url: str, storefront: Storefront, shop_name: str
) -> PosterContent:
    """What the poster shows of the pop-up as it stands in `storefront`, with `url` in its code."""
    lowest = storefront.lowest_price
    regular = ""
    if lowest is not None and lowest.is_discounted:
        regular = currency(lowest.prior_price, lowest.currency)
    return PosterContent(
        title=popup.title,
        tagline=popup.tagline,
        price_text=storefront_price_text(storefront=storefront),
        regular_price_text=regular,
        note=_presale_note(popup) if popup.kind == PopUp.Kind.PRESALE else "",
        opens_text=_("Opens %(when)s") % {"when": _moment(popup.opens_at)},
        closes_text=_("Closes %(when)s") % {"when": _moment(popup.closes_at)},
        url=url,
        url_label=poster_url_label(url),
        kind_text=str(popup.get_kind_display()),
        shop_name=shop_name,
        accent_colour=popup.accent_colour,
        hero_name=popup.hero_image.name if popup.hero_image else "",
    )


def poster_fingerprint(
    *, popup: PopUp, content: PosterContent, placement: Placement | None = None
) -> str:
    """A short hash of everything the poster draws: it changes exactly when the poster would."""
    parts = [
        LAYOUT_VERSION,
        str(popup.pk),
        popup.updated_at.isoformat() if popup.updated_at else "",
        str(placement.pk) if placement is not None else "",
        *(str(value) for value in astuple(content)),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]


def poster_cache_key(*, fingerprint: str, size: str, fmt: str) -> str:
    """Where the poster drawn for this content, size and format is kept in Django's cache."""
    return f"popup-social:poster:{fingerprint}:{size}:{fmt}"


def poster_get(
    *,
    popup: PopUp,
    url: str,
    size: str,
    fmt: str,
    placement: Placement | None = None,
    storefront: Storefront | None = None,
) -> bytes:
    """The poster, drawn once per content, size and format and then served from the cache."""
    storefront = storefront or popup_storefront(popup=popup)
    content = poster_content_build(
        popup=popup, url=url, storefront=storefront, shop_name=settings.OSCAR_SHOP_NAME
    )
    fingerprint = poster_fingerprint(popup=popup, content=content, placement=placement)
    key = poster_cache_key(fingerprint=fingerprint, size=size, fmt=fmt)
    poster = cache_get(key)
    if poster is None:
        poster = poster_render(
            popup=popup, url=url, size=size, fmt=fmt, placement=placement, storefront=storefront
        )
        cache_set(key, poster, POSTER_CACHE_SECONDS)
    return poster


def poster_render(
    *,
    popup: PopUp,
    url: str,
    size: str,
    fmt: str,
    placement: Placement | None = None,
    storefront: Storefront | None = None,
) -> bytes:
    """The poster drawn now as PNG or PDF bytes ("a4": 2480x3508 px on an A4 page, "square":
    2000x2000 px on a 20 cm page), its code carrying `url`; an unreadable hero image is left out."""
    if size not in POSTER_LAYOUTS or fmt not in POSTER_FORMATS:
        raise ValueError(f"No {size} {fmt} poster: sizes are a4 and square, formats png and pdf.")
    layout = POSTER_LAYOUTS[size]
    content = poster_content_build(
        popup=popup,
        url=url,
        storefront=storefront or popup_storefront(popup=popup),
        shop_name=settings.OSCAR_SHOP_NAME,
    )
    hero = None
    if popup.hero_image:
        hero = picture_decode(
            picture_read(picture=popup.hero_image), size=(layout.width, layout.hero_height)
        )
    canvas = _draw(content=content, layout=layout, hero=hero)
    output = BytesIO()
    if fmt == "pdf":
        # The page gets exactly the layout's size in mm: Pillow sizes it from the dpi.
        canvas.save(
            output,
            "PDF",
            dpi=layout.dpi,
            quality=92,
            subsampling=0,
            title=content.title,
            subject=placement.name if placement is not None else content.tagline,
            author=content.shop_name,
            creator=content.shop_name,
        )
    else:
        canvas.save(output, "PNG", dpi=layout.dpi, compress_level=3)
    return output.getvalue()


def _draw(*, content: PosterContent, layout: PosterLayout, hero: Image.Image | None) -> Image.Image:
    width, height, margin, gap = layout.width, layout.height, layout.margin, layout.gap
    accent = colour_parse(content.accent_colour)
    canvas = Image.new("RGB", (width, height), WHITE)
    draw = ImageDraw.Draw(canvas)

    if hero is not None:
        picture = ImageOps.fit(hero, (width, layout.hero_height), Image.Resampling.LANCZOS)
        canvas.paste(picture, (0, 0))
        band = layout.hero_height + margin // 6
        draw.rectangle((0, layout.hero_height, width, band), fill=accent)
    else:
        band = layout.hero_height
        draw.rectangle((0, 0, width, band), fill=accent)
        _draw_masthead(draw, content=content, layout=layout, accent=accent)
    body_top = band + 2 * gap

    # The code and its label first: they keep their size, the text takes what is left.
    side, label_size = layout.qr_side, layout.small_size
    if layout.qr_beside_text:
        qr_x = width - margin - side
        block = side + gap + label_size
        qr_y = body_top + max(0, (height - margin - body_top - block) // 2)
        text_box = (margin, body_top, qr_x - gap, height - margin)
    else:
        qr_x = (width - side) // 2
        qr_y = height - margin - label_size - gap - side
        text_box = (margin, body_top, width - margin, qr_y - gap)
    canvas.paste(_qr_image(content.url, side=side), (qr_x, qr_y))
    label_font = font_load(False, label_size)
    label_width = side if layout.qr_beside_text else width - 2 * margin
    draw.text(
        (qr_x + side // 2, qr_y + side + gap + label_size),
        text_ellipsize(content.url_label, label_font, label_width),
        font=label_font,
        fill=INK,
        anchor="ms",
    )
    _draw_text(draw, content=content, layout=layout, box=text_box)
    return canvas


def _draw_masthead(
    draw: ImageDraw.ImageDraw,
    *,
    content: PosterContent,
    layout: PosterLayout,
    accent: tuple[int, int, int],
) -> None:
    """The shop's name and the kind of pop-up, large on the accent colour where a photo would be."""
    colour, margin = colour_contrasting(accent), layout.margin
    kind_font = font_load(False, layout.tagline_size)
    kind = text_ellipsize(content.kind_text, kind_font, layout.width - 2 * margin)
    draw.text((margin, margin), kind, font=kind_font, fill=colour, anchor="lt")
    top = margin + round(layout.tagline_size * LEADING) + layout.gap
    size, lines = text_fit(
        content.shop_name,
        width=layout.width - 2 * margin,
        height=layout.hero_height - margin - top,
        sizes=range(layout.title_sizes[0] * 3 // 2, layout.title_sizes[-1], -6),
        max_lines=2,
    )
    font, line_height = font_load(True, size), round(size * 1.15)
    baseline = layout.hero_height - margin
    for index, line in enumerate(reversed(lines)):
        draw.text(
            (margin, baseline - index * line_height), line, font=font, fill=colour, anchor="ls"
        )


def _draw_text(
    draw: ImageDraw.ImageDraw,
    *,
    content: PosterContent,
    layout: PosterLayout,
    box: tuple[int, int, int, int],
) -> None:
    """Title, tagline, price, pre-sale note and dates stacked from the top of `box`; the title
    gets the room the others leave, and the tagline and the note go when there is none."""
    left, top, right, bottom = box
    width, gap, small = right - left, layout.gap, layout.small_size
    dates = _lines(content.opens_text, size=small, width=width, max_lines=2)
    dates += _lines(content.closes_text, size=small, width=width, max_lines=2)
    # (name, lines, size) in the order drawn under the title; the price is one line of its own.
    blocks = [
        ("tagline", _lines(content.tagline, size=layout.tagline_size, width=width, max_lines=2)),
        ("price", [content.price_text] if content.price_text else []),
        ("note", _lines(content.note, size=small, width=width, max_lines=2)),
        ("dates", dates),
    ]
    sizes = {"tagline": layout.tagline_size, "price": layout.price_size, "note": small}

    def room_for_title() -> int:
        used = sum(
            len(lines) * round(sizes.get(name, small) * LEADING) + gap
            for name, lines in blocks
            if lines
        )
        return bottom - top - used - gap

    smallest_title = round(layout.title_sizes[-1] * 1.15)
    for optional in ("tagline", "note"):
        if room_for_title() >= smallest_title:
            break
        blocks = [(name, lines) for name, lines in blocks if name != optional]

    size, title = text_fit(
        content.title,
        width=width,
        height=room_for_title(),
        sizes=layout.title_sizes,
        max_lines=layout.title_max_lines,
    )
    y = _draw_lines(draw, title, x=left, y=top, size=size, bold=True, fill=INK, leading=1.15)
    for name, lines in blocks:
        if not lines:
            continue
        y += gap
        if name == "price":
            y = _draw_price(draw, content=content, layout=layout, x=left, y=y, width=width)
        else:
            fill = INK if name == "dates" else MUTED
            size = sizes.get(name, small)
            y = _draw_lines(draw, lines, x=left, y=y, size=size, bold=False, fill=fill)


def _draw_price(
    draw: ImageDraw.ImageDraw,
    *,
    content: PosterContent,
    layout: PosterLayout,
    x: int,
    y: int,
    width: int,
) -> int:
    """The price in large type, the regular price struck through after it if there is room."""
    font = font_load(True, layout.price_size)
    price = text_ellipsize(content.price_text, font, width)
    baseline = y + font.getmetrics()[0]
    draw.text((x, baseline), price, font=font, fill=INK, anchor="ls")
    if content.regular_price_text:
        regular_size = layout.price_size * 11 // 20
        regular_font = font_load(False, regular_size)
        start = x + round(font.getlength(price)) + layout.gap
        end = start + round(regular_font.getlength(content.regular_price_text))
        if end <= x + width:
            draw.text(
                (start, baseline),
                content.regular_price_text,
                font=regular_font,
                fill=MUTED,
                anchor="ls",
            )
            strike = baseline - round(regular_size * 0.36)
            draw.line((start, strike, end, strike), fill=MUTED, width=max(3, regular_size // 12))
    return y + round(layout.price_size * LEADING)


def _draw_lines(
    draw: ImageDraw.ImageDraw,
    lines: list[str],
    *,
    x: int,
    y: int,
    size: int,
    bold: bool,
    fill: tuple[int, int, int],
    leading: float = LEADING,
) -> int:
    """Lines from `y` down; returns where the next block starts."""
    font = font_load(bold, size)
    ascent = font.getmetrics()[0]
    line_height = round(size * leading)
    for index, line in enumerate(lines):
        draw.text((x, y + index * line_height + ascent), line, font=font, fill=fill, anchor="ls")
    return y + len(lines) * line_height


def _lines(text: str, *, size: int, width: int, max_lines: int) -> list[str]:
    """`text` wrapped to `width` in at most `max_lines` lines, an ellipsis ending what is cut."""
    font = font_load(False, size)
    lines = text_wrap(" ".join(text.split()), font, width)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = text_ellipsize(lines[-1] + "…", font, width)
    return lines


def _qr_image(url: str, *, side: int) -> Image.Image:
    """The code for `url`, `side` px square with its 4-module quiet zone, modules whole pixels."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()
    modules = len(matrix)
    small = Image.new("L", (modules, modules))
    small.putdata([0 if dark else 255 for row in matrix for dark in row])
    module = max(1, side // modules)
    sharp = small.resize((module * modules,) * 2, Image.Resampling.NEAREST)
    image = Image.new("RGB", (side, side), WHITE)
    offset = (side - sharp.width) // 2
    image.paste(sharp, (offset, offset))
    return image


def _presale_note(popup: PopUp) -> str:
    parts = [_("Pre-sale")]
    if popup.presale_goal_units:
        goal = popup.presale_goal_units
        parts.append(
            ngettext("goal %(count)d unit", "goal %(count)d units", goal) % {"count": goal}
        )
    elif popup.presale_goal_amount:
        amount = currency(popup.presale_goal_amount, settings.OSCAR_DEFAULT_CURRENCY)
        parts.append(_("goal %(amount)s") % {"amount": amount})
    if popup.presale_ships_on:
        parts.append(_("ships %(month)s") % {"month": date_format(popup.presale_ships_on, "F Y")})
    return " · ".join(parts)


def _moment(moment: datetime) -> str:
    """“Fri 12 December, 10:00” in the store's time zone, with the year when not the current one."""
    store = timezone.get_default_timezone()
    local, today = timezone.localtime(moment, store), timezone.localtime(timezone.now(), store)
    return date_format(local, "D j F, H:i" if local.year == today.year else "D j F Y, H:i")
