from django.urls import path

from integrations.stripe import views

app_name = "popup-stripe"

urlpatterns = [
    path("stripe/webhook/", views.webhook, name="webhook"),
    path(
        "stripe/orders/<str:number>/refund/", views.OrderRefundView.as_view(), name="order-refund"
    ),
]
