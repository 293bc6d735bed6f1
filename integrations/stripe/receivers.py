"""What Stripe's webhooks mean to the pop-up: a payment authorised, a card saved for a pledge or a
pledge's charge settled is recorded even when the shopper's browser, or the worker, never came back;
a refund made in Stripe's dashboard shows on the Oscar order; a dispute is noted on the order and
the staff (ADMINS) are told.

Events come in the shape of their endpoint's API version (client.STRIPE_API_VERSION for an endpoint
made as the README says; localstripe sends 2017-08-15's): handlers read only fields both have, and
ask Stripe for the rest."""

import logging
from functools import partial

from django.core.mail import mail_admins
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from oscar.core.loading import get_class

from integrations.stripe import facade
from integrations.stripe.client import id_of
from integrations.stripe.webhooks import webhook_handler_register
from popup.checkout.services import CheckoutRefused, checkout_complete
from popup.core.languages import language_of_basket
from popup.models import Pledge, PopUpBasket
from popup.payments import DISPUTE_LOST, DISPUTE_OPENED, DISPUTE_WON
from popup.presales.pledges import pledge_charge_reported, pledge_confirm

logger = logging.getLogger(__name__)

PaymentError = get_class("payment.exceptions", "PaymentError")


def _payment_authorised(event) -> None:
    # Stripe says a pop-up payment is authorised (or captured): make sure its order exists, even
    # if the shopper's browser never came back. checkout_complete is idempotent and order-free.
    intent = event.data_object
    metadata = intent.get("metadata") or {}
    basket_id = str(metadata.get("popup_basket", ""))
    if metadata.get("popup_pledge"):
        return  # a pledge's charge, which names its basket too: _pledge_charged records it
    if not basket_id.isdigit() or not PopUpBasket.objects.filter(pk=basket_id).exists():
        return
    try:
        with translation.override(language_of_basket(int(basket_id))):  # what the shopper is told
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


def _card_saved(event) -> None:
    # A pre-sale backer's card is saved (after 3-D Secure, say): make the pledge even if their
    # browser never came back. pledge_confirm is idempotent and checks the basket owns the setup.
    setup = event.data_object
    basket_id = str((setup.get("metadata") or {}).get("popup_basket", ""))
    if not basket_id.isdigit() or not PopUpBasket.objects.filter(pk=basket_id).exists():
        return
    try:
        pledge_confirm(basket_id=int(basket_id), setup_intent_id=setup["id"])
    except (CheckoutRefused, PaymentError) as outcome:
        logger.info("Stripe event %s for basket %s: %s", event.stripe_id, basket_id, outcome)


webhook_handler_register(event_type="setup_intent.succeeded", handler=_card_saved)


def _charge_refunded(event) -> None:
    # Refunded in Stripe's dashboard, or by us (then already recorded: nothing more happens). The
    # Refunded payment event withdraws an ambassador's commission on it (popup.receivers).
    payment_intent_id = id_of(event.data_object.get("payment_intent"))
    if payment_intent_id:
        facade.refunds_reported(payment_intent_id=payment_intent_id)


webhook_handler_register(event_type="charge.refunded", handler=_charge_refunded)


def _dispute(event, *, closed: bool) -> None:
    dispute = facade.dispute_from(event.data_object)
    order = facade.dispute_record(dispute=dispute, closed=closed)
    if order is None:
        return
    name = facade.dispute_outcome(dispute, closed=closed)
    subjects = {
        DISPUTE_OPENED: _("Order %(number)s is disputed: answer by the date in Stripe"),
        DISPUTE_WON: _("Order %(number)s: the dispute was settled in your favour"),
        DISPUTE_LOST: _("Order %(number)s: the dispute was lost (a chargeback)"),
    }
    message = facade.dispute_summary(dispute, name=name)
    transaction.on_commit(partial(mail_admins, subjects[name] % {"number": order.number}, message))


webhook_handler_register(
    event_type="charge.dispute.created", handler=partial(_dispute, closed=False)
)
webhook_handler_register(event_type="charge.dispute.closed", handler=partial(_dispute, closed=True))
