"""The Pop-ups section of Oscar's dashboard: list, create, edit, terms, publish, delete."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models.deletion import ProtectedError, RestrictedError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views import generic

from ..models import PopUp
from ..selectors import popup_storefront
from ..services.popups import (
    popup_delete,
    popup_product_terms_sync,
    popup_product_terms_update,
    popup_publish,
    popup_save,
    popup_unpublish,
)
from .forms import PopUpForm, PopUpProductTermsFormSet, PopUpSearchForm
from .selectors import popup_dashboard_queryset, popup_dashboard_rows, popup_terms_queryset


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
            form=form,
            rows=page.object_list,
            page_obj=page,
            paginator=page.paginator,
            is_paginated=page.has_other_pages(),
            is_filtered=bool(filters and any(filters.values())),
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
    success_message = _("Pop-up “%(title)s” created. Now set the units and prices of its products.")

    def get_initial(self):
        # A sensible first schedule: tomorrow at 10:00 for a week, in the store's time zone.
        tomorrow = timezone.localtime() + timedelta(days=1)
        opens = tomorrow.replace(hour=10, minute=0, second=0, microsecond=0)
        return {"opens_at": opens, "closes_at": opens + timedelta(days=7)}

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=_("Create pop-up"), **kwargs)


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


class PopUpDeleteView(generic.DeleteView):
    model = PopUp
    context_object_name = "popup"
    template_name = "popup/dashboard/popup_delete.html"

    def form_valid(self, form):
        popup = self.object
        try:
            popup_delete(popup=popup)
        except (ProtectedError, RestrictedError):
            messages.error(
                self.request,
                _("“%(title)s” has orders or holds that refer to it: unpublish it instead.")
                % {"title": popup.title},
            )
            return redirect("popup-dashboard:popup-detail", pk=popup.pk)
        messages.success(
            self.request,
            _("Pop-up “%(title)s” deleted; its range is kept.") % {"title": popup.title},
        )
        return redirect("popup-dashboard:popup-list")
