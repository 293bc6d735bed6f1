"""The database out of reach (restarting, out of connections): the shopper is asked to wait a
moment, with a 503 and Retry-After, never a bare 500.

Three places say it: `busy_page` around the plugin's pages, `json_view` (popup.http.json) around
its JSON endpoints, and `server_error`, the store's handler500, for what fails before a view runs
(a session read by the middleware, say).
"""

import logging
import sys
from functools import wraps

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import get_language, gettext_lazy
from django.views import defaults

logger = logging.getLogger(__name__)

# Raised when the database cannot be reached; a deadlock or a lock timeout is one too, and a
# moment's wait is the right answer to those as well.
DATABASE_DOWN = (OperationalError, InterfaceError)
BUSY_SECONDS = 5
BUSY = gettext_lazy("The shop is busy for a moment. Please try again in a few seconds.")
# Said where a card may have been touched: the reconciler finishes or cancels what it did.
BUSY_PAYING = gettext_lazy(
    "The shop is busy for a moment. You will not be charged twice: if your payment went through, "
    "your confirmation follows by e-mail; otherwise, please try again in a moment."
)


def busy_json(message=BUSY) -> JsonResponse:
    response = JsonResponse({"error": str(message), "code": "busy"}, status=503)
    return _not_kept(response)


def busy_html(request) -> HttpResponse:
    """A page drawn without the database (no context processors). A GET reloads itself; after a
    form's POST, the shopper is asked to go back (a reload would repeat nothing useful)."""
    context = {
        "LANGUAGE_CODE": get_language(),
        "shop_name": settings.OSCAR_SHOP_NAME,
        "retry_seconds": BUSY_SECONDS,
        "path": request.get_full_path() if request.method == "GET" else "",
    }
    response = HttpResponse(render_to_string("popup/busy.html", context), status=503)
    return _not_kept(response)


def _not_kept(response: HttpResponse) -> HttpResponse:
    response["Retry-After"] = str(BUSY_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def busy_page(view):
    """A shopper's page that answers busy_html while the database cannot be reached."""

    @wraps(view)
    def answered(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DATABASE_DOWN:
            logger.exception("The database could not serve %s", request.path)
            return busy_html(request)

    return answered


def server_error(request):
    """handler500 for the store's URLconf: the busy answer when the database is what failed (JSON
    for requests that send or accept JSON), else Django's own 500 page.

        handler500 = "popup.http.busy.server_error"
    """
    if isinstance(sys.exc_info()[1], DATABASE_DOWN):
        wants_json = "json" in request.headers.get("Accept", "") + request.content_type
        return busy_json() if wants_json else busy_html(request)
    return defaults.server_error(request)
