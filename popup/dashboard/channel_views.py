"""The Pop-ups dashboard's channels: a pop-up's placements, and the store's ambassadors with what
they sold, their commission due, its CSV and "mark paid"."""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext, pgettext_lazy
from django.views import generic
from oscar.templatetags.currency_filters import currency

from popup.channels.placements import ambassador_invite, commissions_mark_paid, placement_create
from popup.channels.selectors import channel_figures
from popup.core.views import placement_snippets
from popup.dashboard.csv_export import csv_response, csv_semicolons
from popup.dashboard.forms import AmbassadorInviteForm, CommissionPaidForm, PlacementForm
from popup.feedback.shopper_input import Refused
from popup.models import Ambassador, Placement, PopUp


def placement_rows(request, popup: PopUp) -> list[dict]:
    """Each of the pop-up's placements with its figures and snippets, newest first."""
    placements = list(popup.placements.select_related("ambassador", "popup"))
    figures = channel_figures(by="placement", ids=[placement.pk for placement in placements])
    return [
        {"placement": placement, "figures": figures[placement.pk]}
        | placement_snippets(request, placement)
        for placement in placements
    ]


def _back_to_placements(popup: PopUp) -> HttpResponseRedirect:
    url = reverse("popup-dashboard:popup-detail", kwargs={"pk": popup.pk})
    return HttpResponseRedirect(f"{url}#popup_placements")


class PlacementCreateView(generic.View):
    """Adds a named placement to the pop-up."""

    def post(self, request, pk: int):
        popup = get_object_or_404(PopUp, pk=pk)
        form = PlacementForm(request.POST)
        if form.is_valid():
            placement = placement_create(
                popup=popup,
                name=form.cleaned_data["name"],
                landing_url=form.cleaned_data["landing_url"],
            )
            messages.success(request, _("Placement “%(name)s” added.") % {"name": placement.name})
        elif "name" in form.errors:
            messages.error(request, _("Give the placement a name (80 characters at most)."))
        else:
            messages.error(
                request,
                _(
                    "Its address must be a whole web address, such as "
                    "https://www.instagram.com/atelier.nord, or left empty."
                ),
            )
        return _back_to_placements(popup)


# ChannelFigures' columns, in the order both CSVs give them, with their headers (in the merchant's
# language).
FIGURE_COLUMNS = [
    "clicks",
    "views",
    "baskets",
    "checkouts",
    "orders",
    "units",
    "revenue",
    "commission",
]
FIGURE_HEADERS = [
    pgettext_lazy("CSV column", "clicks"),
    pgettext_lazy("CSV column", "views"),
    pgettext_lazy("CSV column", "baskets"),
    pgettext_lazy("CSV column", "checkouts"),
    pgettext_lazy("CSV column", "orders"),
    pgettext_lazy("CSV column", "units"),
    pgettext_lazy("CSV column", "revenue"),
    pgettext_lazy("CSV column", "commission"),
]
PLACEMENT_CSV_HEADER = [
    pgettext_lazy("CSV column", "placement"),
    pgettext_lazy("CSV column", "code"),
    pgettext_lazy("CSV column", "short_link"),
    pgettext_lazy("CSV column", "ambassador"),
    pgettext_lazy("CSV column", "active"),
    *FIGURE_HEADERS,
]


def _yes_no(value: bool) -> str:
    return pgettext("CSV cell", "yes") if value else pgettext("CSV cell", "no")


def _figures_cells(figures) -> list:
    return [getattr(figures, column) for column in FIGURE_COLUMNS]


class PlacementCsvView(generic.View):
    """The pop-up's placements with their figures, as CSV."""

    def get(self, request, pk: int):
        popup = get_object_or_404(PopUp, pk=pk)
        return csv_response(
            header=PLACEMENT_CSV_HEADER,
            rows=(
                [
                    row["placement"].name,
                    row["placement"].code,
                    row["short_link"],
                    row["placement"].ambassador.code if row["placement"].ambassador else "",
                    _yes_no(row["placement"].is_active),
                    *_figures_cells(row["figures"]),
                ]
                for row in placement_rows(request, popup)
            ),
            filename=f"{popup.slug}-placements.csv",
            semicolons=csv_semicolons(request),
        )


class PlacementToggleView(generic.View):
    """Switches a placement's attribution off (its link still opens the pop-up) or back on."""

    def post(self, request, pk: int, placement_id: int):
        placement = get_object_or_404(Placement, pk=placement_id, popup_id=pk)
        Placement.objects.filter(pk=placement.pk).update(is_active=not placement.is_active)
        if placement.is_active:
            messages.info(
                request,
                _("“%(name)s” switched off: its link still opens the pop-up, unattributed.")
                % {"name": placement.name},
            )
        else:
            messages.success(request, _("“%(name)s” switched on.") % {"name": placement.name})
        return _back_to_placements(placement.popup)


class AmbassadorInviteView(generic.View):
    """Invites a fan or a reseller to sell the pop-up: their placement, code and e-mail."""

    def post(self, request, pk: int):
        popup = get_object_or_404(PopUp, pk=pk)
        form = AmbassadorInviteForm(request.POST)
        if not form.is_valid():
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                messages.error(
                    request,
                    _("%(field)s: %(error)s") % {"field": label, "error": " ".join(errors)}
                    if label
                    else errors[0],
                )
            return _back_to_placements(popup)
        try:
            placement = ambassador_invite(popup=popup, **form.cleaned_data)
        except Refused as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(
                request,
                _(
                    "%(name)s is invited: an e-mail with their link, code %(code)s and private page is on its way."
                )
                % {"name": placement.ambassador.name, "code": placement.ambassador.code},
            )
        return _back_to_placements(popup)


CSV_HEADER = [
    pgettext_lazy("CSV column", "ambassador"),
    pgettext_lazy("CSV column", "email"),
    pgettext_lazy("CSV column", "kind"),
    pgettext_lazy("CSV column", "code"),
    pgettext_lazy("CSV column", "discount_percent"),
    pgettext_lazy("CSV column", "commission_percent"),
    *FIGURE_HEADERS,
    pgettext_lazy("CSV column", "commission_paid"),
    pgettext_lazy("CSV column", "commission_due"),
    pgettext_lazy("CSV column", "active"),
]


class AmbassadorListView(generic.TemplateView):
    """Every ambassador with attributed orders, revenue and commission due; ?format=csv for all."""

    template_name = "popup/dashboard/ambassador_list.html"

    def rows(self):
        ambassadors = list(Ambassador.objects.order_by("name", "pk"))
        figures = channel_figures(
            by="ambassador", ids=[ambassador.pk for ambassador in ambassadors]
        )
        return [(ambassador, figures[ambassador.pk]) for ambassador in ambassadors]

    def get(self, request, *args, **kwargs):
        if request.GET.get("format") == "csv":
            return csv_response(
                header=CSV_HEADER,
                rows=(
                    [
                        ambassador.name,
                        ambassador.email,
                        ambassador.kind,
                        ambassador.code,
                        ambassador.discount_percent,
                        ambassador.commission_percent,
                        *_figures_cells(figures),
                        figures.commission_paid,
                        figures.commission_due,
                        _yes_no(ambassador.is_active),
                    ]
                    for ambassador, figures in self.rows()
                ),
                filename="ambassadors.csv",
                semicolons=csv_semicolons(request),
            )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rows"] = self.rows()
        context["paid_form"] = CommissionPaidForm()
        return context


class AmbassadorPaidView(generic.View):
    """Marks everything due to an ambassador as paid, with the payment's reference."""

    def post(self, request, pk: int):
        ambassador = get_object_or_404(Ambassador, pk=pk)
        form = CommissionPaidForm(request.POST)
        reference = form.cleaned_data["reference"] if form.is_valid() else ""
        count, amount = commissions_mark_paid(ambassador=ambassador, reference=reference)
        if count:
            messages.success(
                request,
                ngettext(
                    "%(count)d commission to %(name)s, %(amount)s in all, marked paid.",
                    "%(count)d commissions to %(name)s, %(amount)s in all, marked paid.",
                    count,
                )
                % {"count": count, "name": ambassador.name, "amount": currency(amount)},
            )
        else:
            messages.info(request, _("Nothing is due to %(name)s.") % {"name": ambassador.name})
        return HttpResponseRedirect(reverse("popup-dashboard:ambassador-list"))


class AmbassadorToggleView(generic.View):
    """Switches an ambassador off (no discount, no new commission, private page gone) or back on."""

    def post(self, request, pk: int):
        ambassador = get_object_or_404(Ambassador, pk=pk)
        Ambassador.objects.filter(pk=pk).update(is_active=not ambassador.is_active)
        return HttpResponseRedirect(reverse("popup-dashboard:ambassador-list"))
