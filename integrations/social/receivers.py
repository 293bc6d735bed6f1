"""Changes that can alter the catalogue feeds queue their regeneration (debounced, after commit)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from oscar.core.loading import get_model

from integrations.social.feed_files import feeds_regenerate_queue
from popup.models import PopUp, PopUpProduct

Product = get_model("catalogue", "Product")
ProductImage = get_model("catalogue", "ProductImage")
StockRecord = get_model("partner", "StockRecord")
RangeProduct = get_model("offer", "RangeProduct")

SAVED_OR_DELETED = [post_save, post_delete]


@receiver(SAVED_OR_DELETED, sender=PopUp, dispatch_uid="popup-feeds-popup")
def popup_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        feeds_regenerate_queue(popup_ids=[instance.pk])


@receiver(SAVED_OR_DELETED, sender=PopUpProduct, dispatch_uid="popup-feeds-terms")
def popup_terms_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        feeds_regenerate_queue(popup_ids=[instance.popup_id])


# A product can be in any pop-up's range (by category or class too): every pop-up's feeds.
@receiver(SAVED_OR_DELETED, sender=Product, dispatch_uid="popup-feeds-product")
@receiver(SAVED_OR_DELETED, sender=ProductImage, dispatch_uid="popup-feeds-image")
@receiver(SAVED_OR_DELETED, sender=StockRecord, dispatch_uid="popup-feeds-stock")
@receiver(SAVED_OR_DELETED, sender=RangeProduct, dispatch_uid="popup-feeds-range")
def catalogue_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        feeds_regenerate_queue(popup_ids=None)
