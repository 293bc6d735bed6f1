from celery import shared_task


@shared_task(name="popup.tasks.stats_flush_run")
def stats_flush_run() -> int:
    """Move the funnel counts from Redis into the database (every minute, from the beat schedule)."""
    from popup.analytics.stats import stats_flush

    return stats_flush()
