import html
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from popup.models import PopUp

STORE_TZ = ZoneInfo(settings.TIME_ZONE)


LIST_URL = reverse("popup-dashboard:popup-list")


CREATE_URL = reverse("popup-dashboard:popup-create")


def detail_url(popup):
    return reverse("popup-dashboard:popup-detail", kwargs={"pk": popup.pk})


def edit_url(popup):
    return reverse("popup-dashboard:popup-update", kwargs={"pk": popup.pk})


def local(days: int, hour: int = 10) -> datetime:
    """A wall-clock time in the store's time zone, `days` from today."""
    day = timezone.localdate() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=STORE_TZ)


def field(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def form_data(**overrides):
    """What a merchant submits for a draft selling an existing range, from tomorrow for a week."""
    data = {
        "title": "Indigo scarves",
        "slug": "",
        "tagline": "Hand-dyed, 50 pieces only",
        "description": "Dyed in small batches.",
        "kind": PopUp.Kind.LIMITED,
        "accent_colour": "#1e3a8a",
        "range": "",
        "opens_at": field(local(1)),
        "closes_at": field(local(8)),
        "per_customer_limit": "2",
        "allowed_embed_origins": "https://linktr.ee",
        "messenger_username": "",
        "whatsapp_number": "",
        "instagram_username": "",
        "action": "save",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def errors_of(response) -> str:
    """The page's text with entities decoded, as the merchant reads it."""
    return html.unescape(response.content.decode())


def jpeg(size=(1200, 630), image_format="JPEG", name="hero.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#1e3a8a").save(buffer, format=image_format)
    return SimpleUploadedFile(name, buffer.getvalue())


def terms_data(popup, rows):
    """The terms formset as posted, rows being (terms, units_offered, price, display_order)."""
    data = {
        "terms-TOTAL_FORMS": str(len(rows)),
        "terms-INITIAL_FORMS": str(len(rows)),
        "terms-MIN_NUM_FORMS": "0",
        "terms-MAX_NUM_FORMS": "1000",
    }
    for index, (terms, units, price, order) in enumerate(rows):
        data.update(
            {
                f"terms-{index}-id": str(terms.pk),
                f"terms-{index}-units_offered": units,
                f"terms-{index}-price": price,
                f"terms-{index}-display_order": order,
            }
        )
    return data


def rows_data(rows, *, blank: int = 0):
    """The create form's product rows as posted, rows being (product, units_offered, price);
    `blank` rows left empty after them, as the page shows."""
    data = {
        "rows-TOTAL_FORMS": str(len(rows) + blank),
        "rows-INITIAL_FORMS": "0",
        "rows-MIN_NUM_FORMS": "0",
        "rows-MAX_NUM_FORMS": "50",
    }
    for index, (product, units, price) in enumerate(rows):
        data.update(
            {
                f"rows-{index}-product": str(product.pk) if product is not None else "",
                f"rows-{index}-units_offered": units,
                f"rows-{index}-price": price,
            }
        )
    for index in range(len(rows), len(rows) + blank):
        data.update({f"rows-{index}-product": "", f"rows-{index}-units_offered": ""})
        data[f"rows-{index}-price"] = ""
    return data
