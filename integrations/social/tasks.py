from celery import shared_task


@shared_task(name="integrations.social.tasks.feeds_regenerate_run", acks_late=True)
def feeds_regenerate_run(popup_ids: list[int] | None = None) -> int:
    """Write again the feeds these pop-ups' changes touch (None: a catalogue change, all of them)."""
    from integrations.social.feed_files import feeds_regenerate

    return feeds_regenerate(popup_ids=popup_ids)


@shared_task(name="integrations.social.tasks.feeds_refresh_run")
def feeds_refresh_run() -> int:
    """Write again the feeds gone stale: a pop-up opened or closed, or too old (every minute)."""
    from integrations.social.feed_files import feeds_refresh

    return feeds_refresh()
