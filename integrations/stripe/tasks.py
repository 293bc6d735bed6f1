from datetime import timedelta

from celery import shared_task


@shared_task(
    name="integrations.stripe.tasks.stripe_event_process",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=8,
)
def stripe_event_process(event_id: int) -> None:
    """Process a stored Stripe event; an event already processed is left alone, so retries are safe."""
    from integrations.stripe.webhooks import stripe_event_process as process

    process(event_id=event_id)


@shared_task(name="integrations.stripe.tasks.stripe_events_requeue")
def stripe_events_requeue(older_than_seconds: float | None = None) -> int:
    """Queue again the stored events nobody processed (the queue was down when they came, or the
    worker died with them), REQUEUE_AFTER or `older_than_seconds` after they came; how many."""
    from integrations.stripe.webhooks import REQUEUE_AFTER, stripe_events_unprocessed
    from popup.queueing import task_queue

    older_than = (
        REQUEUE_AFTER if older_than_seconds is None else timedelta(seconds=older_than_seconds)
    )
    queued = 0
    for event_id in stripe_events_unprocessed(older_than=older_than):
        if not task_queue(stripe_event_process, event_id):
            break  # the broker is down: the next run tries again
        queued += 1
    return queued
