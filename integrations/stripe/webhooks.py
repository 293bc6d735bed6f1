"""Stripe webhook events: stored once, processed once, by handlers looked up in a table by event type.

Other apps register their handlers without this package importing them, for example in the pop-up's
receivers module (imported by its AppConfig.ready):

    from integrations.stripe.webhooks import webhook_handler

    @webhook_handler("payment_intent.succeeded")
    def payment_intent_succeeded(event: StripeEvent) -> None:
        intent = event.data_object  # the PaymentIntent as a dict
        ...

Stripe delivers events more than once and in any order: a handler must be idempotent and must read
the state it needs (from our database, or from Stripe with client.payment_intent_retrieve) instead of
assuming that an earlier event was handled first.
"""

import logging
import traceback
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from integrations.stripe.client import WebhookEvent
from integrations.stripe.models import StripeEvent

logger = logging.getLogger(__name__)

Handler = Callable[[StripeEvent], None]

_handlers: dict[str, list[Handler]] = defaultdict(list)


def webhook_handler_register(*, event_type: str, handler: Handler) -> None:
    """Have `handler(event)` called for each stored event of `event_type`; registering twice is a no-op."""
    if handler not in _handlers[event_type]:
        _handlers[event_type].append(handler)


def webhook_handler_unregister(*, event_type: str, handler: Handler) -> None:
    """Stop calling `handler` for `event_type` (tests use it to tidy up)."""
    if handler in _handlers.get(event_type, []):
        _handlers[event_type].remove(handler)


def webhook_handler(event_type: str) -> Callable[[Handler], Handler]:
    """Decorator form of webhook_handler_register."""

    def register(handler: Handler) -> Handler:
        webhook_handler_register(event_type=event_type, handler=handler)
        return handler

    return register


def webhook_handlers(*, event_type: str) -> tuple[Handler, ...]:
    """The handlers registered for `event_type`, in registration order."""
    return tuple(_handlers.get(event_type, ()))


def stripe_event_record(*, event: WebhookEvent) -> tuple[StripeEvent, bool]:
    """Store a verified event under its Stripe id; a second delivery of the id stores nothing new."""
    return StripeEvent.objects.get_or_create(
        stripe_id=event.id,
        defaults={
            "type": event.type,
            "api_version": event.api_version,
            "livemode": event.livemode,
            "payload": event.payload,
        },
    )


def stripe_event_process(*, event_id: int) -> StripeEvent:
    """Run the handlers of a stored event exactly once, even when two workers get it together.

    The event row is locked for the whole run and its handlers' writes commit with `processed_at`.
    If a handler raises, its writes roll back, the attempt and error are recorded, and the exception
    goes up so that the task can be retried.
    """
    try:
        with transaction.atomic():
            event = StripeEvent.objects.select_for_update().get(pk=event_id)
            if event.processed_at is not None:
                return event
            for handler in webhook_handlers(event_type=event.type):
                handler(event)
            event.processed_at = timezone.now()
            event.attempts += 1
            event.last_error = ""
            event.save(update_fields=["processed_at", "attempts", "last_error"])
            return event
    except Exception:
        logger.exception("Stripe event %s could not be processed", event_id)
        StripeEvent.objects.filter(pk=event_id, processed_at__isnull=True).update(
            attempts=F("attempts") + 1, last_error=traceback.format_exc()[-4000:]
        )
        raise


# An event is queued when it is stored; if the queue was down then (or the worker lost it), it
# waits here. Stripe's own retries are the other way back, and they fail in the same faults.
REQUEUE_AFTER = timedelta(minutes=2)
# Celery retries a failing event 8 times with backoff; past this, the staff look at last_error.
MAX_ATTEMPTS = 20


def stripe_events_unprocessed(
    *, now: datetime | None = None, older_than: timedelta = REQUEUE_AFTER
) -> list[int]:
    """Ids of the stored events still unprocessed `older_than` after they arrived, oldest first."""
    now = now or timezone.now()
    waiting = StripeEvent.objects.filter(
        processed_at__isnull=True, received_at__lte=now - older_than, attempts__lt=MAX_ATTEMPTS
    )
    return list(waiting.order_by("received_at", "pk").values_list("pk", flat=True)[:1000])
