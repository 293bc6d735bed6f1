"""Handing work to Celery so that a queue that is down loses nothing and undoes nothing.

task_queue_on_commit records the task (a QueuedTask row) in the transaction that calls for it, and
hands it to the broker once that transaction commits; a broker that cannot be reached then is
logged, not raised (the order stays placed, its payment captured), and the row waits for
queued_tasks_send, which the beat runs every minute. A rolled-back transaction takes its row with
it: nothing is queued for what did not happen. Tasks are idempotent, so one queued twice (a sweep
racing a slow commit) does no harm.
"""

import logging
from datetime import datetime, timedelta

from celery import current_app
from django.db import transaction
from django.utils import timezone

from popup.models import QueuedTask

logger = logging.getLogger(__name__)

# A row still waiting this long after it was written missed its queueing: the sweep queues it.
SWEEP_AFTER = timedelta(minutes=1)
# Rows queued longer ago than this are deleted by the sweep.
KEPT = timedelta(days=7)


def task_queue(task, *args, **kwargs) -> bool:
    """Queue `task` now, without a record; False (and logged) if the queue cannot be reached."""
    try:
        task.delay(*args, **kwargs)
    except Exception:  # kombu's OperationalError, a broken connection pool, a DNS failure…
        logger.exception("Could not queue %s%r", task.name, args)
        return False
    return True


def task_queue_on_commit(task, *args, **kwargs) -> None:
    """Record `task` in the current transaction and queue it once it commits (now, outside one)."""
    row = QueuedTask.objects.create(task=task.name, args=list(args), kwargs=kwargs)
    transaction.on_commit(lambda: _send(row.pk, task, args, kwargs))


def _send(row_id: int, task, args, kwargs) -> None:
    if task_queue(task, *args, **kwargs):
        QueuedTask.objects.filter(pk=row_id).update(queued_at=timezone.now())


def queued_tasks_send(*, now: datetime | None = None) -> int:
    """Queue the recorded tasks whose queueing failed; the number queued now."""
    now = now or timezone.now()
    QueuedTask.objects.filter(queued_at__lt=now - KEPT).delete()
    waiting = QueuedTask.objects.filter(queued_at__isnull=True, created_at__lte=now - SWEEP_AFTER)
    sent = 0
    for row in waiting.order_by("created_at", "pk")[:1000]:
        task = current_app.tasks.get(row.task)
        if task is None:
            logger.error("Queued task %s is unknown to this worker", row.task)
            continue
        if not task_queue(task, *row.args, **row.kwargs):
            break  # still down: the next sweep tries again
        QueuedTask.objects.filter(pk=row.pk).update(queued_at=timezone.now())
        sent += 1
    return sent
