"""Product and hero photos for the demo store, drawn with Pillow so the demo needs no downloads."""

import io
import math
import random

from PIL import Image, ImageDraw, ImageFilter


def _gradient(size: tuple[int, int], top: str, bottom: str) -> Image.Image:
    width, height = size
    top_rgb, bottom_rgb = (
        Image.new("RGB", (1, 1), top).getpixel((0, 0)),
        Image.new("RGB", (1, 1), bottom).getpixel((0, 0)),
    )
    column = Image.new("RGB", (1, height))
    for y in range(height):
        mix = y / max(1, height - 1)
        column.putpixel(
            (0, y),
            tuple(round(a + (b - a) * mix) for a, b in zip(top_rgb, bottom_rgb, strict=True)),
        )
    return column.resize(size)


def _shadow(canvas: Image.Image, box: tuple[int, int, int, int]) -> None:
    shadow = Image.new("L", canvas.size, 0)
    ImageDraw.Draw(shadow).ellipse(box, fill=110)
    canvas.paste((0, 0, 0), mask=shadow.filter(ImageFilter.GaussianBlur(18)))


def _scarf(draw: ImageDraw.ImageDraw, colour: str, rng: random.Random) -> None:
    for band in range(7):
        y = 170 + band * 42
        points = [(x, y + 22 * math.sin((x + band * 40) / 70)) for x in range(110, 700, 10)]
        draw.line(points, fill=colour if band % 2 == 0 else "#f5f5f4", width=36, joint="curve")
    for x in range(130, 690, 24):
        draw.line([(x, 470), (x + rng.randint(-6, 6), 520)], fill=colour, width=5)


def _mug(draw: ImageDraw.ImageDraw, colour: str, rng: random.Random) -> None:
    draw.rounded_rectangle((250, 230, 540, 560), radius=40, fill=colour)
    draw.ellipse((250, 205, 540, 260), fill="#44403c")
    draw.arc((500, 300, 640, 460), start=270, end=90, fill=colour, width=34)
    for _ in range(40):
        x, y = rng.randint(270, 520), rng.randint(280, 540)
        draw.ellipse((x, y, x + 6, y + 6), fill="#fafaf9")


def _candle(draw: ImageDraw.ImageDraw, colour: str, rng: random.Random) -> None:
    draw.rounded_rectangle((270, 300, 530, 590), radius=24, fill="#e7e5e4")
    draw.rectangle((290, 250, 510, 420), fill=colour)
    draw.line([(400, 250), (400, 205)], fill="#292524", width=6)
    draw.ellipse((380, 130, 420, 210), fill="#fbbf24")
    draw.ellipse((390, 160, 410, 205), fill="#fff7ed")


def _tote(draw: ImageDraw.ImageDraw, colour: str, rng: random.Random) -> None:
    draw.arc((300, 130, 500, 330), start=180, end=360, fill="#57534e", width=18)
    draw.polygon([(230, 240), (570, 240), (600, 600), (200, 600)], fill=colour)
    draw.rectangle((330, 380, 470, 460), outline="#fafaf9", width=6)


def _notebook(draw: ImageDraw.ImageDraw, colour: str, rng: random.Random) -> None:
    draw.rounded_rectangle((240, 150, 560, 620), radius=18, fill=colour)
    draw.rectangle((240, 150, 280, 620), fill="#292524")
    draw.line([(520, 150), (520, 620)], fill="#fafaf9", width=8)


SHAPES = {"scarf": _scarf, "mug": _mug, "candle": _candle, "tote": _tote, "notebook": _notebook}


def product_photo(shape: str, colour: str, *, seed: int, size: int = 800) -> bytes:
    """A studio-style JPEG of a product drawn in `colour` on a soft backdrop."""
    rng = random.Random(seed)
    canvas = _gradient((800, 800), "#f5f5f4", "#d6d3d1")
    _shadow(canvas, (200, 560, 600, 660))
    SHAPES[shape](ImageDraw.Draw(canvas), colour, rng)
    buffer = io.BytesIO()
    canvas.resize((size, size), Image.LANCZOS).save(buffer, "JPEG", quality=82, optimize=True)
    return buffer.getvalue()


def hero_photo(colours: list[str], *, seed: int) -> bytes:
    """A 1200x630 JPEG banner: soft blobs of the collection's colours."""
    rng = random.Random(seed)
    canvas = _gradient((1200, 630), colours[0], colours[-1])
    layer = Image.new("RGB", canvas.size)
    mask = Image.new("L", canvas.size, 0)
    draw, mask_draw = ImageDraw.Draw(layer), ImageDraw.Draw(mask)
    for _ in range(14):
        x, y, r = rng.randint(0, 1200), rng.randint(0, 630), rng.randint(80, 260)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.choice(colours))
        mask_draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.randint(70, 160))
    canvas.paste(layer, mask=mask.filter(ImageFilter.GaussianBlur(40)))
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=80, optimize=True)
    return buffer.getvalue()
