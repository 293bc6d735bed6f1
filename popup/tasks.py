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


@shared_task(acks_late=True)
def order_placed_email_send(order_id: int) -> None:
    """Send Oscar's order confirmation for this order, once."""
    Order = get_model("order", "Order")
    OrderDispatcher = get_class("order.utils", "OrderDispatcher")
    order = Order.objects.filter(pk=order_id).first()
    if order is None or order.communication_events.filter(event_type__code="ORDER_PLACED").exists():
        return
    OrderDispatcher().send_order_placed_email_for_user(
        order, {"order": order, "lines": order.lines.all()}
    )


@shared_task(acks_late=True)
def checkout_lost_email_send(basket_id: int, reason: str) -> None:
    """Tell a shopper whose paid-for units were lost that nothing was charged."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.template.loader import render_to_string

    from .models import PopUpBasket

    basket = PopUpBasket.objects.select_related("popup").filter(pk=basket_id).first()
    if basket is None or not basket.email:
        return
    context = {"basket": basket, "popup": basket.popup, "reason": reason}
    send_mail(
        subject=render_to_string("popup/emails/checkout_lost_subject.txt", context).strip(),
        message=render_to_string("popup/emails/checkout_lost_body.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[basket.email],
    )
