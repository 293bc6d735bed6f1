"""Everything the plugin serves, under one prefix: `path("popup/", include("popup.site_urls"))`.

The pop-ups' own pages (namespace "popup") and the pages of the installed integrations that declare
`popup_urls` on their AppConfig (Stripe's webhook and refunds, "popup-stripe"; social previews,
feeds and share images, "popup-social"). An integration left out of INSTALLED_APPS serves nothing.
"""

from django.apps import apps
from django.urls import include, path

integration_urls = [
    path("", include(config.popup_urls))
    for config in apps.get_app_configs()
    if getattr(config, "popup_urls", None)
]

# The integrations first: their fixed paths (stripe/, feeds/, oembed) win over a pop-up's slug.
urlpatterns = [*integration_urls, path("", include("popup.urls"))]
