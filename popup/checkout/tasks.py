from celery import shared_task


@shared_task(name="popup.tasks.checkout_authorisations_settle_run")
def checkout_authorisations_settle_run() -> dict[str, int]:
    """Order or cancel the card authorisations nobody came back for (every 15 minutes)."""
    from popup.checkout.services import checkout_authorisations_settle

    settled = checkout_authorisations_settle()
    return {"ordered": settled.ordered, "released": settled.released}
