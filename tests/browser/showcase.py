"""A pop-up that looks like a real artisan drop: hero image, pictured products, discounts, contacts."""

from datetime import timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone
from oscar.core.loading import get_model

from popup.models import PopUp, PopUpProduct
from tests.factories import PopUpFactory, create_product

from .images import hero_jpeg, product_jpeg

ProductImage = get_model("catalogue", "ProductImage")

# title, drawing, colour, backdrop, regular price, pop-up price, units offered, units sold
PRODUCTS = [
    ("Speckled stoneware mug", "mug", "#2f5d62", ("#fde2c8", "#f7c59f"), "32.00", None, 12, 9),
    ("Cobalt bud vase", "vase", "#1e3a8a", ("#e0f2fe", "#bae6fd"), "58.00", "46.00", 8, 2),
    ("Beeswax pillar candle", "candle", "#f1e4c8", ("#fce7f3", "#fbcfe8"), "24.00", None, 30, 4),
    ("Indigo linen tote", "tote", "#3b5b8c", ("#ecfccb", "#d9f99d"), "45.00", "39.00", 15, 15),
    ("Olive oil soap trio", "soap", "#e8b4a0", ("#fef9c3", "#fde68a"), "18.00", None, 40, 11),
    ("Rust wool throw", "throw", "#b45309", ("#ede9fe", "#ddd6fe"), "120.00", "98.00", 5, 1),
]


def showcase_popup(**kwargs) -> PopUp:
    """A live limited drop of six pictured products, closing in 2 days 4 hours 13 minutes."""
    now = timezone.now()
    fields = {
        "title": "Winter Solstice Drop",
        "slug": "winter-solstice",
        "tagline": "Fired, dyed and poured by hand. 110 pieces, never restocked.",
        "description": "Everything in this drop came out of our December firing.",
        "kind": PopUp.Kind.LIMITED,
        "accent_colour": "#9a3412",
        # 30 s past the minute, so the "2d 04h 13m" countdown holds for a screenshot.
        "closes_at": now + timedelta(days=2, hours=4, minutes=13, seconds=30),
        "messenger_username": "atelier.nord",
        "whatsapp_number": "+33612345678",
        "instagram_username": "atelier.nord",
        "hero_image": ContentFile(
            hero_jpeg(["#9a3412", "#2f5d62", "#f1e4c8", "#e8b4a0", "#1e3a8a", "#b45309"]),
            name="solstice.jpg",
        ),
    }
    popup = PopUpFactory(**{**fields, **kwargs})
    for order, (title, drawing, colour, backdrop, regular, price, offered, sold) in enumerate(
        PRODUCTS
    ):
        product = create_product(title=title, price=Decimal(regular), stock=50)
        ProductImage.objects.create(
            product=product,
            original=ContentFile(product_jpeg(drawing, colour, backdrop), name=f"{drawing}.jpg"),
            caption=title,
            display_order=0,
        )
        popup.range.add_product(product)
        PopUpProduct.objects.create(
            popup=popup,
            product=product,
            units_offered=offered,
            units_sold=sold,
            price=Decimal(price) if price else None,
            display_order=order,
        )
    return popup
