"""Product-like pictures drawn with Pillow, so screenshots look like a real shop and not grey boxes."""

import io

from PIL import Image, ImageDraw, ImageFilter


def _gradient(size: tuple[int, int], top: str, bottom: str) -> Image.Image:
    mask = Image.linear_gradient("L").resize(size)  # black at the top, white at the bottom
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


def _shadow(image: Image.Image, box: tuple[int, int, int, int]) -> None:
    layer = Image.new("L", image.size, 0)
    ImageDraw.Draw(layer).ellipse(box, fill=110)
    layer = layer.filter(ImageFilter.GaussianBlur(image.size[0] // 40))
    image.paste((40, 30, 25), mask=layer)


def _mug(draw: ImageDraw.ImageDraw, cx: int, base: int, s: float, colour: str) -> None:
    w, h = 170 * s, 190 * s
    left, top = cx - w / 2, base - h
    draw.ellipse(
        (left + w - 40 * s, top + 40 * s, left + w + 60 * s, top + 140 * s),
        outline=colour,
        width=round(22 * s),
    )
    draw.rounded_rectangle((left, top, left + w, base), radius=round(26 * s), fill=colour)
    draw.ellipse((left, top - 16 * s, left + w, top + 16 * s), fill="#f5f0e8")
    for i in range(40):  # speckles of the glaze
        x = left + 12 * s + (i * 37 % 146) * s
        y = top + 24 * s + (i * 53 % 150) * s
        draw.ellipse((x, y, x + 4 * s, y + 4 * s), fill="#3f3a36")


def _vase(draw: ImageDraw.ImageDraw, cx: int, base: int, s: float, colour: str) -> None:
    draw.ellipse((cx - 95 * s, base - 200 * s, cx + 95 * s, base), fill=colour)
    draw.rectangle((cx - 28 * s, base - 300 * s, cx + 28 * s, base - 150 * s), fill=colour)
    draw.ellipse((cx - 42 * s, base - 312 * s, cx + 42 * s, base - 288 * s), fill=colour)
    draw.ellipse((cx - 26 * s, base - 306 * s, cx + 26 * s, base - 294 * s), fill="#2a211c")
    draw.arc(
        (cx - 70 * s, base - 170 * s, cx + 20 * s, base - 40 * s),
        160,
        250,
        fill="#ffffff",
        width=round(8 * s),
    )


def _candle(draw: ImageDraw.ImageDraw, cx: int, base: int, s: float, colour: str) -> None:
    w, h = 130 * s, 230 * s
    draw.rounded_rectangle(
        (cx - w / 2, base - h, cx + w / 2, base), radius=round(14 * s), fill=colour
    )
    draw.ellipse((cx - w / 2, base - h - 14 * s, cx + w / 2, base - h + 14 * s), fill="#fde68a")
    draw.line((cx, base - h - 4 * s, cx, base - h - 30 * s), fill="#292524", width=round(5 * s))
    draw.ellipse((cx - 14 * s, base - h - 80 * s, cx + 14 * s, base - h - 26 * s), fill="#f59e0b")
    draw.ellipse((cx - 7 * s, base - h - 60 * s, cx + 7 * s, base - h - 30 * s), fill="#fef3c7")
    draw.rectangle((cx - w / 2, base - 110 * s, cx + w / 2, base - 70 * s), fill="#f5f0e8")


def _tote(draw: ImageDraw.ImageDraw, cx: int, base: int, s: float, colour: str) -> None:
    w, h = 230 * s, 250 * s
    draw.arc(
        (cx - 70 * s, base - h - 110 * s, cx + 70 * s, base - h + 70 * s),
        180,
        360,
        fill="#d6c6ae",
        width=round(14 * s),
    )
    draw.polygon(
        [
            (cx - w / 2, base - h),
            (cx + w / 2, base - h),
            (cx + w / 2 + 14 * s, base),
            (cx - w / 2 - 14 * s, base),
        ],
        fill=colour,
    )
    for offset in (60, 90):
        y = base - offset * s
        draw.line(
            (cx - w / 2 - 10 * s, y, cx + w / 2 + 10 * s, y), fill="#f5f0e8", width=round(12 * s)
        )


def _soap(draw: ImageDraw.ImageDraw, cx: int, base: int, s: float, colour: str) -> None:
    for i, tint in enumerate((colour, "#e7d8c0", "#b5c99a")):
        y = base - i * 62 * s
        x = cx + (i - 1) * 14 * s
        draw.rounded_rectangle(
            (x - 110 * s, y - 58 * s, x + 110 * s, y),
            radius=round(18 * s),
            fill=tint,
            outline="#00000022",
        )


def _throw(draw: ImageDraw.ImageDraw, cx: int, base: int, s: float, colour: str) -> None:
    w, h = 260 * s, 190 * s
    left, top = cx - w / 2, base - h
    draw.rounded_rectangle((left, top, left + w, base), radius=round(20 * s), fill=colour)
    for i in range(1, 6):
        x = left + i * w / 6
        draw.line((x, top + 6 * s, x, base - 6 * s), fill="#f5f0e8", width=round(6 * s))
    draw.line(
        (left, top + h * 0.45, left + w, top + h * 0.45), fill="#00000033", width=round(4 * s)
    )
    for i in range(12):  # fringe
        x = left + 10 * s + i * (w - 20 * s) / 11
        draw.line((x, base, x, base + 22 * s), fill=colour, width=round(4 * s))


DRAWINGS = {
    "mug": _mug,
    "vase": _vase,
    "candle": _candle,
    "tote": _tote,
    "soap": _soap,
    "throw": _throw,
}


def product_jpeg(kind: str, colour: str, background: tuple[str, str], size: int = 600) -> bytes:
    """A square studio shot of one object: a soft backdrop, a shadow, the object."""
    image = _gradient((size, size), *background)
    base = round(size * 0.84)
    _shadow(image, (size * 0.14, base - size * 0.05, size * 0.86, base + size * 0.05))
    draw = ImageDraw.Draw(image, "RGBA")
    centre = size // 2 - (round(size * 0.06) if kind == "mug" else 0)  # the handle sticks out
    DRAWINGS[kind](draw, centre, base, 1.3 * size / 600, colour)
    return _jpeg(image)


def hero_jpeg(colours: list[str], size: tuple[int, int] = (1200, 630)) -> bytes:
    """A wide shelf of objects, for a pop-up's hero image."""
    image = _gradient(size, "#f3e9dc", "#d9c3a5")
    width, height = size
    shelf = round(height * 0.78)
    ImageDraw.Draw(image).rectangle((0, shelf, width, height), fill="#8b5e3c")
    kinds = ["vase", "mug", "candle", "soap", "vase", "mug"]
    step = width / (len(kinds) + 1)
    for i, kind in enumerate(kinds):
        cx = round(step * (i + 1))
        _shadow(image, (cx - 90, shelf - 14, cx + 90, shelf + 14))
        DRAWINGS[kind](ImageDraw.Draw(image, "RGBA"), cx, shelf, 0.85, colours[i % len(colours)])
    return _jpeg(image)


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()
