from celery import shared_task
from oscar.core.loading import get_class, get_model


@shared_task(acks_late=True)
def send_product_alerts(product_id: int) -> None:
    """Email the customers waiting for this product; Oscar's dispatcher skips alerts already sent."""
    Product = get_model("catalogue", "Product")
    AlertsDispatcher = get_class("customer.alerts.utils", "AlertsDispatcher")
    product = Product.objects.filter(pk=product_id).first()
    if product is not None:
        AlertsDispatcher().send_product_alert_email_for_user(product)


@shared_task
def holds_tidy() -> int:
    """Delete long-expired hold rows. Availability never waits for this: expiry is in the queries."""
    from .services.holds import holds_delete_expired

    return holds_delete_expired()
