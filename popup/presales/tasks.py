"""Pre-sale settlement in the background: a sweep every minute, one task per pre-sale, one per charge."""

from celery import shared_task


@shared_task(name="popup.tasks.presales_sweep", acks_late=True)
def presales_sweep() -> int:
    """Queue the settlement of every all-or-nothing pre-sale with something to do now."""
    from popup.presales.settlement import presales_to_settle

    ids = presales_to_settle()
    for popup_id in ids:
        presale_settle_run.delay(popup_id)
    return len(ids)


@shared_task(name="popup.tasks.presale_settle_run", acks_late=True)
def presale_settle_run(popup_id: int, early: bool = False) -> int:
    """Decide the pre-sale's outcome if it can be, then queue one charge task per pledge due."""
    from popup.presales.pledges import presale_settle_by_id

    due = presale_settle_by_id(popup_id=popup_id, early=early)
    for pledge_id in due:
        pledge_charge_run.delay(pledge_id)
    return len(due)


@shared_task(name="popup.tasks.pledges_settle_run", acks_late=True)
def pledges_settle_run() -> int:
    """Make the pledges of the cards saved whose backers never came back (see pledges_settle)."""
    from popup.presales.pledges import pledges_settle

    return pledges_settle()


@shared_task(name="popup.tasks.pledge_charge_run", acks_late=True)
def pledge_charge_run(pledge_id: int) -> str:
    """Charge one pledge (idempotent: a paid, charging or waiting pledge is left alone)."""
    from popup.presales.pledges import pledge_charge

    return pledge_charge(pledge_id=pledge_id).status
