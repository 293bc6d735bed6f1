"""The privacy part's Celery task (its name pinned as popup.tasks.<name>: see popup.tasks)."""

from celery import shared_task


@shared_task(name="popup.tasks.personal_data_expire_run")
def personal_data_expire_run() -> dict:
    """Delete or anonymise shoppers' data past its period (hourly): see popup.privacy.retention."""
    from dataclasses import asdict

    from popup.privacy.retention import personal_data_expire

    return asdict(personal_data_expire())
