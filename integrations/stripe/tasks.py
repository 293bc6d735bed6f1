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
def stripe_events_requeue() -> int:
    """Queue again the stored events nobody processed (the queue was down when they came)."""
    from integrations.stripe.webhooks import stripe_events_unprocessed

    waiting = stripe_events_unprocessed()
    for event_id in waiting:
        stripe_event_process.delay(event_id)
    return len(waiting)
