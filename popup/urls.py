from django.urls import path

from . import api, checkout_views, views

app_name = "popup"

urlpatterns = [
    path("embed.js", views.embed_loader, name="embed-loader"),
    path("checkout/<str:token>/", checkout_views.checkout_page, name="checkout"),
    path("checkout/<str:token>/pay/", checkout_views.checkout_pay_view, name="checkout-pay"),
    path(
        "checkout/<str:token>/complete/",
        checkout_views.checkout_complete_view,
        name="checkout-complete",
    ),
    path("checkout/<str:token>/done/", checkout_views.checkout_done, name="checkout-done"),
    path("<slug:slug>/", views.popup_detail, name="detail"),
    path("<slug:slug>/embed/", views.popup_embed, name="embed"),
    path("<slug:slug>/basket/", api.basket_detail, name="basket"),
    path("<slug:slug>/basket/new/", api.basket_new, name="basket-new"),
    path("<slug:slug>/basket/lines/", api.basket_line, name="basket-line"),
]
