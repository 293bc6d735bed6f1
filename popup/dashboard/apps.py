from django.urls import path
from django.utils.translation import gettext_lazy as _
from oscar.core.application import OscarDashboardConfig


class PopUpDashboardConfig(OscarDashboardConfig):
    name = "popup.dashboard"
    label = "popup_dashboard"
    namespace = "popup-dashboard"
    verbose_name = _("Pop-ups dashboard")
    default_permissions = ["is_staff"]

    def get_urls(self):
        from . import views

        urls = [
            path("", views.PopUpListView.as_view(), name="popup-list"),
        ]
        return self.post_process_urls(urls)
