import logging
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from oscar.core.loading import get_class, get_model

from integrations.stripe.facade import REFUNDED
from integrations.stripe.webhooks import webhook_handler_register

from .models import Pledge, PopUpBasket
from .services.checkout import CheckoutRefused, checkout_complete
from .services.placements import commission_refund_apply
from .services.pledges import pledge_charge_reported
from .tasks import send_product_alerts

logger = logging.getLogger(__name__)

StockRecord = get_model("partner", "StockRecord")
PaymentEvent = get_model("order", "PaymentEvent")
ProductAlert = get_model("customer", "ProductAlert")
PaymentError = get_class("payment.exceptions", "PaymentError")


@receiver(post_save, sender=StockRecord, dispatch_uid="popup-product-alerts")
def queue_product_alerts(sender, instance, raw=False, **kwargs):
    # Oscar sends these inline on every save when OSCAR_EAGER_ALERTS is on; we send them from Celery,
    # and only when someone waits: every order's stock allocation saves a record too.
    if raw or settings.OSCAR_EAGER_ALERTS:
        return
    if (instance.net_stock_level or 0) <= 0:
        return
    waiting = ProductAlert.objects.filter(
        product_id=instance.product_id, status=ProductAlert.ACTIVE
    )
    if waiting.exists():
        transaction.on_commit(partial(send_product_alerts.delay, instance.product_id))


@receiver(post_save, sender=PaymentEvent, dispatch_uid="popup-commission-refund")
def withdraw_refunded_commission(sender, instance, created=False, raw=False, **kwargs):
    # However the refund was made (the dashboard, our facade), Oscar records a "Refunded" event.
    if created and not raw and instance.event_type.name == REFUNDED:
        commission_refund_apply(order=instance.order)


def _payment_authorised(event) -> None:
    # Stripe says a pop-up payment is authorised (or captured): make sure its order exists, even
    # if the shopper's browser never came back. checkout_complete is idempotent and order-free.
    intent = event.data_object
    basket_id = str((intent.get("metadata") or {}).get("popup_basket", ""))
    if not basket_id.isdigit() or not PopUpBasket.objects.filter(pk=basket_id).exists():
        return
    try:
        checkout_complete(basket_id=int(basket_id), payment_intent_id=intent["id"])
    except (CheckoutRefused, PaymentError) as outcome:
        logger.info("Stripe event %s for basket %s: %s", event.stripe_id, basket_id, outcome)


for event_type in ("payment_intent.amount_capturable_updated", "payment_intent.succeeded"):
    webhook_handler_register(event_type=event_type, handler=_payment_authorised)


def _pledge_charged(event) -> None:
    # A pledge's off-session charge succeeded or failed at Stripe: record it even if the worker
    # that charged it died before it could (otherwise its lease would have to run out first).
    intent = event.data_object
    pledge_id = str((intent.get("metadata") or {}).get("popup_pledge", ""))
    if not pledge_id.isdigit() or not Pledge.objects.filter(pk=pledge_id).exists():
        return
    try:
        pledge_charge_reported(pledge_id=int(pledge_id), payment_intent_id=intent["id"])
    except PaymentError as error:
        logger.info("Stripe event %s for pledge %s: %s", event.stripe_id, pledge_id, error)


for event_type in ("payment_intent.succeeded", "payment_intent.payment_failed"):
    webhook_handler_register(event_type=event_type, handler=_pledge_charged)
