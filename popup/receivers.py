import logging

from django.conf import settings
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from django.utils import timezone
from oscar.core.loading import get_model

from popup.channels.placements import commission_refund_apply
from popup.core.pushes import live_changed
from popup.core.reductions import popup_prices_record, regular_prices_record
from popup.core.shells import page_changed
from popup.models import (
    Idea,
    IdeaVote,
    Poll,
    PollOption,
    PollVote,
    PopUp,
    PopUpProduct,
    PriceRecord,
    Question,
    VerifiedReview,
)
from popup.notifications.tasks import send_product_alerts
from popup.payments import DISPUTE_LOST, REFUNDED
from popup.privacy.consent import consent_confirm_for, consent_withdraw_for
from popup.queueing import task_queue_on_commit

logger = logging.getLogger(__name__)

StockRecord = get_model("partner", "StockRecord")
PaymentEvent = get_model("order", "PaymentEvent")
ProductAlert = get_model("customer", "ProductAlert")
Product = get_model("catalogue", "Product")
ProductImage = get_model("catalogue", "ProductImage")
Range = get_model("offer", "Range")

# What a pop-up page shows of the catalogue and of its shoppers' feedback (answers, ideas, polls
# and their votes, reviews): a change outdates the shared page shells.
PAGE_MODELS = (
    PopUp,
    PopUpProduct,
    Product,
    ProductImage,
    Range,
    Question,
    Idea,
    IdeaVote,
    VerifiedReview,
    Poll,
    PollOption,
    PollVote,
)
for model in PAGE_MODELS:
    for signal in (post_save, post_delete):
        signal.connect(page_changed, sender=model, dispatch_uid=f"popup-shells-{model.__name__}")
for relation in (Range.included_products, Range.excluded_products, Range.classes):
    m2m_changed.connect(
        page_changed, sender=relation.through, dispatch_uid=f"popup-shells-{relation.field}"
    )
post_delete.connect(page_changed, sender=StockRecord, dispatch_uid="popup-shells-stock")


# What the live figures say (state, units left): a change is pushed to the pop-up's open streams
# (popup.core.pushes); holds, checkouts and pledges announce their own.
def _live_changed(sender, instance, **_signal) -> None:
    if sender is PopUp:
        live_changed(popup_id=instance.pk)
    elif sender is PopUpProduct:
        live_changed(popup_id=instance.popup_id)
    elif sender is StockRecord:  # each order allocates: only the pop-ups selling the product
        for popup_id in set(
            PopUpProduct.objects.filter(product_id=instance.product_id).values_list(
                "popup_id", flat=True
            )
        ):
            live_changed(popup_id=popup_id)
    else:  # a product shown or hidden, a range's members: any pop-up
        live_changed()


for model in (PopUp, PopUpProduct, StockRecord, Product):
    for signal in (post_save, post_delete):
        signal.connect(_live_changed, sender=model, dispatch_uid=f"popup-live-{model.__name__}")
for relation in (Range.included_products, Range.excluded_products, Range.classes):
    m2m_changed.connect(
        _live_changed, sender=relation.through, dispatch_uid=f"popup-live-{relation.field}"
    )


@receiver(pre_save, sender=StockRecord, dispatch_uid="popup-shells-price")
def outdate_shells_on_price(sender, instance, raw=False, **kwargs):
    # Every order's stock allocation saves its stock record too: only a new record, or a new price,
    # changes a page (units left are live figures).
    if raw:
        return
    before = (
        StockRecord.objects.filter(pk=instance.pk).values_list("price", "price_currency").first()
        if instance.pk
        else None
    )
    if before != (instance.price, instance.price_currency):
        instance._popup_price_changed = True
        page_changed()


@receiver(post_save, sender=StockRecord, dispatch_uid="popup-price-history-regular")
def record_regular_price(sender, instance, raw=False, **kwargs):
    # The strategy decides which stock record prices the product: ask it, not this record.
    if not raw and getattr(instance, "_popup_price_changed", False):
        instance._popup_price_changed = False
        regular_prices_record(products=[instance.product])


@receiver(post_save, sender=PopUpProduct, dispatch_uid="popup-price-history-popup")
def record_popup_price(sender, instance, created=False, raw=False, **kwargs):
    # One row saved (the admin, a shell); the services record their bulk changes themselves. A new
    # row at the regular price (a hold makes the terms it lacks) has nothing to record.
    if not raw and not (created and instance.price is None):
        popup_prices_record(terms=[instance])


@receiver(post_save, sender=PopUp, dispatch_uid="popup-first-published")
def note_first_publication(sender, instance, raw=False, **kwargs):
    # From its first publication its prices were offered to the public, whatever comes after.
    if raw or not instance.is_published or instance.first_published_at is not None:
        return
    now = timezone.now()
    PopUp.objects.filter(pk=instance.pk, first_published_at__isnull=True).update(
        first_published_at=now
    )
    instance.first_published_at = now


@receiver(pre_delete, sender=PopUp, dispatch_uid="popup-price-history-deleted")
def keep_deleted_popups_prices(sender, instance, **kwargs):
    # A deleted pop-up's prices stay in the history with the window they were public in; one never
    # published offered them to nobody.
    records = PriceRecord.objects.filter(popup=instance)
    if instance.first_published_at is None or instance.event_only:
        records.delete()
    else:
        records.update(public_from=instance.opens_at, public_until=instance.closes_at)


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
        task_queue_on_commit(send_product_alerts, instance.product_id)


@receiver(post_save, sender=ProductAlert, dispatch_uid="popup-waitlist-consent")
def follow_waitlist_consent(sender, instance, raw=False, **kwargs):
    # Oscar's own confirm and cancel pages (and its dashboard) change the alert: its consent follows.
    if raw:
        return
    reference = f"productalert:{instance.pk}"
    if instance.status == ProductAlert.CANCELLED:
        consent_withdraw_for(reference=reference)
    elif instance.status in (ProductAlert.ACTIVE, ProductAlert.CLOSED) and instance.date_confirmed:
        consent_confirm_for(reference=reference)


@receiver(post_save, sender=PaymentEvent, dispatch_uid="popup-commission-refund")
def withdraw_refunded_commission(sender, instance, created=False, raw=False, **kwargs):
    # However the refund was made (the dashboard, the payment gateway), Oscar records a "Refunded"
    # event; a chargeback, a "Chargeback" event.
    if created and not raw and instance.event_type.name in (REFUNDED, DISPUTE_LOST):
        commission_refund_apply(order=instance.order)
