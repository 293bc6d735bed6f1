from django.urls import path

from . import views

app_name = "popup"

urlpatterns = [
    path("embed.js", views.embed_loader, name="embed-loader"),
    path("<slug:slug>/", views.popup_detail, name="detail"),
    path("<slug:slug>/embed/", views.popup_embed, name="embed"),
]
