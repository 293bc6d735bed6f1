from django.urls import path

from . import api, views

app_name = "popup"

urlpatterns = [
    path("embed.js", views.embed_loader, name="embed-loader"),
    path("<slug:slug>/", views.popup_detail, name="detail"),
    path("<slug:slug>/embed/", views.popup_embed, name="embed"),
    path("<slug:slug>/basket/", api.basket_detail, name="basket"),
    path("<slug:slug>/basket/new/", api.basket_new, name="basket-new"),
    path("<slug:slug>/basket/lines/", api.basket_line, name="basket-line"),
]
