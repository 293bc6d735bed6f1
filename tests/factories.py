"""Test data: Oscar's own factories for the catalogue, ours for pop-ups."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from oscar.core.loading import get_model
from oscar.test import factories as oscar_factories

from popup.models import PopUp, PopUpProduct

Range = get_model("offer", "Range")


def create_product(*, title="Linen tote", price=Decimal("40.00"), stock=20, image=False, **kwargs):
    """A public standalone product with one stock record (EUR) and optionally an image."""
    product = oscar_factories.create_product(title=title, price=price, num_in_stock=stock, **kwargs)
    product.stockrecords.update(price_currency="EUR")
    if image:
        oscar_factories.ProductImageFactory(product=product)
    return product


class RangeFactory(oscar_factories.RangeFactory):
    class Meta:
        skip_postgeneration_save = True


class PopUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PopUp

    title = factory.Sequence(lambda n: f"Winter drop {n}")
    slug = factory.Sequence(lambda n: f"winter-drop-{n}")
    tagline = "Hand-dyed, 50 pieces only"
    kind = PopUp.Kind.LIMITED
    range = factory.SubFactory(RangeFactory)
    opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=2))
    is_published = True
    allowed_embed_origins = "http://localhost:8001"


class PopUpProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PopUpProduct

    popup = factory.SubFactory(PopUpFactory)
    product = factory.LazyFunction(create_product)
    units_offered = 10


def popup_with_products(count: int, *, units_offered=10, **popup_kwargs) -> PopUp:
    """A published, live pop-up whose range holds `count` products, each with pop-up terms."""
    popup = PopUpFactory(**popup_kwargs)
    for number in range(count):
        product = create_product(title=f"Product {number:03d}", image=True)
        popup.range.add_product(product)
        PopUpProduct.objects.create(
            popup=popup, product=product, units_offered=units_offered, display_order=number
        )
    return popup


def france():
    """France, a country the store ships to."""
    country, _ = get_model("address", "Country").objects.update_or_create(
        iso_3166_1_a2="FR",
        defaults={
            "iso_3166_1_a3": "FRA",
            "iso_3166_1_numeric": "250",
            "name": "French Republic",
            "printable_name": "France",
            "is_shipping_country": True,
        },
    )
    return country
