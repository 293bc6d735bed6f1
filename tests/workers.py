import time
from pathlib import Path

from shop.celery import app as celery_app

BROKER = "redis://127.0.0.1:6379/9"


ROOT = Path(__file__).resolve().parents[1]


def send_through(*, broker: str, eager: bool) -> None:
    # The app caches its connection and producer pools: drop them, or messages go to the old broker.
    celery_app.conf.update(task_always_eager=eager, broker_url=broker)
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
