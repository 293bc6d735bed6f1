"""The share image of a pop-up, drawn with Pillow: data in, PNG bytes out, no Django and no I/O but fonts.

The drawing helpers (fonts, colours, pictures, fitted text) are public: the QR posters use them too.
"""

from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageColor, ImageDraw, ImageFont, ImageOps

WIDTH, HEIGHT = 1200, 630  # what Facebook, LinkedIn and X show at full size (1.91:1)
# The smaller sizes served (oEmbed thumbnails within a consumer's maxwidth); a fixed set, so
# nobody can make us draw and cache a thousand variants of one image.
WIDTHS = (1200, 960, 800, 640, 480, 400, 320, 240, 160, 120)
# Bump when the drawing changes, so cached images of unchanged pop-ups are drawn again.
LAYOUT_VERSION = "1"

# Debian's fonts-dejavu-core; without it Pillow's own scalable default font is used.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
BOLD_FONT = FONT_DIR / "DejaVuSans-Bold.ttf"
REGULAR_FONT = FONT_DIR / "DejaVuSans.ttf"

MARGIN = 64
PICTURE_PANEL = 540  # the width a product photo takes on the right when there is no hero image
TITLE_SIZES = range(84, 39, -4)
TITLE_MAX_LINES = 3
WHITE, INK = (255, 255, 255), (17, 17, 17)
DEFAULT_ACCENT = (194, 65, 12)


@dataclass(frozen=True)
class ShareCard:
    """Everything the share image shows; two equal cards draw the same image."""

    title: str
    price_text: str  # "from €25.00", or "" when nothing has a price yet
    status_text: str  # "7 left", "Opens 12 December", "Ended 3 March 2025"
    shop_name: str
    accent_colour: str
    picture_name: str = ""  # storage name of the hero image or product photo drawn, if any
    picture_is_hero: bool = False


def share_image_render(*, card: ShareCard, picture: bytes | None, width: int = WIDTH) -> bytes:
    """The card drawn as a 1200x630 PNG (scaled down to `width`); an unreadable picture is left out."""
    accent = colour_parse(card.accent_colour)
    canvas = Image.new("RGB", (WIDTH, HEIGHT), accent)
    photo = picture_decode(picture)
    if photo is not None and card.picture_is_hero:
        canvas.paste(ImageOps.fit(photo, (WIDTH, HEIGHT), Image.Resampling.LANCZOS))
        _darken_towards_bottom(canvas)
        text_colour, text_right = WHITE, WIDTH - MARGIN
        pill_fill, pill_text = accent, colour_contrasting(accent)
    else:
        text_right = WIDTH - MARGIN
        if photo is not None:
            panel = ImageOps.fit(photo, (PICTURE_PANEL, HEIGHT), Image.Resampling.LANCZOS)
            canvas.paste(panel, (WIDTH - PICTURE_PANEL, 0))
            text_right = WIDTH - PICTURE_PANEL - MARGIN
        text_colour = colour_contrasting(accent)
        pill_fill, pill_text = text_colour, accent

    draw = ImageDraw.Draw(canvas)
    text_width = text_right - MARGIN
    small = font_load(False, 30)
    draw.text(
        (MARGIN, 52),
        text_ellipsize(card.shop_name, small, text_width),
        font=small,
        fill=text_colour,
    )

    # Stack from the bottom up: status pill, price, title.
    y = HEIGHT - 56
    if card.status_text:
        font = font_load(True, 34)
        label = text_ellipsize(card.status_text, font, text_width - 48)
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font, anchor="ls")
        pill = (MARGIN, y - 56, MARGIN + (right - left) + 48, y)
        draw.rounded_rectangle(pill, radius=28, fill=pill_fill)
        draw.text((MARGIN + 24, y - 28), label, font=font, fill=pill_text, anchor="lm")
        y -= 56 + 28
    if card.price_text:
        font = font_load(True, 52)
        price = text_ellipsize(card.price_text, font, text_width)
        draw.text((MARGIN, y), price, font=font, fill=text_colour, anchor="ls")
        y -= 52 + 36
    title_top_limit = 52 + 30 + 40
    size, lines = text_fit(
        card.title,
        width=text_width,
        height=y - title_top_limit,
        sizes=TITLE_SIZES,
        max_lines=TITLE_MAX_LINES,
    )
    font, line_height = font_load(True, size), round(size * 1.15)
    for index, line in enumerate(reversed(lines)):
        draw.text((MARGIN, y - index * line_height), line, font=font, fill=text_colour, anchor="ls")

    width = share_image_width(width)
    if width < WIDTH:
        canvas = canvas.resize((width, share_image_height(width)), Image.Resampling.LANCZOS)
    output = BytesIO()
    canvas.save(output, "PNG", compress_level=6)
    return output.getvalue()


def share_image_width(requested: int) -> int:
    """The largest width served that is not wider than `requested` (the smallest one at least)."""
    return next((width for width in WIDTHS if width <= requested), WIDTHS[-1])


def share_image_height(width: int) -> int:
    """The height of the image served at `width`."""
    return round(share_image_width(width) * HEIGHT / WIDTH)


@lru_cache(maxsize=32)
def font_load(bold: bool, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans (bold or regular) at `size` px; Pillow's own scalable font without it."""
    path = BOLD_FONT if bold else REGULAR_FONT
    if path.exists():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def colour_parse(value: str) -> tuple[int, int, int]:
    """A "#rrggbb" colour as RGB; the default accent for anything unreadable."""
    try:
        return ImageColor.getrgb(value)[:3]
    except ValueError:
        return DEFAULT_ACCENT


def colour_contrasting(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """White or ink, whichever reads better on `rgb` (WCAG relative luminance)."""

    def channel(value: int) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(value) for value in rgb)
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return INK if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else WHITE


def picture_decode(
    picture: bytes | None, *, size: tuple[int, int] = (WIDTH, HEIGHT)
) -> Image.Image | None:
    """The picture as an RGB image at least about `size` big; None when absent or unreadable."""
    if not picture:
        return None
    try:
        image = Image.open(BytesIO(picture))
        image.draft("RGB", size)  # JPEGs decode at a reduced scale: faster, less memory
        return ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


def _darken_towards_bottom(canvas: Image.Image) -> None:
    """A black gradient under the text so white type reads on any photo."""
    ramp = Image.linear_gradient("L").resize((WIDTH, HEIGHT))  # 0 at the top, 255 at the bottom
    shade = ramp.point(lambda value: int(70 + value * 0.55))
    canvas.paste(Image.new("RGB", (WIDTH, HEIGHT), (0, 0, 0)), (0, 0), shade)


def text_wrap(text: str, font, width: int) -> list[str]:
    """The words of `text` in lines no wider than `width`; a word too long for one is broken."""
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and font.getlength(candidate) <= width:
            lines[-1] = candidate
            continue
        # A word wider than the box is broken where it overflows.
        while font.getlength(word) > width and len(word) > 1:
            cut = next(
                (i for i in range(len(word) - 1, 0, -1) if font.getlength(word[:i]) <= width), 1
            )
            lines.append(word[:cut])
            word = word[cut:]
        lines.append(word)
    return lines


def text_fit(
    text: str,
    *,
    width: int,
    height: int,
    sizes: range,
    max_lines: int,
    bold: bool = True,
    leading: float = 1.15,
) -> tuple[int, list[str]]:
    """The largest of `sizes` at which the wrapped text fits the box; at the smallest, an ellipsis
    ends it. Lines are `round(size * leading)` px apart."""
    text = " ".join(text.split()) or " "
    for size in sizes:
        font = font_load(bold, size)
        lines = text_wrap(text, font, width)
        if len(lines) <= max_lines and len(lines) * round(size * leading) <= height:
            return size, lines
    size = sizes[-1]
    font = font_load(bold, size)
    max_lines = max(1, min(max_lines, height // round(size * leading)))
    lines = text_wrap(text, font, width)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = text_ellipsize(lines[-1] + "…", font, width)
    return size, lines


def text_ellipsize(text: str, font, width: int) -> str:
    """`text` cut to `width` with an ellipsis, or as it is when it fits."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text.rstrip() + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"
