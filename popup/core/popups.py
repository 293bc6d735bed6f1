"""Writes of pop-ups from the dashboard: creating, saving, publishing, deleting or archiving, the
slice's terms and the hero image."""

import dataclasses
import io
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import connection, transaction
from django.db.models import ProtectedError, Q, QuerySet, RestrictedError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import get_text_list, slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from oscar.core.loading import get_model
from PIL import Image, ImageOps, UnidentifiedImageError

from popup.core.pushes import live_changed
from popup.core.reductions import popup_prices_record
from popup.locking import rows_locked
from popup.models import Pledge, PopUp, PopUpBasket, PopUpProduct
from popup.models.core import reserved_slugs

Product = get_model("catalogue", "Product")
Range = get_model("offer", "Range")
Condition = get_model("offer", "Condition")
Benefit = get_model("offer", "Benefit")
ConditionalOffer = get_model("offer", "ConditionalOffer")

HERO_IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
HERO_IMAGE_MAX_BYTES = 8 * 1024 * 1024
HERO_IMAGE_MIN_SIZE = (600, 315)  # the smallest Open Graph image that renders large
HERO_IMAGE_MAX_WIDTH = 2400
# Refuse to decode anything bigger: a small file can still expand into gigabytes of pixels.
HERO_IMAGE_MAX_PIXELS = 60_000_000

# Publishing and saving a published pop-up take this lock, so two staff members cannot publish
# overlapping pop-ups at the same moment, each check passing before the other commits.
_SCHEDULE_LOCK_KEY = 0x706F7075  # "popu"


@dataclass(frozen=True)
class ScheduleConflict:
    """Another published pop-up whose schedule overlaps, and the products both would sell."""

    other: PopUp
    products: list

    @property
    def message(self) -> str:
        names = get_text_list([f"“{product.get_title()}”" for product in self.products], _("and"))
        return ngettext(
            "%(products)s is also in the published pop-up “%(other)s” (%(opens)s – %(closes)s), "
            "whose schedule overlaps this one: both would sell the same stock.",
            "%(products)s are also in the published pop-up “%(other)s” (%(opens)s – %(closes)s), "
            "whose schedule overlaps this one: both would sell the same stock.",
            len(self.products),
        ) % {
            "products": names,
            "other": self.other.title,
            "opens": date_format(timezone.localtime(self.other.opens_at), "DATETIME_FORMAT"),
            "closes": date_format(timezone.localtime(self.other.closes_at), "DATETIME_FORMAT"),
        }


def _sellable(products: QuerySet) -> QuerySet:
    # Parents are never sold themselves; their children are (Range.all_products includes them).
    return products.exclude(structure=Product.PARENT)


def _products_for_new_range(product_ids: Collection[int]) -> QuerySet:
    """What Range.all_products() would give for a range of exactly these products."""
    return Product.objects.filter(Q(pk__in=product_ids) | Q(parent__in=product_ids))


def popup_schedule_conflicts(
    *,
    popup: PopUp,
    product_ids: Collection[int] | None = None,
    now: datetime | None = None,
) -> list[ScheduleConflict]:
    """Published pop-ups that overlap this one's schedule and share products with it.

    `product_ids` stands for the slice of a range not created yet (the dashboard's "new range");
    by default the pop-up's own range is used. Overlaps that ended before `now` are ignored: the
    stock they shared can no longer be sold twice.
    """
    now = now or timezone.now()
    if not (popup.opens_at and popup.closes_at) or popup.closes_at <= max(popup.opens_at, now):
        return []
    if product_ids is not None:
        mine = _products_for_new_range(product_ids)
    elif popup.range_id:
        mine = popup.range.all_products()
    else:
        return []
    mine = _sellable(mine).values("pk")
    others = (
        PopUp.objects.filter(
            is_published=True,
            opens_at__lt=popup.closes_at,
            closes_at__gt=popup.opens_at,
        )
        .filter(closes_at__gt=now)
        .select_related("range")
        .order_by("opens_at", "pk")
    )
    if popup.pk:
        others = others.exclude(pk=popup.pk)
    conflicts = []
    for other in others:
        shared = list(
            _sellable(other.range.all_products())
            .filter(pk__in=mine)
            .select_related("parent")
            .order_by("title", "pk")
        )
        if shared:
            conflicts.append(ScheduleConflict(other=other, products=shared))
    return conflicts


def popup_schedule_check(*, popup: PopUp, product_ids: Collection[int] | None = None) -> None:
    """Raises a ValidationError naming products and pop-ups if publishing this pop-up would oversell."""
    conflicts = popup_schedule_conflicts(popup=popup, product_ids=product_ids)
    if conflicts:
        raise ValidationError([conflict.message for conflict in conflicts])


def _lock_schedules() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SCHEDULE_LOCK_KEY])


def popup_slug_suggest(*, title: str, exclude_pk: int | None = None) -> str:
    """A free, non-reserved slug made from the title (with -2, -3… when taken)."""
    max_length = PopUp._meta.get_field("slug").max_length
    base = slugify(title)[: max_length - 4].strip("-") or "popup"
    taken = PopUp.objects.exclude(pk=exclude_pk).filter(slug__startswith=base)
    taken = set(taken.values_list("slug", flat=True)) | reserved_slugs()
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def popup_range_create(*, name: str, products: Sequence) -> "Range":
    """A new Oscar range holding exactly these products, in this order, under a free name."""
    max_length = Range._meta.get_field("name").max_length
    base = name[: max_length - 5]
    candidate, number = base, 1
    while Range.objects.filter(name=candidate).exists():
        number += 1
        candidate = f"{base} ({number})"
    product_range = Range.objects.create(
        name=candidate, description=_("Created for a pop-up from the dashboard.")
    )
    for order, product in enumerate(products):
        product_range.add_product(product, display_order=order)
    return product_range


def popup_product_terms_sync(*, popup: PopUp) -> list[PopUpProduct]:
    """Every sellable product of the pop-up's range has a terms row; returns the rows created.

    Rows of products that left the range are kept: they hold the units already sold there.
    """
    with_terms = PopUpProduct.objects.filter(popup=popup).values("product_id")
    missing = list(
        _sellable(popup.range.all_products())
        .exclude(pk__in=with_terms)
        .order_by("title", "pk")
        .values_list("pk", flat=True)
    )
    if not missing:
        return []
    last = PopUpProduct.objects.filter(popup=popup).order_by("-display_order").first()
    start = last.display_order + 1 if last else 0
    rows = [
        PopUpProduct(popup=popup, product_id=product_id, display_order=start + offset)
        for offset, product_id in enumerate(missing)
    ]
    # Two tabs opening the same pop-up may sync at once: the unique constraint settles it.
    return PopUpProduct.objects.bulk_create(rows, ignore_conflicts=True)


@dataclass(frozen=True)
class ProductTerms:
    """A product the merchant picked for a new pop-up, with its cap and pop-up price there (a
    product with variants: each variant on these terms)."""

    product: "Product"
    units_offered: int | None = None
    price: Decimal | None = None


@transaction.atomic
def popup_create(*, popup: PopUp, products: Sequence[ProductTerms] = ()) -> PopUp:
    """Creates the pop-up, with a new range of exactly `products` on their terms when given (else
    the range set on it), and publishes it if it is marked so; all of it or nothing.

    Publishing re-checks schedule conflicts under the lock, as popup_save does.
    """
    if products:
        popup.range = popup_range_create(
            name=_("Pop-up: %(title)s") % {"title": popup.title},
            products=[item.product for item in products],
        )
        popup.owns_range = True
    if popup.is_published:
        popup.archived_at = None
        _lock_schedules()
        popup_schedule_check(popup=popup)
    popup.save()
    rows = []
    for item in products:
        if item.product.is_parent:
            offered = list(item.product.children.order_by("title", "pk"))
        else:
            offered = [item.product]
        rows.extend(
            PopUpProduct(
                popup=popup,
                product=product,
                units_offered=item.units_offered,
                price=item.price,
                display_order=len(rows) + offset,
            )
            for offset, product in enumerate(offered)
        )
    PopUpProduct.objects.bulk_create(rows)
    popup_prices_record(terms=rows)
    popup_product_terms_sync(popup=popup)
    return popup


@transaction.atomic
def popup_save(*, popup: PopUp, new_range_products: Sequence | None = None) -> PopUp:
    """Saves the pop-up (creating its range from products if asked) and syncs its product terms.

    A published pop-up is re-checked for schedule conflicts under a lock, so the check made by the
    form cannot go stale between validation and commit; publishing brings an archived one back.
    """
    if new_range_products:
        popup.range = popup_range_create(
            name=_("Pop-up: %(title)s") % {"title": popup.title}, products=new_range_products
        )
        popup.owns_range = True
    elif popup.pk and PopUp.objects.filter(pk=popup.pk).exclude(range=popup.range_id).exists():
        popup.owns_range = False  # another range chosen: the one it made is no longer its own
    if popup.is_published:
        popup.archived_at = None
        _lock_schedules()
        popup_schedule_check(popup=popup)
    popup.save()
    popup_product_terms_sync(popup=popup)
    return popup


@transaction.atomic
def popup_publish(*, popup: PopUp) -> PopUp:
    """Publishes the pop-up unless a published pop-up with an overlapping schedule sells the same products."""
    _lock_schedules()
    popup_schedule_check(popup=popup)
    popup.is_published = True
    popup.archived_at = None  # publishing an archived pop-up brings it back
    popup.save(update_fields=["is_published", "archived_at", "updated_at"])
    return popup


def popup_unpublish(*, popup: PopUp) -> PopUp:
    """Takes the pop-up back to draft: only staff can see it from now on."""
    popup.is_published = False
    popup.save(update_fields=["is_published", "updated_at"])
    return popup


@transaction.atomic
def popup_product_terms_update(*, popup: PopUp, terms: Sequence[PopUpProduct]) -> None:
    """Saves caps, prices and order of these terms; never touches units sold, never caps below them."""
    if not terms:
        return
    # Lock in primary-key order (as reservations do) and read the units sold now, not when the
    # form was displayed: a sale may have happened meanwhile.
    locked = rows_locked(PopUpProduct.objects.filter(popup=popup, pk__in=[t.pk for t in terms]))
    sold = {row.pk: row.units_sold for row in locked}
    errors = []
    for term in terms:
        if term.pk not in sold:
            raise ValidationError(_("These terms do not belong to this pop-up."))
        if term.units_offered is not None and term.units_offered < sold[term.pk]:
            errors.append(
                _("%(product)s: %(sold)s units are already sold; offer at least that many.")
                % {"product": term.product.get_title(), "sold": sold[term.pk]}
            )
    if errors:
        raise ValidationError(errors)
    PopUpProduct.objects.bulk_update(terms, ["units_offered", "price", "display_order"])
    live_changed(popup_id=popup.pk)  # a bulk update sends no signal
    popup_prices_record(terms=terms)


@dataclass(frozen=True)
class PopUpRemoval:
    """What deleting a pop-up does, in counts (the dashboard words them). When money went through
    it, or may have, it is archived instead: unpublished and listed apart, its figures kept.
    Otherwise it is deleted, with its range only if the pop-up made that range and no Oscar offer
    or other pop-up uses it."""

    orders: int
    pledges: int
    # Baskets without an order whose checkout reached the payment: a payment may be under way, or
    # have gone through unheard (the attempt is counted before the payment service is asked).
    payments: int
    # Baskets a shopper was using when the pop-up was deleted: a payment may have been starting.
    busy: int
    owns_range: bool
    range_offers: list[
        str
    ]  # the names of the Oscar offers whose condition or benefit uses the range
    range_in_offer_setup: bool  # a condition or benefit not in any offer yet uses the range
    range_popups: int  # other pop-ups selling the same range

    @property
    def archives(self) -> bool:
        return bool(self.orders or self.pledges or self.payments or self.busy)

    @property
    def deletes_range(self) -> bool:
        return (
            not self.archives
            and self.owns_range
            and not self.range_offers
            and not self.range_in_offer_setup
            and not self.range_popups
        )


# A checkout counts its attempt, and commits, before it asks the payment service; the payment's id
# is saved only once the service answers, and may never be if the answer is lost.
_PAYMENT_STARTED = Q(payment_attempts__gt=0) | ~Q(payment_intent_id="")


def popup_removal_plan(*, popup: PopUp, busy_baskets: Collection[int] = ()) -> PopUpRemoval:
    """What popup_delete would do to this pop-up and its range now; `busy_baskets` are baskets a
    shopper is using at this moment, so that money may be going through them."""
    baskets = PopUpBasket.objects.filter(popup=popup)
    without_order = baskets.filter(order__isnull=True)
    range_id = popup.range_id
    in_offer = Q(condition__range=range_id) | Q(benefit__range=range_id)
    offers = list(
        ConditionalOffer.objects.filter(in_offer).order_by("name").values_list("name", flat=True)
    )
    return PopUpRemoval(
        orders=baskets.filter(order__isnull=False).count(),
        pledges=Pledge.objects.filter(popup=popup).count(),
        payments=without_order.filter(_PAYMENT_STARTED).count(),
        busy=(
            without_order.filter(pk__in=busy_baskets).exclude(_PAYMENT_STARTED).count()
            if busy_baskets
            else 0
        ),
        owns_range=popup.owns_range,
        range_offers=offers,
        range_in_offer_setup=not offers
        and (
            Condition.objects.filter(range=range_id).exists()
            or Benefit.objects.filter(range=range_id).exists()
        ),
        range_popups=PopUp.objects.filter(range=range_id).exclude(pk=popup.pk).count(),
    )


@transaction.atomic
def popup_delete(*, popup: PopUp, now: datetime | None = None) -> PopUpRemoval:
    """Deletes the pop-up and its terms, and its range if popup_removal_plan says so; archives it
    instead when money went through it or may have, so no order, pledge or payment loses its
    pop-up or its basket. Raises PopUp.DoesNotExist when it is gone already."""
    # Its baskets first, then its row: a checkout locks its basket, then the pop-up (to place the
    # order, or by inserting a row that refers to it); the other way round, deleting while someone
    # pays could deadlock. A locked basket cannot start or finish a payment unseen.
    baskets = PopUpBasket.objects.filter(popup_id=popup.pk)
    locked = [basket.pk for basket in rows_locked(baskets, of=("self",))]
    # The pop-up's row, not its range's: from now on no basket or pledge can be made for it.
    rows = rows_locked(PopUp.objects.filter(pk=popup.pk).select_related("range"), of=("self",))
    if not rows:
        raise PopUp.DoesNotExist(f"Pop-up {popup.pk} was deleted meanwhile.")
    (popup,) = rows
    # Baskets made between the two locks. One a shopper holds now is not waited for (they may lock
    # the pop-up next, which would deadlock): it may be starting a payment, so the pop-up stays.
    late = baskets.exclude(pk__in=locked)
    late_locked = [basket.pk for basket in rows_locked(late, of=("self",), skip_locked=True)]
    busy = list(late.exclude(pk__in=late_locked).values_list("pk", flat=True))
    removal = popup_removal_plan(popup=popup, busy_baskets=busy)
    if removal.archives:
        popup.is_published = False
        popup.archived_at = popup.archived_at or now or timezone.now()
        popup.save(update_fields=["is_published", "archived_at", "updated_at"])
        return removal
    product_range = popup.range
    popup.delete()
    if removal.deletes_range:
        try:
            with transaction.atomic():
                product_range.delete()
        except (ProtectedError, RestrictedError):
            # Something of the store's own refers to it: it stays, the pop-up is deleted.
            return dataclasses.replace(removal, owns_range=False)
    return removal


def popup_hero_image_prepare(*, image: File) -> File:
    """The uploaded hero image re-encoded without metadata if it is a JPEG, PNG or WebP of at least
    600×315 px, downscaled to at most 2400 px wide; raises ValidationError otherwise."""
    if image.size > HERO_IMAGE_MAX_BYTES:
        raise ValidationError(
            _("The image is %(size)s MB; the limit is 8 MB.")
            % {"size": f"{image.size / 2**20:.1f}"},
            code="too_big",
        )
    image.seek(0)
    try:
        picture = Image.open(image)
        image_format = picture.format
        width, height = picture.size
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise ValidationError(
            _("This file is not an image we can read."), code="not_an_image"
        ) from error
    if image_format not in HERO_IMAGE_FORMATS:
        raise ValidationError(
            _("%(format)s images are not accepted: upload a JPEG, PNG or WebP.")
            % {"format": image_format},
            code="format",
        )
    if width * height > HERO_IMAGE_MAX_PIXELS:
        raise ValidationError(
            _("The image is %(width)s×%(height)s px, too large to process.")
            % {"width": width, "height": height},
            code="too_many_pixels",
        )
    if picture.getexif().get(0x0112) in (5, 6, 7, 8):  # EXIF orientation: shown rotated 90°
        width, height = height, width
    min_width, min_height = HERO_IMAGE_MIN_SIZE
    if width < min_width or height < min_height:
        raise ValidationError(
            _(
                "The image is %(width)s×%(height)s px; it must be at least "
                "%(min_width)s×%(min_height)s px."
            )
            % {"width": width, "height": height, "min_width": min_width, "min_height": min_height},
            code="too_small",
        )
    name = f"{PurePath(image.name or 'hero').stem}.{HERO_IMAGE_FORMATS[image_format]}"
    return ContentFile(_reencode(picture, image_format), name=name)


def _reencode(picture: Image.Image, image_format: str) -> bytes:
    # Always re-encoded: a phone photo's EXIF (GPS position, device) must not go public.
    icc_profile = picture.info.get("icc_profile")
    picture = ImageOps.exif_transpose(picture)
    if picture.width > HERO_IMAGE_MAX_WIDTH:
        height = round(picture.height * HERO_IMAGE_MAX_WIDTH / picture.width)
        picture = picture.resize((HERO_IMAGE_MAX_WIDTH, max(1, height)), Image.Resampling.LANCZOS)
    options = {"icc_profile": icc_profile} if icc_profile else {}
    if image_format == "JPEG":
        if picture.mode not in ("RGB", "L", "CMYK"):
            picture = picture.convert("RGB")
        options.update(quality=88, optimize=True, progressive=True)
    elif image_format == "WEBP":
        options.update(quality=88, method=4)
    else:
        options.update(optimize=True)
    buffer = io.BytesIO()
    picture.save(buffer, format=image_format, **options)
    return buffer.getvalue()
