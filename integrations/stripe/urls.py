from django.urls import path, register_converter

from integrations.stripe import views


class OrderNumberConverter:
    """An Oscar order number: any text but a slash or a NUL byte (which the database refuses)."""

    regex = "[^/\\x00]{1,128}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(OrderNumberConverter, "order_number")

app_name = "popup-stripe"

urlpatterns = [
    path("stripe/webhook/", views.webhook, name="webhook"),
    path(
        "stripe/orders/<order_number:number>/refund/",
        views.OrderRefundView.as_view(),
        name="order-refund",
    ),
]
