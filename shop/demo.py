"""The demo store: a small brand with four pop-ups in every state. Safe to run again."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from oscar.apps.catalogue.categories import create_from_breadcrumbs
from oscar.core.loading import get_model

from popup.channels.placements import placement_create
from popup.models import Ambassador, PopUp, PopUpProduct

from .demo_images import hero_photo, product_photo

Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")
Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")
ProductCategory = get_model("catalogue", "ProductCategory")
ProductImage = get_model("catalogue", "ProductImage")
Range = get_model("offer", "Range")
Country = get_model("address", "Country")

STAFF_EMAIL = "staff@example.com"
STAFF_PASSWORD = "popup-demo"


@dataclass(frozen=True)
class DemoProduct:
    upc: str
    title: str
    category: str
    shape: str
    colour: str
    price: Decimal
    stock: int | None  # None: not built yet (pre-sale)
    description: str = ""


PRODUCTS = [
    DemoProduct(
        "AN-SC-01",
        "Indigo wave scarf",
        "Textiles > Scarves",
        "scarf",
        "#1e3a8a",
        Decimal("59.00"),
        40,
        "Hand-dyed in small indigo vats; wool and silk, 180 x 70 cm.",
    ),
    DemoProduct(
        "AN-SC-02",
        "Rust wave scarf",
        "Textiles > Scarves",
        "scarf",
        "#b45309",
        Decimal("59.00"),
        30,
    ),
    DemoProduct(
        "AN-SC-03",
        "Moss wave scarf",
        "Textiles > Scarves",
        "scarf",
        "#3f6212",
        Decimal("59.00"),
        25,
    ),
    DemoProduct(
        "AN-TT-01", "Indigo market tote", "Textiles > Bags", "tote", "#1d4ed8", Decimal("35.00"), 60
    ),
    DemoProduct(
        "AN-MG-01", "Speckled mug, sky", "Ceramics > Mugs", "mug", "#0ea5e9", Decimal("28.00"), 48
    ),
    DemoProduct(
        "AN-MG-02", "Speckled mug, clay", "Ceramics > Mugs", "mug", "#c2410c", Decimal("28.00"), 48
    ),
    DemoProduct(
        "AN-MG-03", "Speckled mug, sage", "Ceramics > Mugs", "mug", "#65a30d", Decimal("28.00"), 36
    ),
    DemoProduct(
        "AN-CD-01",
        "Ember smart candle",
        "Home > Candles",
        "candle",
        "#b91c1c",
        Decimal("45.00"),
        None,
        "A beeswax candle that tells your phone when to trim the wick. Shipping in spring.",
    ),
    DemoProduct(
        "AN-CD-02",
        "Fjord smart candle",
        "Home > Candles",
        "candle",
        "#0f766e",
        Decimal("45.00"),
        None,
    ),
    DemoProduct(
        "AN-NB-01",
        "Linen notebook, ochre",
        "Paper > Notebooks",
        "notebook",
        "#ca8a04",
        Decimal("18.00"),
        12,
    ),
    DemoProduct(
        "AN-NB-02",
        "Linen notebook, plum",
        "Paper > Notebooks",
        "notebook",
        "#7e22ce",
        Decimal("18.00"),
        9,
    ),
]


# Where the demo ships: Oscar's checkout offers only countries marked is_shipping_country.
# (alpha-2, alpha-3, numeric, printable name, official name)
SHIPPING_COUNTRIES = [
    ("FR", "FRA", "250", "France", "French Republic"),
    ("DE", "DEU", "276", "Germany", "Federal Republic of Germany"),
    ("GB", "GBR", "826", "United Kingdom", "United Kingdom of Great Britain and Northern Ireland"),
    ("US", "USA", "840", "United States", "United States of America"),
    ("BE", "BEL", "056", "Belgium", "Kingdom of Belgium"),
    ("NL", "NLD", "528", "Netherlands", "Kingdom of the Netherlands"),
    ("ES", "ESP", "724", "Spain", "Kingdom of Spain"),
    ("IT", "ITA", "380", "Italy", "Italian Republic"),
]


@dataclass(frozen=True)
class DemoPopUp:
    slug: str
    title: str
    tagline: str
    kind: str
    accent: str
    opens_in: timedelta
    lasts: timedelta
    products: list[tuple[str, int | None, Decimal | None]]  # upc, units offered, pop-up price
    description: str = ""


POPUPS = [
    DemoPopUp(
        "indigo-winter",
        "Indigo winter drop",
        "Hand-dyed scarves, 75 pieces, never restocked",
        PopUp.Kind.LIMITED,
        "#1e3a8a",
        -timedelta(hours=5),
        timedelta(days=3),
        [
            ("AN-SC-01", 30, None),
            ("AN-SC-02", 25, None),
            ("AN-SC-03", 20, None),
            ("AN-TT-01", 40, Decimal("29.00")),
        ],
        "Every scarf is dyed by hand in our Lyon workshop, so no two are alike.\nShips within 3 days.",
    ),
    DemoPopUp(
        "spring-ceramics",
        "Spring ceramics",
        "Three new glazes, first come first served",
        PopUp.Kind.SEASONAL,
        "#0e7490",
        timedelta(days=2, hours=3),
        timedelta(days=5),
        [("AN-MG-01", 40, None), ("AN-MG-02", 40, None), ("AN-MG-03", 30, None)],
    ),
    DemoPopUp(
        "smart-candle",
        "The smart candle",
        "Back it now, we build 500 if 200 of you do",
        PopUp.Kind.PRESALE,
        "#b91c1c",
        -timedelta(days=4),
        timedelta(days=26),
        [("AN-CD-01", 300, Decimal("39.00")), ("AN-CD-02", 200, Decimal("39.00"))],
        "Pre-sale price, 13% off the launch price. Expected to ship in April.",
    ),
    DemoPopUp(
        "autumn-clearance",
        "Autumn clearance",
        "Last notebooks of the season",
        PopUp.Kind.CLEARANCE,
        "#a16207",
        -timedelta(days=12),
        timedelta(days=10),
        [("AN-NB-01", 12, Decimal("9.00")), ("AN-NB-02", 9, Decimal("9.00"))],
    ),
]


def _shipping_countries() -> None:
    for order, (alpha2, alpha3, numeric, printable, official) in enumerate(SHIPPING_COUNTRIES):
        Country.objects.update_or_create(
            iso_3166_1_a2=alpha2,
            defaults={
                "iso_3166_1_a3": alpha3,
                "iso_3166_1_numeric": numeric,
                "printable_name": printable,
                "name": official,
                "display_order": len(SHIPPING_COUNTRIES) - order,  # France first
                "is_shipping_country": True,
            },
        )


def _product(partner, classes, spec: DemoProduct, seed: int):
    product_class = classes[spec.stock is not None]
    product, created = Product.objects.get_or_create(
        upc=spec.upc,
        defaults={
            "title": spec.title,
            "product_class": product_class,
            "description": spec.description,
            # Not built yet: only its pre-sale shows it, until the pre-sale graduates.
            "is_public": spec.stock is not None,
        },
    )
    if created:
        category = create_from_breadcrumbs(spec.category)
        ProductCategory.objects.create(product=product, category=category)
        image = ProductImage(product=product, display_order=0, caption=spec.title)
        image.original.save(
            f"{spec.upc.lower()}.jpg",
            ContentFile(product_photo(spec.shape, spec.colour, seed=seed)),
            save=True,
        )
    StockRecord.objects.update_or_create(
        product=product,
        partner=partner,
        defaults={
            "partner_sku": spec.upc,
            "price": spec.price,
            "price_currency": "EUR",
            "num_in_stock": spec.stock or 0,
        },
    )
    return product


def _popup(spec: DemoPopUp, products: dict, seed: int, host_origins: str) -> PopUp:
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    product_range, _ = Range.objects.get_or_create(
        slug=f"popup-{spec.slug}", defaults={"name": spec.title}
    )
    for upc, _units, _price in spec.products:
        product_range.add_product(products[upc])
    popup, created = PopUp.objects.update_or_create(
        slug=spec.slug,
        defaults={
            "title": spec.title,
            "tagline": spec.tagline,
            "description": spec.description,
            "kind": spec.kind,
            "accent_colour": spec.accent,
            "range": product_range,
            "opens_at": now + spec.opens_in,
            "closes_at": now + spec.opens_in + spec.lasts,
            "is_published": True,
            "per_customer_limit": 2 if spec.kind == PopUp.Kind.LIMITED else None,
            "allowed_embed_origins": host_origins,
            "messenger_username": "ateliernord",
            "whatsapp_number": "+33612345678",
            "instagram_username": "atelier.nord",
            "presale_goal_units": 200 if spec.kind == PopUp.Kind.PRESALE else None,
            # Backers' cards are saved and charged at the deadline, only if 200 are pledged.
            "presale_funding": PopUp.Funding.ALL_OR_NOTHING
            if spec.kind == PopUp.Kind.PRESALE
            else PopUp.Funding.FLEXIBLE,
            "presale_ships_on": (now + timedelta(days=120)).date()
            if spec.kind == PopUp.Kind.PRESALE
            else None,
        },
    )
    if created:
        colours = [products[upc].demo_colour for upc, _, _ in spec.products]
        popup.hero_image.save(
            f"{spec.slug}.jpg", ContentFile(hero_photo([spec.accent, *colours], seed=seed))
        )
    for order, (upc, units, price) in enumerate(spec.products):
        PopUpProduct.objects.update_or_create(
            popup=popup,
            product=products[upc],
            defaults={"units_offered": units, "price": price, "display_order": order},
        )
    return popup


@transaction.atomic
def demo_seed(*, site_domain: str, host_origins: list[str]) -> list[PopUp]:
    """Create (or refresh) the demo store: staff user, shipping countries, catalogue, stock, pop-ups."""
    Site.objects.update_or_create(pk=1, defaults={"domain": site_domain, "name": "Atelier Nord"})
    User = get_user_model()
    staff, _ = User.objects.get_or_create(
        username="staff", defaults={"email": STAFF_EMAIL, "is_staff": True, "is_superuser": True}
    )
    staff.set_password(STAFF_PASSWORD)
    staff.save()

    _shipping_countries()
    partner, _ = Partner.objects.get_or_create(name="Atelier Nord workshop")
    classes = {
        True: ProductClass.objects.get_or_create(
            name="Handmade goods", defaults={"track_stock": True}
        )[0],
        False: ProductClass.objects.get_or_create(
            name="Pre-order", defaults={"track_stock": False}
        )[0],
    }
    products = {}
    for seed, spec in enumerate(PRODUCTS):
        products[spec.upc] = _product(partner, classes, spec, seed)
        products[spec.upc].demo_colour = spec.colour
    origins = "\n".join(host_origins)
    popups = [_popup(spec, products, seed, origins) for seed, spec in enumerate(POPUPS)]
    _channels(popups[0])
    return popups


def _channels(popup: PopUp) -> None:
    """A placement and an ambassador for the live drop, to try the short links and the attribution."""
    if not popup.placements.filter(name="Instagram bio").exists():
        placement_create(popup=popup, name="Instagram bio")
    sophie, _ = Ambassador.objects.get_or_create(
        email="sophie@example.com",
        defaults={
            "name": "Sophie",
            "kind": Ambassador.Kind.RESELLER,
            "code": "SOPHIE10",
            "discount_percent": Decimal("10"),
            "commission_percent": Decimal("15"),
        },
    )
    placement_create(popup=popup, name="Ambassador: Sophie", ambassador=sophie)
