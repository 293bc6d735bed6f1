from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from oscar.core.loading import get_model

from .tasks import send_product_alerts

StockRecord = get_model("partner", "StockRecord")


@receiver(post_save, sender=StockRecord, dispatch_uid="popup-product-alerts")
def queue_product_alerts(sender, instance, raw=False, **kwargs):
    # Oscar sends these inline on every save when OSCAR_EAGER_ALERTS is on; we send them from Celery.
    if raw or settings.OSCAR_EAGER_ALERTS:
        return
    transaction.on_commit(partial(send_product_alerts.delay, instance.product_id))
