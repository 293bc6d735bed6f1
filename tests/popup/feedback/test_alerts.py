import pytest
from django.core import mail
from oscar.core.loading import get_model

from tests.factories import create_product

ProductAlert = get_model("customer", "ProductAlert")

pytestmark = pytest.mark.django_db


def test_back_in_stock_alert_is_sent_from_celery_after_commit(django_capture_on_commit_callbacks):
    product = create_product(title="Indigo scarf", stock=0)
    alert = ProductAlert.objects.create(product=product, email="fan@example.com")
    alert.confirm()
    stockrecord = product.stockrecords.get()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        stockrecord.num_in_stock = 5
        stockrecord.save()
        assert mail.outbox == []  # nothing is sent inside the saving transaction

    assert len(callbacks) == 1
    assert [message.to for message in mail.outbox] == [["fan@example.com"]]
    assert "Indigo scarf" in mail.outbox[0].body


def test_no_alert_task_when_nobody_waits_or_nothing_is_in_stock(django_capture_on_commit_callbacks):
    product = create_product(title="Indigo scarf", stock=3)
    stockrecord = product.stockrecords.get()
    with django_capture_on_commit_callbacks() as callbacks:
        stockrecord.num_allocated = 1  # an order's allocation, say
        stockrecord.save()
    assert callbacks == []  # nobody waits for this product

    alert = ProductAlert.objects.create(product=product, email="fan@example.com")
    alert.confirm()
    with django_capture_on_commit_callbacks() as callbacks:
        stockrecord.num_allocated = 3  # none left to offer
        stockrecord.save()
    assert callbacks == []
