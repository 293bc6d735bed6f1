from django.urls import path
from django.utils.translation import gettext_lazy as _
from oscar.core.application import OscarDashboardConfig
from oscar.core.loading import get_class

URL_NAMES = (
    "popup-list",
    "popup-create",
    "popup-detail",
    "popup-update",
    "popup-publish",
    "popup-delete",
    "popup-report",
    "popup-report-csv",
    "popup-presale-settle",
    "popup-presale-graduate",
    "popup-presale-notify",
    "question-list",
    "idea-list",
    "idea-status",
    "poll-list",
    "drop-report",
    "drop-report-csv",
    "drop-report-table-csv",
    "drop-action",
    "drop-compare",
    "placement-create",
    "placement-csv",
    "placement-toggle",
    "ambassador-invite",
    "ambassador-list",
    "ambassador-paid",
    "ambassador-toggle",
    "poll-toggle",
    "question-action",
    "popup-poster",
    "shopper-data",
)


class PopUpDashboardConfig(OscarDashboardConfig):
    name = "popup.dashboard"
    label = "popup_dashboard"
    namespace = "popup-dashboard"
    verbose_name = _("Pop-ups dashboard")
    default_permissions = ["is_staff"]
    # Who may open each page, by URL name (Oscar's permissions_map); a store narrows one here.
    permissions_map = {name: ["is_staff"] for name in URL_NAMES}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.extra_urls = []

    def urls_extend(self, *patterns) -> None:
        """Add pages of another app (integrations.social adds its posters) under this dashboard."""
        self.extra_urls.extend(patterns)

    def ready(self):
        # Loaded with Oscar's get_class, as in Oscar's own dashboard apps: a store that forks this
        # app (oscar_fork_app-style, same label) swaps one view by defining it in its own module.
        self.list_view = get_class("popup_dashboard.views", "PopUpListView")
        self.create_view = get_class("popup_dashboard.views", "PopUpCreateView")
        self.detail_view = get_class("popup_dashboard.views", "PopUpDetailView")
        self.update_view = get_class("popup_dashboard.views", "PopUpUpdateView")
        self.publish_view = get_class("popup_dashboard.views", "PopUpPublishView")
        self.delete_view = get_class("popup_dashboard.views", "PopUpDeleteView")
        self.report_view = get_class("popup_dashboard.views", "PresaleReportView")
        self.report_csv_view = get_class("popup_dashboard.views", "PresaleReportCsvView")
        self.settle_view = get_class("popup_dashboard.views", "PresaleSettleView")
        self.graduate_view = get_class("popup_dashboard.views", "PresaleGraduateView")
        self.notify_view = get_class("popup_dashboard.views", "PresaleNotifyView")
        self.question_list_view = get_class("popup_dashboard.views", "QuestionQueueView")
        self.question_action_view = get_class("popup_dashboard.views", "QuestionActionView")
        self.idea_list_view = get_class("popup_dashboard.views", "IdeaListView")
        self.idea_status_view = get_class("popup_dashboard.views", "IdeaStatusView")
        self.poll_list_view = get_class("popup_dashboard.views", "PollListView")
        self.poll_toggle_view = get_class("popup_dashboard.views", "PollToggleView")
        self.drop_report_view = get_class("popup_dashboard.report_views", "DropReportView")
        self.drop_report_csv_view = get_class("popup_dashboard.report_views", "DropReportCsvView")
        self.drop_action_view = get_class("popup_dashboard.report_views", "DropActionView")
        self.drop_compare_view = get_class("popup_dashboard.report_views", "DropCompareView")
        self.placement_create_view = get_class(
            "popup_dashboard.channel_views", "PlacementCreateView"
        )
        self.placement_toggle_view = get_class(
            "popup_dashboard.channel_views", "PlacementToggleView"
        )
        self.placement_csv_view = get_class("popup_dashboard.channel_views", "PlacementCsvView")
        self.ambassador_invite_view = get_class(
            "popup_dashboard.channel_views", "AmbassadorInviteView"
        )
        self.ambassador_list_view = get_class("popup_dashboard.channel_views", "AmbassadorListView")
        self.ambassador_paid_view = get_class("popup_dashboard.channel_views", "AmbassadorPaidView")
        self.ambassador_toggle_view = get_class(
            "popup_dashboard.channel_views", "AmbassadorToggleView"
        )
        self.shopper_data_view = get_class("popup_dashboard.privacy_views", "ShopperDataView")

    def get_urls(self):
        urls = [
            path("", self.list_view.as_view(), name="popup-list"),
            path("create/", self.create_view.as_view(), name="popup-create"),
            path("<int:pk>/", self.detail_view.as_view(), name="popup-detail"),
            path("<int:pk>/edit/", self.update_view.as_view(), name="popup-update"),
            path("<int:pk>/publish/", self.publish_view.as_view(), name="popup-publish"),
            path("<int:pk>/delete/", self.delete_view.as_view(), name="popup-delete"),
            path("<int:pk>/report/", self.report_view.as_view(), name="popup-report"),
            path("<int:pk>/report.csv", self.report_csv_view.as_view(), name="popup-report-csv"),
            path("<int:pk>/settle/", self.settle_view.as_view(), name="popup-presale-settle"),
            path("<int:pk>/graduate/", self.graduate_view.as_view(), name="popup-presale-graduate"),
            path("<int:pk>/notify/", self.notify_view.as_view(), name="popup-presale-notify"),
            path("questions/", self.question_list_view.as_view(), name="question-list"),
            path("ideas/", self.idea_list_view.as_view(), name="idea-list"),
            path("ideas/<int:pk>/", self.idea_status_view.as_view(), name="idea-status"),
            path("polls/", self.poll_list_view.as_view(), name="poll-list"),
            path("<int:pk>/drop/", self.drop_report_view.as_view(), name="drop-report"),
            path("<int:pk>/drop.csv", self.drop_report_csv_view.as_view(), name="drop-report-csv"),
            path(
                "<int:pk>/drop/<slug:table>.csv",
                self.drop_report_csv_view.as_view(),
                name="drop-report-table-csv",
            ),
            path("<int:pk>/drop/act/", self.drop_action_view.as_view(), name="drop-action"),
            path("compare/", self.drop_compare_view.as_view(), name="drop-compare"),
            path(
                "<int:pk>/placements/",
                self.placement_create_view.as_view(),
                name="placement-create",
            ),
            path(
                "<int:pk>/placements.csv",
                self.placement_csv_view.as_view(),
                name="placement-csv",
            ),
            path(
                "<int:pk>/placements/<int:placement_id>/toggle/",
                self.placement_toggle_view.as_view(),
                name="placement-toggle",
            ),
            path(
                "<int:pk>/ambassadors/invite/",
                self.ambassador_invite_view.as_view(),
                name="ambassador-invite",
            ),
            path("ambassadors/", self.ambassador_list_view.as_view(), name="ambassador-list"),
            path(
                "ambassadors/<int:pk>/paid/",
                self.ambassador_paid_view.as_view(),
                name="ambassador-paid",
            ),
            path(
                "ambassadors/<int:pk>/toggle/",
                self.ambassador_toggle_view.as_view(),
                name="ambassador-toggle",
            ),
            path("polls/<int:pk>/", self.poll_toggle_view.as_view(), name="poll-toggle"),
            path(
                "questions/<int:pk>/",
                self.question_action_view.as_view(),
                name="question-action",
            ),
            path("shoppers-data/", self.shopper_data_view.as_view(), name="shopper-data"),
        ]
        return self.post_process_urls(urls + self.extra_urls)
