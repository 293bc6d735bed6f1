"""Handing work to Celery without letting a queue that is down break what was already done.

Work is queued once the transaction that called for it commits (never for a rolled-back one), and
a broker that cannot be reached then is logged, not raised: the order stays placed and its payment
captured, the pledge stays made. What was not queued is caught up by the beat's sweeps (settlement,
the settle task, the Stripe events requeue); an e-mail not queued is not sent.
"""

import logging
from functools import partial

from django.db import transaction

logger = logging.getLogger(__name__)


def task_queue(task, *args, **kwargs) -> bool:
    """Queue `task` now; False (and logged) if the queue cannot be reached."""
    try:
        task.delay(*args, **kwargs)
    except Exception:  # kombu's OperationalError, a broken connection pool, a DNS failure…
        logger.exception("Could not queue %s%r", task.name, args)
        return False
    return True


def task_queue_on_commit(task, *args, **kwargs) -> None:
    """Queue `task` when the current transaction commits (at once outside one)."""
    transaction.on_commit(partial(task_queue, task, *args, **kwargs))
