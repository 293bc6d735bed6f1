from django.urls import path, re_path

from integrations.social import views

app_name = "popup-social"

# /popup/feeds/<token>/google.xml (the store's), /popup/feeds/<slug>/<token>/meta.csv (a pop-up's)
FEED = r"(?P<token>[0-9a-f]{32})/(?P<platform>google|meta)\.(?P<fmt>csv|xml)$"

urlpatterns = [
    path("oembed", views.oembed, name="oembed"),
    path("<slug:slug>/share.png", views.share_image, name="share-image"),
    re_path(rf"^feeds/{FEED}", views.feed, name="feed"),
    re_path(rf"^feeds/(?P<slug>[-a-zA-Z0-9_]+)/{FEED}", views.feed, name="popup-feed"),
]
