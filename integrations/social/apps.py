from django.apps import AppConfig, apps
from django.urls import re_path
from django.utils.translation import gettext_lazy as _


class SocialConfig(AppConfig):
    """Share tags, oEmbed, share images, catalogue feeds and QR posters. Optional: left out of
    INSTALLED_APPS, the pop-ups sell the same, without them."""

    name = "integrations.social"
    label = "popup_social"
    verbose_name = _("Pop-up social previews")
    # Served under the plugin's URLs (popup.urls includes it).
    popup_urls = "integrations.social.urls"

    def ready(self):
        from integrations.social import dashboard_views, receivers  # noqa: F401
        from popup.slots import slot_fill

        slot_fill("storefront_head", "popup/partials/social_meta.html")
        slot_fill("dashboard_store", "popup/dashboard/partials/store_social.html")
        slot_fill("dashboard_popup", "popup/dashboard/partials/popup_social.html")
        slot_fill("dashboard_placement", "popup/dashboard/partials/poster_links.html")
        if apps.is_installed("popup.dashboard"):
            apps.get_app_config("popup_dashboard").urls_extend(
                re_path(
                    r"^(?P<pk>\d+)/poster\.(?P<fmt>png|pdf)$",
                    dashboard_views.PosterView.as_view(),
                    name="popup-poster",
                )
            )
