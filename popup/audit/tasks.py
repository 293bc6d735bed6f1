from celery import shared_task


@shared_task(name="popup.tasks.popup_audit_run")
def popup_audit_run() -> bool:
    """Run the money audit (hourly); True when nothing is wrong."""
    from popup.audit.runs import audit_run

    return audit_run().ok
