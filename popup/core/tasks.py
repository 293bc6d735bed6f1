from celery import shared_task


@shared_task(name="popup.tasks.holds_tidy")
def holds_tidy() -> int:
    """Delete long-expired hold rows. Availability never waits for this: expiry is in the queries."""
    from popup.core.holds import holds_delete_expired

    return holds_delete_expired()
