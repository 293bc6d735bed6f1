"""The Pop-ups section of Oscar's dashboard: list, create, edit, terms, publish, delete, and a
pre-sale's report with its actions (settle now, graduate, announce the launch)."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.db.models.deletion import ProtectedError, RestrictedError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import get_text_list
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from django.views import generic
from oscar.core.loading import get_model

from popup.analytics.charts import cumulative_chart
from popup.analytics.merchandising import popup_graduate
from popup.audit.runs import audit_latest
from popup.core.popups import (
    PopUpRemoval,
    popup_create,
    popup_delete,
    popup_product_terms_sync,
    popup_product_terms_update,
    popup_publish,
    popup_removal_plan,
    popup_save,
    popup_unpublish,
)
from popup.core.selectors import popup_storefront
from popup.dashboard.channel_views import placement_rows
from popup.dashboard.csv_export import csv_response, csv_semicolons
from popup.dashboard.forms import (
    AmbassadorInviteForm,
    PollForm,
    PopUpCreateForm,
    PopUpForm,
    PopUpProductTermsFormSet,
    PopUpSearchForm,
    PresaleGraduateForm,
)
from popup.dashboard.selectors import (
    ARCHIVED,
    popup_archived_count,
    popup_dashboard_queryset,
    popup_dashboard_rows,
    popup_products_without_stock_record,
    popup_terms_queryset,
    presale_report,
    presale_report_pledges,
    presale_report_rows,
    price_notes,
)
from popup.feedback.ideas import idea_status_set
from popup.feedback.polls import poll_create
from popup.feedback.questions import question_answer, question_hide, question_not_spam
from popup.feedback.selectors import answer_speed
from popup.models import Idea, Pledge, Poll, PopUp, Question
from popup.presales.settlement import presale_launch_notify, presale_settle_queue

ProductReview = get_model("reviews", "ProductReview")


class PopUpListView(generic.TemplateView):
    template_name = "popup/dashboard/popup_list.html"
    paginate_by = 20

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        form = PopUpSearchForm(self.request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        state = filters.get("state", "")
        popups = popup_dashboard_queryset(
            query=filters.get("q", ""), kind=filters.get("kind", ""), state=state, now=now
        )
        strategy = self.request.strategy
        if state in (PopUp.State.LIVE, PopUp.State.SOLD_OUT):
            # Only stock tells live from sold out; few pop-ups are open at any one time.
            rows = popup_dashboard_rows(popups=popups, strategy=strategy, now=now)
            page = Paginator(
                [row for row in rows if row.state == state], self.paginate_by
            ).get_page(self.request.GET.get("page"))
        else:
            page = Paginator(popups, self.paginate_by).get_page(self.request.GET.get("page"))
            page.object_list = popup_dashboard_rows(
                popups=page.object_list, strategy=strategy, now=now
            )
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            audit=audit_latest(),
            form=form,
            rows=page.object_list,
            page_obj=page,
            paginator=page.paginator,
            is_paginated=page.has_other_pages(),
            is_filtered=bool(filters and any(filters.values())),
            archived=state == ARCHIVED,
            archived_count=0 if state == ARCHIVED else popup_archived_count(),
            page_query=query.urlencode(),
        )
        return context


class PopUpFormMixin:
    model = PopUp
    form_class = PopUpForm
    template_name = "popup/dashboard/popup_form.html"

    def form_valid(self, form):
        popup = form.save(commit=False)
        try:
            popup_save(popup=popup, new_range_products=form.new_range_products)
        except ValidationError as error:
            form.add_error(None, error)
            return self.form_invalid(form)
        self.object = popup
        messages.success(self.request, self.success_message % {"title": popup.title})
        if self.request.POST.get("action") == "continue":
            return redirect("popup-dashboard:popup-update", pk=popup.pk)
        return redirect("popup-dashboard:popup-detail", pk=popup.pk)


class PopUpCreateView(PopUpFormMixin, generic.CreateView):
    """The pop-up, its products with their caps and pop-up prices, and publishing: one save."""

    form_class = PopUpCreateForm

    def get_initial(self):
        # A sensible first schedule: tomorrow at 10:00 for a week, in the store's time zone.
        tomorrow = timezone.localtime() + timedelta(days=1)
        opens = tomorrow.replace(hour=10, minute=0, second=0, microsecond=0)
        return {"opens_at": opens, "closes_at": opens + timedelta(days=7)}

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=_("Create pop-up"), **kwargs)

    def post(self, request, *args, **kwargs):
        self.object = None
        form = self.get_form()
        if request.POST.get("action") == "more_rows":  # no script needed: the page comes back
            return self.render_to_response(self.get_context_data(form=form.more_rows()))
        return self.form_valid(form) if form.is_valid() else self.form_invalid(form)

    def form_valid(self, form):
        popup = form.save(commit=False)
        try:
            popup_create(popup=popup, products=form.terms)
        except ValidationError as error:  # a pop-up published meanwhile now sells a product
            form.add_error(None, error)
            return self.form_invalid(form)
        self.object = popup
        if popup.is_published:
            message = _("Pop-up “%(title)s” created and published.")
        else:
            message = _("Pop-up “%(title)s” created as a draft: publish it when it is ready.")
        messages.success(self.request, message % {"title": popup.title})
        for warning in price_notes(popup=popup, strategy=self.request.strategy):
            messages.warning(self.request, warning)
        if self.request.POST.get("action") == "continue":
            return redirect("popup-dashboard:popup-update", pk=popup.pk)
        return redirect("popup-dashboard:popup-detail", pk=popup.pk)


class PopUpUpdateView(PopUpFormMixin, generic.UpdateView):
    success_message = _("Pop-up “%(title)s” saved.")

    def get_queryset(self):
        return PopUp.objects.select_related("range")

    def get_context_data(self, **kwargs):
        # As stored: after a failed submit, self.object holds the submitted values.
        popup = self.get_queryset().get(pk=self.object.pk)
        return super().get_context_data(
            title=_("Edit “%(title)s”") % {"title": popup.title}, popup=popup, **kwargs
        )


class PopUpDetailView(generic.DetailView):
    """The pop-up's page: state, per-product terms, live preview and the embed snippets."""

    model = PopUp
    context_object_name = "popup"
    template_name = "popup/dashboard/popup_detail.html"

    def get_queryset(self):
        return PopUp.objects.select_related("range")

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        # Products added to the range elsewhere (Catalogue › Ranges) get their terms row here.
        popup_product_terms_sync(popup=self.object)
        return self.render_to_response(self.get_context_data(formset=self.get_formset()))

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        formset = self.get_formset(data=request.POST)
        terms_errors = []
        if formset.is_valid():
            try:
                popup_product_terms_update(popup=self.object, terms=formset.save(commit=False))
            except ValidationError as error:
                # Sold while the form was open: the check under lock saw more units sold.
                terms_errors = error.messages
            else:
                messages.success(request, _("Products' terms saved."))
                for warning in price_notes(popup=self.object, strategy=request.strategy):
                    messages.warning(request, warning)
                return HttpResponseRedirect(
                    reverse("popup-dashboard:popup-detail", kwargs={"pk": self.object.pk})
                )
        return self.render_to_response(
            self.get_context_data(formset=formset, terms_errors=terms_errors)
        )

    def get_formset(self, data=None):
        return PopUpProductTermsFormSet(
            data, queryset=popup_terms_queryset(popup=self.object), prefix="terms"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        popup = self.object
        storefront = popup_storefront(popup=popup, strategy=self.request.strategy)
        items = {item.product.pk: item for item in storefront.items}
        context["storefront"] = storefront
        context["store_time_zone"] = settings.TIME_ZONE
        context["term_rows"] = [
            (form, items.get(form.instance.product_id))
            for form in context["formset"]
            if form.instance.product_id  # not a row that left the range since it was shown
        ]
        public_url = self.request.build_absolute_uri(popup.get_absolute_url())
        loader_url = self.request.build_absolute_uri(reverse("popup:embed-loader"))
        context["public_url"] = public_url
        context["script_snippet"] = format_html(
            '<script src="{}" data-popup="{}" async></script>', loader_url, popup.slug
        )
        context["link_snippet"] = format_html(
            '<a data-popup-link href="{}">{}</a>', public_url, popup.title
        )
        context["placements"] = placement_rows(self.request, popup)
        context["invite_form"] = AmbassadorInviteForm(auto_id="id_invite_%s")
        return context


class PopUpPublishView(generic.View):
    """Publishes (re-checking schedule conflicts) or unpublishes a pop-up, then goes back."""

    def post(self, request, pk):
        popup = get_object_or_404(PopUp.objects.select_related("range"), pk=pk)
        if request.POST.get("action") == "unpublish":
            popup_unpublish(popup=popup)
            messages.info(request, _("“%(title)s” is a draft again.") % {"title": popup.title})
        else:
            try:
                popup_publish(popup=popup)
            except ValidationError as error:
                for message in error.messages:
                    messages.error(request, message)
            else:
                messages.success(request, _("“%(title)s” is published.") % {"title": popup.title})
        return redirect("popup-dashboard:popup-detail", pk=popup.pk)


def _removal_counts(*, removal: PopUpRemoval) -> str:
    """What went through the pop-up, as a list for one sentence: "1 order and 2 pledges"."""
    counts = [
        (removal.orders, ngettext("%(count)d order", "%(count)d orders", removal.orders)),
        (removal.pledges, ngettext("%(count)d pledge", "%(count)d pledges", removal.pledges)),
        (
            removal.payments,
            ngettext(
                "%(count)d checkout that reached the payment",
                "%(count)d checkouts that reached the payment",
                removal.payments,
            ),
        ),
    ]
    return get_text_list([text % {"count": count} for count, text in counts if count], _("and"))


class PopUpDeleteView(generic.DeleteView):
    """Asks first, saying what will happen: deleted (with the range it made, when nothing else
    uses it), or archived when orders, pledges or payments went through it."""

    model = PopUp
    context_object_name = "popup"
    template_name = "popup/dashboard/popup_delete.html"

    def get_queryset(self):
        return PopUp.objects.select_related("range")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        removal = popup_removal_plan(popup=self.object)
        context["removal"] = removal
        context["removal_counts"] = _removal_counts(removal=removal)
        context["range_offers"] = get_text_list(removal.range_offers, _("and"))
        return context

    def form_valid(self, form):
        popup = self.object
        try:
            removal = popup_delete(popup=popup)
        except PopUp.DoesNotExist:  # deleted from another tab meanwhile
            messages.info(
                self.request, _("“%(title)s” was deleted already.") % {"title": popup.title}
            )
            return redirect("popup-dashboard:popup-list")
        except (ProtectedError, RestrictedError):
            messages.error(
                self.request,
                _("“%(title)s” is still referred to by other records: unpublish it instead.")
                % {"title": popup.title},
            )
            return redirect("popup-dashboard:popup-detail", pk=popup.pk)
        values = {"title": popup.title, "range": popup.range.name}
        if removal.archives and not (removal.orders or removal.pledges or removal.payments):
            message = _(
                "Pop-up “%(title)s” archived rather than deleted: a shopper was using one of its "
                "baskets at that moment, and may be paying. It is hidden from shoppers and from "
                "the list; delete it again later to remove it."
            )
        elif removal.archives:
            message = _(
                "Pop-up “%(title)s” archived: hidden from shoppers and from the list, its "
                "orders and pledges kept."
            )
        elif removal.deletes_range:
            message = _("Pop-up “%(title)s” deleted, with its range “%(range)s”.")
        else:
            message = _("Pop-up “%(title)s” deleted; its range “%(range)s” is kept.")
        messages.success(self.request, message % values)
        return redirect("popup-dashboard:popup-list")


# Pre-sales: the evidence report and the merchant's actions ---------------------------------------


def _presale_or_404(pk: int) -> PopUp:
    return get_object_or_404(PopUp.objects.select_related("range"), pk=pk, kind=PopUp.Kind.PRESALE)


class PresaleReportView(generic.TemplateView):
    """Pledged against collected, outcome, demand per product and per source, day by day, and
    every pledge with its history; with the actions that fit the pre-sale's stage."""

    template_name = "popup/dashboard/presale_report.html"
    paginate_by = 50

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        popup = _presale_or_404(self.kwargs["pk"])
        report = presale_report(popup=popup)
        page = Paginator(presale_report_pledges(popup=popup), self.paginate_by).get_page(
            self.request.GET.get("page")
        )
        all_or_nothing = popup.presale_funding == PopUp.Funding.ALL_OR_NOTHING
        pledges = list(page.object_list)
        # A pledge's history names its statuses as the merchant reads them, not by their codes.
        labels = dict(Pledge.Status.choices)
        for pledge in pledges:
            for event in pledge.events.all():
                event.status_from_label = labels.get(event.status_from, event.status_from)
                event.status_to_label = labels.get(event.status_to, event.status_to)
        context.update(
            popup=popup,
            report=report,
            chart=cumulative_chart(report.days, goal=popup.presale_goal_amount),
            pledges=pledges,
            page_obj=page,
            paginator=page.paginator,
            is_paginated=page.has_other_pages(),
            all_or_nothing=all_or_nothing,
            can_settle=all_or_nothing and popup.presale_outcome == PopUp.Outcome.OPEN,
            can_graduate=report.outcome == PopUp.Outcome.FUNDED and not popup.graduated_at,
            graduate_form=PresaleGraduateForm(),
            store_time_zone=settings.TIME_ZONE,
        )
        return context


# The pledges' CSV columns, in the merchant's language.
CSV_HEADER = [
    pgettext_lazy("CSV column", "id"),
    pgettext_lazy("CSV column", "created_at"),
    pgettext_lazy("CSV column", "email"),
    pgettext_lazy("CSV column", "source"),
    pgettext_lazy("CSV column", "status"),
    pgettext_lazy("CSV column", "amount"),
    pgettext_lazy("CSV column", "currency"),
    pgettext_lazy("CSV column", "units"),
    pgettext_lazy("CSV column", "attempts"),
    pgettext_lazy("CSV column", "failure_code"),
    pgettext_lazy("CSV column", "next_retry_at"),
    pgettext_lazy("CSV column", "paid_at"),
    pgettext_lazy("CSV column", "order_number"),
]


class PresaleReportCsvView(generic.View):
    """Every pledge of the pre-sale as CSV, streamed: rows are read in chunks, never all at once."""

    def get(self, request, pk):
        popup = _presale_or_404(pk)
        return csv_response(
            header=CSV_HEADER,
            rows=presale_report_rows(popup=popup),
            filename=f"{popup.slug}-pledges.csv",
            semicolons=csv_semicolons(request),
        )


class PresaleActionView(generic.View):
    """POST only: calls one service, says how it went in a dashboard message, back to the report."""

    http_method_names = ["post"]

    def post(self, request, pk):
        popup = _presale_or_404(pk)
        try:
            self.act(popup)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        return redirect("popup-dashboard:popup-report", pk=popup.pk)

    def act(self, popup: PopUp) -> None:
        raise NotImplementedError


class PresaleSettleView(PresaleActionView):
    def act(self, popup):
        goal_met = presale_settle_queue(popup=popup)
        if goal_met:
            message = _(
                "Settling “%(title)s”: its goal is met, so the saved cards are being charged. "
                "Each pledge's status below shows how it went."
            )
        else:
            message = _(
                "Settling “%(title)s”: it closed short of its goal, so every pledge is "
                "cancelled and nobody is charged."
            )
        messages.success(self.request, message % {"title": popup.title})


def graduate_from_form(request, popup: PopUp) -> None:
    """Graduate the pop-up with the stock in the POSTed PresaleGraduateForm and say how it went;
    ValidationError when the form or the rules refuse."""
    form = PresaleGraduateForm(request.POST)
    if not form.is_valid():
        raise ValidationError(
            [
                _("%(field)s: %(error)s") % {"field": form.fields[name].label, "error": error}
                for name, errors in form.errors.items()
                for error in errors
            ]
        )
    if popup.graduated_at is not None:
        messages.info(
            request,
            _("“%(title)s” has already graduated: nothing changed.") % {"title": popup.title},
        )
        return
    stock = form.cleaned_data["stock"]
    popup_graduate(popup=popup, stock=stock)
    if stock is None:
        message = _("“%(title)s” graduated: its products are public in the shop.")
    else:
        message = ngettext(
            "“%(title)s” graduated: its products are public in the shop. Each offers %(stock)d "
            "unit to new customers.",
            "“%(title)s” graduated: its products are public in the shop. Each offers %(stock)d "
            "units to new customers.",
            stock,
        )
    messages.success(request, message % {"title": popup.title, "stock": stock})
    if stock is not None:
        for product in popup_products_without_stock_record(popup=popup):
            messages.warning(
                request,
                _(
                    "“%(product)s” has no stock record, so no stock was set: add one under "
                    "Catalogue › Products before it can be bought."
                )
                % {"product": product.get_title()},
            )


class PresaleGraduateView(PresaleActionView):
    def act(self, popup):
        graduate_from_form(self.request, popup)


class PresaleNotifyView(PresaleActionView):
    def act(self, popup):
        queued = presale_launch_notify(popup=popup)
        if queued:
            messages.success(
                self.request,
                ngettext(
                    "Launch e-mail sent to %(count)d paid backer.",
                    "Launch e-mail sent to %(count)d paid backers.",
                    queued,
                )
                % {"count": queued},
            )
        else:
            messages.info(self.request, _("Every paid backer has already had the launch e-mail."))


# Questions: the moderation queue -----------------------------------------------------------------


class QuestionQueueView(generic.ListView):
    """Shoppers' questions by status (waiting first); answer, hide, or release from spam."""

    template_name = "popup/dashboard/question_list.html"
    context_object_name = "questions"
    paginate_by = 25

    def status(self) -> str:
        status = self.request.GET.get("status", Question.Status.PENDING)
        return status if status in Question.Status.values else Question.Status.PENDING

    def get_queryset(self):
        questions = Question.objects.filter(status=self.status()).select_related("popup", "product")
        # Waiting questions oldest first: the one waiting longest is answered first.
        return questions.order_by("created_at" if self.status() == "pending" else "-created_at")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        counts = dict(
            Question.objects.values("status").annotate(n=Count("pk")).values_list("status", "n")
        )
        context["tabs"] = [
            (value, label, counts.get(value, 0)) for value, label in Question.Status.choices
        ]
        context["status"] = self.status()
        context["speed"] = answer_speed()
        # Reviews are moderated in Oscar's own reviews dashboard; this says how many wait there.
        context["reviews_waiting"] = ProductReview.objects.filter(
            status=ProductReview.FOR_MODERATION, popup_verified__isnull=False
        ).count()
        return context


class QuestionActionView(generic.View):
    """POST only: answer (publishes it and e-mails the asker), hide, or "not spam"."""

    def post(self, request, pk: int):
        question = get_object_or_404(Question, pk=pk)
        action = request.POST.get("action")
        back = f"{reverse('popup-dashboard:question-list')}?status={question.status}"
        if action == "answer":
            try:
                question_answer(
                    question=question, answer=request.POST.get("answer", ""), by=request.user
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
                return redirect(back)
            messages.success(
                request, _("Answered: the question is shown on the pop-up and the asker e-mailed.")
            )
        elif action == "hide":
            question_hide(question=question)
            messages.info(request, _("Hidden from the pop-up."))
        elif action == "not_spam":
            question_not_spam(question=question)
            messages.info(request, _("Moved back to the questions waiting for an answer."))
        else:
            messages.error(request, _("Unknown action."))
        return redirect(back)


# Ideas: statuses and moderation ------------------------------------------------------------------


class IdeaListView(generic.ListView):
    """Every pop-up's ideas, most voted first, by status; set a status (voters hear when it's done)."""

    template_name = "popup/dashboard/idea_list.html"
    context_object_name = "ideas"
    paginate_by = 25

    def status(self) -> str:
        status = self.request.GET.get("status", "")
        return status if status in Idea.Status.values else ""

    def get_queryset(self):
        ideas = Idea.objects.select_related("popup")
        if self.status():
            return ideas.filter(status=self.status())
        return ideas.filter(status__in=Idea.SHOWN)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["status"] = self.status()
        context["statuses"] = Idea.Status.choices
        return context


class IdeaStatusView(generic.View):
    """POST only: move an idea to another status."""

    def post(self, request, pk: int):
        idea = get_object_or_404(Idea, pk=pk)
        try:
            idea = idea_status_set(idea=idea, status=request.POST.get("status", ""))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if idea.status == Idea.Status.DONE:
                message = _("“%(title)s” is now %(status)s. Its voters are being told.")
            else:
                message = _("“%(title)s” is now %(status)s.")
            messages.success(
                request,
                message % {"title": idea.title, "status": idea.get_status_display().lower()},
            )
        listing = reverse("popup-dashboard:idea-list")
        back = request.POST.get("next", "")
        return redirect(back if back.startswith(listing) else listing)  # never off the dashboard


# Polls -------------------------------------------------------------------------------------------


class PollListView(generic.FormView):
    """Every poll with its confirmed results; create one, or close and reopen voting."""

    template_name = "popup/dashboard/poll_list.html"
    form_class = PollForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["polls"] = Poll.objects.select_related("popup").prefetch_related("options")[:50]
        return context

    def form_valid(self, form):
        poll = poll_create(
            popup=form.cleaned_data["popup"],
            question=form.cleaned_data["question"],
            options=form.cleaned_data["options"],
        )
        messages.success(
            self.request, _("Poll “%(q)s” is live on its pop-up.") % {"q": poll.question}
        )
        return redirect("popup-dashboard:poll-list")


class PollToggleView(generic.View):
    """POST only: close a poll's voting, or open it again."""

    def post(self, request, pk: int):
        poll = get_object_or_404(Poll, pk=pk)
        Poll.objects.filter(pk=pk).update(is_open=not poll.is_open)
        messages.info(request, _("Voting closed.") if poll.is_open else _("Voting open again."))
        return redirect("popup-dashboard:poll-list")
