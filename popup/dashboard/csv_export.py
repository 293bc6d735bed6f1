"""CSV downloads of the dashboard's tables, streamed: rows are written as they are read.

Every file starts with a UTF-8 byte order mark: without it Excel reads the file in the system's
old code page ("Ã©" for "é"). Two dialects: the plain CSV (commas, dot decimals, ISO times) that
scripts and most spreadsheets read, and, on request (`?sep=semicolon`, the "CSV for Excel (;)"
links), the one Excel opens with a double click where numbers are written with a decimal comma
(France, Belgium, Switzerland, Quebec…): semicolons, decimal commas, times Excel recognises.
"""

import csv
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import StreamingHttpResponse
from django.utils import timezone

BYTE_ORDER_MARK = "\ufeff"
SEMICOLON = "semicolon"  # the value of ?sep= asking for Excel's dialect

# A spreadsheet runs a cell starting with one of these as a formula; shoppers write e-mails, ideas
# and sources (a utm_source is anything in a URL), so such cells are quoted as text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file that hands back what is written to it, so csv.writer can feed a streamed response."""

    def write(self, value: str) -> str:
        return value


def csv_semicolons(request) -> bool:
    """Whether the merchant asked for the CSV Excel opens with a decimal comma (?sep=semicolon)."""
    return request.GET.get("sep") == SEMICOLON


def _decimal_text(value: float | Decimal) -> str:
    text = format(value, "f") if isinstance(value, Decimal) else repr(value)
    return format(value, "f") if "e" in text.lower() else text  # never 1e-05 nor 1E+1


def csv_cell(value, *, decimal_comma: bool = False) -> str:
    if value is None:
        return ""
    if hasattr(value, "tzinfo"):
        moment = timezone.localtime(value)
        if decimal_comma:  # Excel reads this as a date and time in every language, not an offset
            return moment.strftime("%Y-%m-%d %H:%M:%S")
        return moment.isoformat(timespec="seconds")
    if decimal_comma and isinstance(value, float | Decimal):
        return _decimal_text(value).replace(".", ",")
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return f"'{value}"
    return str(value)


def csv_response(
    *,
    header: Sequence[str],
    rows: Iterable[Sequence],
    filename: str,
    semicolons: bool = False,
):
    """A streamed CSV download of `rows` under `header`; every cell safe to open in a spreadsheet.
    `semicolons`: Excel's dialect for languages with a decimal comma (see the module's note)."""
    writer = csv.writer(_Echo(), delimiter=";" if semicolons else ",")

    def lines():
        yield BYTE_ORDER_MARK + writer.writerow([str(label) for label in header])
        for row in rows:
            yield writer.writerow([csv_cell(value, decimal_comma=semicolons) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
