from celery import shared_task


@shared_task(name="popup.tasks.holds_tidy")
def holds_tidy() -> int:
    """Delete long-expired hold rows. Availability never waits for this: expiry is in the queries."""
    from popup.core.holds import holds_delete_expired

    return holds_delete_expired()


@shared_task(name="popup.tasks.queued_tasks_send_run")
def queued_tasks_send_run() -> int:
    """Queue the tasks recorded while the broker was down (every minute)."""
    from popup.queueing import queued_tasks_send

    return queued_tasks_send()


@shared_task(name="popup.tasks.price_history_snapshot_run")
def price_history_snapshot_run() -> int:
    """Record regular prices changed without a signal (hourly): see popup.core.reductions."""
    from popup.core.reductions import price_history_snapshot

    return price_history_snapshot()
