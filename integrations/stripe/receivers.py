"""What Stripe's webhooks mean to the pop-up: a payment authorised or a pledge's charge settled is
recorded even when the shopper's browser, or the worker that charged, never came back."""

import logging

from oscar.core.loading import get_class

from integrations.stripe.webhooks import webhook_handler_register
from popup.checkout.services import CheckoutRefused, checkout_complete
from popup.models import Pledge, PopUpBasket
from popup.presales.pledges import pledge_charge_reported

logger = logging.getLogger(__name__)

PaymentError = get_class("payment.exceptions", "PaymentError")


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
