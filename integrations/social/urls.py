from django.urls import path

from . import views

app_name = "popup-social"

urlpatterns = [
    path("oembed", views.oembed, name="oembed"),
    path("<slug:slug>/share.png", views.share_image, name="share-image"),
]
