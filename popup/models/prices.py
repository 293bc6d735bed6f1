"""What each product was offered at, and since when: the history honest reductions are read from."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PriceRecord(models.Model):
    """From `since`, until the next record of the same offer, the product was offered at `price`.

    An offer is the store's regular price (`popup` empty, as the store's strategy prices it) or one
    pop-up's own price, which applies only while that pop-up is open (`price` empty: the pop-up sells
    at the regular price again). Rows are only ever added (popup.core.reductions).
    """

    class Offer(models.TextChoices):
        REGULAR = "regular", _("Regular price")
        POPUP = "popup", _("Pop-up price")

    product = models.ForeignKey("catalogue.Product", on_delete=models.CASCADE, related_name="+")
    offer = models.CharField(max_length=8, choices=Offer.choices, default=Offer.REGULAR)
    # A deleted pop-up's prices stay in the history, with its public window (public_from/until).
    popup = models.ForeignKey(
        "popup.PopUp",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="price_records",
    )
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=12, blank=True, default="")
    since = models.DateTimeField(default=timezone.now)
    # A deleted pop-up's window open to the public, kept here as it is deleted (popup.receivers).
    public_from = models.DateTimeField(null=True, blank=True)
    public_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["since", "pk"]
        verbose_name = _("price record")
        indexes = [models.Index(fields=["product", "since"], name="popup_price_history")]

    def __str__(self) -> str:
        return f"{self.product_id} {self.offer} {self.price} {self.currency} since {self.since}"
