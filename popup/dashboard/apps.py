from django.urls import path, re_path
from django.utils.translation import gettext_lazy as _
from oscar.core.application import OscarDashboardConfig


class PopUpDashboardConfig(OscarDashboardConfig):
    name = "popup.dashboard"
    label = "popup_dashboard"
    namespace = "popup-dashboard"
    verbose_name = _("Pop-ups dashboard")
    default_permissions = ["is_staff"]

    def ready(self):
        from . import channel_views, poster_views, report_views, views

        # Attributes, as in Oscar's own dashboard apps, so a store can swap one view.
        self.list_view = views.PopUpListView
        self.create_view = views.PopUpCreateView
        self.detail_view = views.PopUpDetailView
        self.update_view = views.PopUpUpdateView
        self.publish_view = views.PopUpPublishView
        self.delete_view = views.PopUpDeleteView
        self.report_view = views.PresaleReportView
        self.report_csv_view = views.PresaleReportCsvView
        self.settle_view = views.PresaleSettleView
        self.graduate_view = views.PresaleGraduateView
        self.notify_view = views.PresaleNotifyView
        self.question_list_view = views.QuestionQueueView
        self.question_action_view = views.QuestionActionView
        self.idea_list_view = views.IdeaListView
        self.idea_status_view = views.IdeaStatusView
        self.poll_list_view = views.PollListView
        self.poll_toggle_view = views.PollToggleView
        self.drop_report_view = report_views.DropReportView
        self.drop_report_csv_view = report_views.DropReportCsvView
        self.drop_action_view = report_views.DropActionView
        self.drop_compare_view = report_views.DropCompareView
        self.placement_create_view = channel_views.PlacementCreateView
        self.placement_toggle_view = channel_views.PlacementToggleView
        self.placement_csv_view = channel_views.PlacementCsvView
        self.ambassador_invite_view = channel_views.AmbassadorInviteView
        self.ambassador_list_view = channel_views.AmbassadorListView
        self.ambassador_paid_view = channel_views.AmbassadorPaidView
        self.ambassador_toggle_view = channel_views.AmbassadorToggleView
        self.poster_view = poster_views.PosterView

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
            re_path(
                r"^(?P<pk>\d+)/poster\.(?P<fmt>png|pdf)$",
                self.poster_view.as_view(),
                name="popup-poster",
            ),
            path("polls/<int:pk>/", self.poll_toggle_view.as_view(), name="poll-toggle"),
            path(
                "questions/<int:pk>/",
                self.question_action_view.as_view(),
                name="question-action",
            ),
        ]
        return self.post_process_urls(urls)
