"""What the EU's Consumer Rights Directive (2011/83/EU) has a distance sale tell the shopper before
they order and again in the confirmation (art. 6 and 8): who the merchant is, their terms of sale,
the 14-day right of withdrawal (Annex I), and which products it does not apply to (art. 16(c):
made to the shopper's specifications or personalised).

The words are templates a store may override: the page popup/withdrawal.html, the information
itself in popup/withdrawal/text.html and .txt, and what the order confirmation adds,
popup/withdrawal/confirmation.html and .txt. This module gives them the merchant's particulars,
from the settings in popup.conf.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from oscar.core.loading import get_model

from popup.conf import popup_settings, site_url
from popup.core.languages import language_match

ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")


@dataclass(frozen=True)
class Merchant:
    """The trader a shopper writes to to withdraw (Annex I(A) and the model form of Annex I(B))."""

    name: str
    address: str  # postal, one line per line
    email: str
    phone: str

    @property
    def address_lines(self) -> list[str]:
        return [line.strip() for line in self.address.splitlines() if line.strip()]

    @property
    def contact(self) -> str:
        """On one line, as the withdrawal information and its form name the merchant."""
        return ", ".join(
            part for part in (self.name, *self.address_lines, self.phone, self.email) if part
        )


@dataclass(frozen=True)
class Withdrawal:
    """Everything the withdrawal information and the links before paying need, in one language."""

    merchant: Merchant
    terms_url: str  # "" when the store has set none
    page_url: str  # the plugin's withdrawal page, in the same language
    shopper_pays_returns: bool


def merchant_identity() -> Merchant:
    """The merchant as POPUP_MERCHANT_* name them; the name is OSCAR_SHOP_NAME unless set."""
    return Merchant(
        name=popup_settings.POPUP_MERCHANT_NAME or getattr(settings, "OSCAR_SHOP_NAME", ""),
        address=popup_settings.POPUP_MERCHANT_ADDRESS,
        email=popup_settings.POPUP_MERCHANT_EMAIL,
        phone=popup_settings.POPUP_MERCHANT_PHONE,
    )


def _absolute(url: str) -> str:
    return f"{site_url()}{url}" if url.startswith("/") else url


def terms_url(*, language: str, absolute: bool = False) -> str:
    """The merchant's terms of sale in `language` (POPUP_TERMS_URL: one URL, or one per language
    code, the closest to `language` first, then the store's default's, then any); "" without any.
    `absolute`: a path becomes a URL on the store's site, for an e-mail."""
    configured = popup_settings.POPUP_TERMS_URL
    if isinstance(configured, dict):
        by_code = {code.lower(): url for code, url in configured.items() if url}
        wanted = (language or "").lower()
        candidates = [wanted, wanted.split("-")[0], settings.LANGUAGE_CODE.lower()]
        url = next((by_code[code] for code in candidates if code in by_code), "")
        url = url or next(iter(by_code.values()), "")
    else:
        url = configured or ""
    return _absolute(url) if absolute else url


def withdrawal_page_url(*, language: str, absolute: bool = False) -> str:
    """The plugin's withdrawal information page, asking for `language`."""
    path = reverse("popup:withdrawal")
    if language_match(language or ""):
        path = f"{path}?{urlencode({'lang': language})}"
    return _absolute(path) if absolute else path


def withdrawal_info(*, language: str, absolute: bool = False) -> Withdrawal:
    """The merchant, their terms and the withdrawal page, for a shopper speaking `language`;
    `absolute` URLs for an e-mail."""
    return Withdrawal(
        merchant=merchant_identity(),
        terms_url=terms_url(language=language, absolute=absolute),
        page_url=withdrawal_page_url(language=language, absolute=absolute),
        shopper_pays_returns=popup_settings.POPUP_RETURN_COSTS != "merchant",
    )


def products_made_to_order(*, products) -> list:
    """Those of `products` the merchant marked made to order (the yes/no Oscar attribute
    POPUP_MADE_TO_ORDER_ATTRIBUTE, a variant's own value first, else its parent's): no right of
    withdrawal applies to them. One query, in the order given."""
    code = popup_settings.POPUP_MADE_TO_ORDER_ATTRIBUTE
    products = list(products)
    if not code or not products:
        return []
    ids = {product.pk for product in products} | {
        product.parent_id for product in products if product.parent_id
    }
    marked = dict(
        ProductAttributeValue.objects.filter(
            attribute__code=code, product_id__in=ids, value_boolean__isnull=False
        ).values_list("product_id", "value_boolean")
    )
    return [
        product
        for product in products
        if marked.get(product.pk, marked.get(product.parent_id, False))
    ]
