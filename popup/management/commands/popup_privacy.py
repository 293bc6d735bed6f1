"""manage.py popup_privacy: a shopper's data, exported or erased (GDPR art. 15, 17 and 20)."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from popup.privacy.labels import KEPT_LABELS, KIND_LABELS
from popup.privacy.selectors import personal_data_export
from popup.privacy.services import ErasureRefused, personal_data_erase


def _address(value: str) -> str:
    address = (value or "").strip()
    try:
        validate_email(address)
    except ValidationError as error:
        raise CommandError(
            _("“%(address)s” is not an e-mail address.") % {"address": value}
        ) from error
    return address


class Command(BaseCommand):
    help = gettext_lazy(
        "A shopper's data: `export <email>` prints as JSON everything the plugin holds about the "
        "address; `erase <email>` deletes it or makes it anonymous, keeping orders (without "
        "their personal data) for the accounts."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.description = str(self.help)  # argparse takes text, not a lazy translation
        return parser

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        export = actions.add_parser(
            "export", help=_("Print everything held about the address, as JSON.")
        )
        export.add_argument("email")
        erase = actions.add_parser(
            "erase", help=_("Delete or anonymise everything held about the address.")
        )
        erase.add_argument("email")
        erase.add_argument(
            "--dry-run",
            action="store_true",
            help=_("Say what would be erased, and change nothing."),
        )

    def handle(self, *args, **options):
        email = _address(options["email"])
        if options["action"] == "export":
            data = personal_data_export(email=email)
            self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
            return
        try:
            report = personal_data_erase(email=email, dry_run=options["dry_run"])
        except ErasureRefused as refusal:
            raise CommandError(
                "\n".join([_("Nothing was erased:"), *(f"- {r}" for r in refusal.reasons)])
            ) from refusal
        if report.dry_run:
            heading = _("Would erase for %(address)s (nothing was changed):")
        else:
            heading = _("Erased for %(address)s:")
        lines = [heading % {"address": email}]
        counts = [(KIND_LABELS[kind], count) for kind, count in report.erased.items() if count]
        counts += [(KEPT_LABELS[kind], count) for kind, count in report.kept.items()]
        lines += [
            "  " + _("%(kind)s: %(count)d") % {"kind": label, "count": count}
            for label, count in counts
        ]
        if not report.total and not report.kept:
            lines.append("  " + _("Nothing: the plugin holds nothing about this address."))
        self.stdout.write("\n".join(lines))
