"""The dashboard's "Shoppers' data" page: what the plugin holds about an e-mail address, shown
kind by kind, downloaded as JSON or erased (GDPR art. 15, 17 and 20), as `manage.py popup_privacy`
does from a shell.

Every action is a POST with its CSRF token, the address in the form's body: never in a URL, so it
stays out of access logs, browser history and Referer headers. No answer is cached (the browser's
back button does not show one shopper's data again). An erasure's report is rendered by the POST
itself rather than after a redirect, which would have to keep the address in the session or the
URL; sending the form again erases nothing more.
"""

import json
import logging

from django.http import HttpResponse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.decorators import method_decorator
from django.views import generic
from django.views.decorators.cache import never_cache

from popup.dashboard.forms import ErasureConfirmForm, ShopperDataForm
from popup.privacy.addresses import mailbox_key
from popup.privacy.labels import EXPORT_LABELS, KEPT_LABELS, KIND_LABELS
from popup.privacy.selectors import personal_data_export
from popup.privacy.services import ErasureRefused, ErasureReport, personal_data_erase

logger = logging.getLogger(__name__)


def mailbox_digest(email: str) -> str:
    """What the log writes instead of the address: a keyed hash of its mailbox.

    Logs are personal data too, and harder to erase than rows: they are kept longer, copied to
    aggregators and backups, read by more people, and an erasure cannot reach them. An address in
    clear would outlive its own erasure there; a plain hash of it would not hide it either (hash
    a list of addresses and compare). Keyed with the SECRET_KEY, the digest is the same for every
    request about one mailbox, so whoever holds the address and the key (a data protection
    officer answering "what was done about me?", in `manage.py shell`) can find those lines, and
    nobody reading the log alone can tell whose they are.
    """
    digest = salted_hmac("popup.shopper-data.log", mailbox_key(email), algorithm="sha256")
    return digest.hexdigest()[:20]


def _report_rows(report: ErasureReport) -> list[tuple[str, int]]:
    rows = [(KIND_LABELS[kind], count) for kind, count in report.erased.items() if count]
    return rows + [(KEPT_LABELS[kind], count) for kind, count in report.kept.items() if count]


@method_decorator(never_cache, name="dispatch")
class ShopperDataView(generic.TemplateView):
    """One address: what is held (counts per kind), its JSON, its erasure after a dry run."""

    template_name = "popup/dashboard/shopper_data.html"
    actions = ("find", "download", "preview", "erase")

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", ShopperDataForm())
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        form = ShopperDataForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        action = request.POST.get("action")
        email = form.cleaned_data["email"]
        return getattr(self, action if action in self.actions else "find")(form, email)

    def _log(self, done: str, email: str) -> None:
        logger.info(
            "Shoppers' data: staff user %s %s mailbox %s",
            self.request.user.pk,
            done,
            mailbox_digest(email),
        )

    def find(self, form, email: str):
        data = personal_data_export(email=email)["data"]
        self._log("looked up", email)
        held = [(EXPORT_LABELS.get(kind, kind), len(rows)) for kind, rows in data.items()]
        return self.render_to_response(
            self.get_context_data(
                form=form, email=email, held=held, held_total=sum(n for _, n in held)
            )
        )

    def download(self, form, email: str):
        data = personal_data_export(email=email)
        self._log("downloaded the export of", email)
        response = HttpResponse(
            json.dumps(data, ensure_ascii=False, indent=2),
            content_type="application/json; charset=utf-8",
        )
        # The date, not the address: file names end up in download lists and synced folders.
        day = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="shopper-data-{day}.json"'
        return response

    def preview(self, form, email: str, confirm_form: ErasureConfirmForm | None = None):
        try:
            report = personal_data_erase(email=email, dry_run=True)
        except ErasureRefused as refusal:
            self._log("was refused the erasure of", email)
            return self._refused(form, email, refusal)
        return self.render_to_response(
            self.get_context_data(
                form=form,
                email=email,
                preview=_report_rows(report),
                confirm_form=confirm_form or ErasureConfirmForm(email=email),
            )
        )

    def erase(self, form, email: str):
        confirm_form = ErasureConfirmForm(self.request.POST, email=email)
        if not confirm_form.is_valid():
            return self.preview(form, email, confirm_form)
        try:
            report = personal_data_erase(email=email)
        except ErasureRefused as refusal:
            self._log("was refused the erasure of", email)
            return self._refused(form, email, refusal)
        self._log(f"erased {report.total} rows of", email)
        return self.render_to_response(
            self.get_context_data(form=form, email=email, erased=_report_rows(report))
        )

    def _refused(self, form, email: str, refusal: ErasureRefused):
        return self.render_to_response(
            self.get_context_data(form=form, email=email, refusal=refusal)
        )
