"""The drop report in the dashboard: the page with its charts and suggestions, a CSV of each table,
two pop-ups side by side, and the one-click actions the suggestions offer."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext, pgettext_lazy
from django.views import generic

from popup.analytics.drop_report import DropReport, drop_headline, drop_report
from popup.analytics.merchandising import (
    popup_relaunch,
    popup_reprice,
    popup_restock,
    restock_beyond_stock,
)
from popup.analytics.suggestions import drop_suggestions
from popup.core.selectors import popup_storefront
from popup.dashboard.csv_export import csv_response, csv_semicolons
from popup.dashboard.forms import PresaleGraduateForm
from popup.dashboard.selectors import price_notes
from popup.dashboard.views import graduate_from_form
from popup.models import Idea, PopUp, Question


def _popup_or_404(pk) -> PopUp:
    return get_object_or_404(PopUp.objects.select_related("range"), pk=pk)


def _compare_choices(popup: PopUp):
    """Pop-ups to compare this one with, the one it was relaunched from first."""
    others = PopUp.objects.exclude(pk=popup.pk).only("pk", "title", "opens_at")
    return sorted(others[:200], key=lambda other: other.pk != popup.relaunched_from_id)


class DropReportView(generic.TemplateView):
    """Funnel, sales, speed, unmet demand and feedback of one pop-up, with what to do next."""

    template_name = "popup/dashboard/drop_report.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        popup = _popup_or_404(self.kwargs["pk"])
        report = drop_report(popup=popup)
        storefront = popup_storefront(popup=popup, strategy=self.request.strategy)
        regular = {item.product.pk: item.regular_price for item in storefront.items}
        context.update(
            popup=popup,
            report=report,
            suggestions=drop_suggestions(report=report, regular_prices=regular),
            graduate_form=PresaleGraduateForm(),
            compare_choices=_compare_choices(popup),
            tables=TABLES,
        )
        return context


# Each table of the report as CSV: its header, and its rows from the report (or, for ideas and
# questions, every row of the pop-up's, not only those on the page).
def _funnel_rows(report: DropReport, popup: PopUp):
    return [(step.label, step.count, step.rate) for step in report.funnel]


def _product_rows(report: DropReport, popup: PopUp):
    return [
        (p.title, p.offered, p.sold, p.sell_through, p.revenue, p.waitlist) for p in report.products
    ]


def _placement_rows(report: DropReport, popup: PopUp):
    return [
        (
            row.name,
            "" if row.arrivals is None else row.arrivals,
            row.baskets,
            row.orders,
            row.revenue,
        )
        for row in report.placements
    ]


def _summary_rows(report: DropReport, popup: PopUp):
    return [(figure.label, figure.text) for figure in drop_headline(report)]


def _rating_rows(report: DropReport, popup: PopUp):
    scores = [
        (
            ngettext("%(count)d star", "%(count)d stars", score) % {"count": score},
            report.ratings.counts.get(score, 0),
            "",
        )
        for score in range(5, 0, -1)
    ]
    return scores + [(label, count, average) for label, average, count in report.ratings.aspects]


def _poll_rows(report: DropReport, popup: PopUp):
    return [
        (
            poll.question,
            option.label,
            option.votes,
            pgettext("poll voting", "open") if poll.is_open else pgettext("poll voting", "closed"),
        )
        for poll in report.polls
        for option in poll.options.all()
    ]


def _idea_rows(report: DropReport, popup: PopUp):
    ideas = Idea.objects.filter(popup=popup).order_by("-votes", "-created_at", "-pk")
    return (
        (idea.title, idea.get_status_display(), idea.votes, idea.created_at, idea.shipped_at)
        for idea in ideas.iterator(chunk_size=1000)
    )


def _question_rows(report: DropReport, popup: PopUp):
    questions = (
        Question.objects.filter(popup=popup).select_related("product").order_by("created_at")
    )
    for question in questions.iterator(chunk_size=1000):
        hours = (
            round(question.answer_time.total_seconds() / 3600, 2) if question.answer_time else None
        )
        yield (
            question.body,
            question.product.get_title() if question.product else "",
            question.get_status_display(),
            question.created_at,
            question.answered_at,
            hours,
        )


# The CSV columns, as the merchant's spreadsheet shows them (in the page's language).
TABLES = {
    "summary": (
        [pgettext_lazy("CSV column", "figure"), pgettext_lazy("CSV column", "value")],
        _summary_rows,
    ),
    "funnel": (
        [
            pgettext_lazy("CSV column", "step"),
            pgettext_lazy("CSV column", "count"),
            pgettext_lazy("CSV column", "percent_of_step_before"),
        ],
        _funnel_rows,
    ),
    "products": (
        [
            pgettext_lazy("CSV column", "product"),
            pgettext_lazy("CSV column", "offered"),
            pgettext_lazy("CSV column", "sold"),
            pgettext_lazy("CSV column", "sell_through_percent"),
            pgettext_lazy("CSV column", "revenue"),
            pgettext_lazy("CSV column", "waitlist"),
        ],
        _product_rows,
    ),
    "placements": (
        [
            pgettext_lazy("CSV column", "placement"),
            pgettext_lazy("CSV column", "arrivals"),
            pgettext_lazy("CSV column", "baskets"),
            pgettext_lazy("CSV column", "orders"),
            pgettext_lazy("CSV column", "revenue"),
        ],
        _placement_rows,
    ),
    "sales": (
        [pgettext_lazy("CSV column", "time"), pgettext_lazy("CSV column", "units_sold_by_then")],
        lambda report, popup: report.sales,
    ),
    "ratings": (
        [
            pgettext_lazy("CSV column", "score_or_aspect"),
            pgettext_lazy("CSV column", "reviews"),
            pgettext_lazy("CSV column", "average"),
        ],
        _rating_rows,
    ),
    "polls": (
        [
            pgettext_lazy("CSV column", "poll"),
            pgettext_lazy("CSV column", "option"),
            pgettext_lazy("CSV column", "confirmed_votes"),
            pgettext_lazy("CSV column", "voting"),
        ],
        _poll_rows,
    ),
    "ideas": (
        [
            pgettext_lazy("CSV column", "idea"),
            pgettext_lazy("CSV column", "status"),
            pgettext_lazy("CSV column", "votes"),
            pgettext_lazy("CSV column", "posted_at"),
            pgettext_lazy("CSV column", "shipped_at"),
        ],
        _idea_rows,
    ),
    "questions": (
        [
            pgettext_lazy("CSV column", "question"),
            pgettext_lazy("CSV column", "product"),
            pgettext_lazy("CSV column", "status"),
            pgettext_lazy("CSV column", "asked_at"),
            pgettext_lazy("CSV column", "answered_at"),
            pgettext_lazy("CSV column", "answer_hours"),
        ],
        _question_rows,
    ),
}


class DropReportCsvView(generic.View):
    """One table of the drop report as CSV (the products by default)."""

    def get(self, request, pk: int, table: str = "products"):
        if table not in TABLES:
            raise Http404("No such table.")
        popup = _popup_or_404(pk)
        header, rows = TABLES[table]
        # Computed only if the table reads it: the ideas and questions come straight from their rows.
        report = SimpleLazyObject(lambda: drop_report(popup=popup))
        return csv_response(
            header=header,
            rows=rows(report, popup),
            filename=f"{popup.slug}-{table}.csv"
            if table != "products"
            else f"{popup.slug}-drop.csv",
            semicolons=csv_semicolons(request),
        )


class DropCompareView(generic.TemplateView):
    """Two pop-ups' key figures side by side: ?a=<id>&b=<id>; with ?format=csv, as CSV."""

    template_name = "popup/dashboard/drop_compare.html"

    def pair(self) -> tuple[PopUp, PopUp]:
        try:
            first, second = int(self.request.GET["a"]), int(self.request.GET["b"])
        except (KeyError, ValueError) as error:
            raise Http404("Choose two pop-ups to compare.") from error
        return _popup_or_404(first), _popup_or_404(second)

    def rows(self, first: DropReport, second: DropReport):
        """(label, first's value, second's value) for each figure, paired by the figure's code."""
        others = {figure.code: figure.text for figure in drop_headline(second)}
        return [(figure.label, figure.text, others[figure.code]) for figure in drop_headline(first)]

    def get(self, request, *args, **kwargs):
        first, second = self.pair()
        reports = drop_report(popup=first), drop_report(popup=second)
        if request.GET.get("format") == "csv":
            return csv_response(
                header=[pgettext("CSV column", "figure"), first.title, second.title],
                rows=self.rows(*reports),
                filename=f"compare-{first.slug}-{second.slug}.csv",
                semicolons=csv_semicolons(request),
            )
        return self.render_to_response(
            self.get_context_data(
                first=first, second=second, reports=reports, rows=self.rows(*reports)
            )
        )


def _numbers(post, prefix: str, parse) -> dict[int, object]:
    """{product id: value} from fields named `<prefix>-<product id>`; ValidationError if unreadable."""
    values = {}
    for name, raw in post.items():
        if not name.startswith(f"{prefix}-"):
            continue
        try:
            product_id = int(name.removeprefix(f"{prefix}-"))
            values[product_id] = parse(raw.strip())
        except (ValueError, InvalidOperation) as error:
            raise ValidationError(_("“%(value)s” is not a number.") % {"value": raw}) from error
    if not values:
        raise ValidationError(_("Nothing to apply."))
    return values


def _units(raw: str) -> int | None:
    if raw == "":
        return None  # no cap
    units = int(raw)
    if units < 0:
        raise ValueError(raw)
    return units


class DropActionView(generic.View):
    """POST only: apply one suggestion (restock, reprice, relaunch, graduate) with the numbers in the
    form, which the merchant may have changed, and say how it went."""

    http_method_names = ["post"]

    def post(self, request, pk: int):
        popup = _popup_or_404(pk)
        action = request.POST.get("action", "")
        try:
            if action == "restock":
                units = _numbers(request.POST, "units", int)
                terms = popup_restock(popup=popup, units=units)
                messages.success(
                    request,
                    ngettext(
                        "Restocked %(count)d product in this pop-up.",
                        "Restocked %(count)d products in this pop-up.",
                        len(units),
                    )
                    % {"count": len(units)},
                )
                for warning in restock_beyond_stock(terms=terms):
                    messages.warning(request, warning)
            elif action == "reprice":
                prices = _numbers(request.POST, "price", Decimal)
                popup_reprice(popup=popup, prices=prices)
                messages.success(
                    request, _("New prices apply at once, to every basket not yet at payment.")
                )
                for note in price_notes(
                    popup=popup, strategy=request.strategy, product_ids=prices, young=True
                ):
                    messages.warning(request, note)
            elif action == "relaunch":
                copy = popup_relaunch(popup=popup, units=_numbers(request.POST, "units", _units))
                messages.success(
                    request,
                    _("“%(title)s” is a draft: check it, then publish it.") % {"title": copy.title},
                )
                return redirect("popup-dashboard:popup-update", pk=copy.pk)
            elif action == "graduate":
                graduate_from_form(request, popup)
            else:
                messages.error(request, _("Unknown action."))
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        return redirect("popup-dashboard:drop-report", pk=popup.pk)
