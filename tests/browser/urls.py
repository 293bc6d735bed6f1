"""The store's URLs plus its uploaded media, which live_server (unlike a real deployment) does not serve."""

from django.conf import settings
from django.urls import re_path
from django.views.static import serve

from shop.urls import urlpatterns as shop_urlpatterns

urlpatterns = [
    re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    *shop_urlpatterns,
]
