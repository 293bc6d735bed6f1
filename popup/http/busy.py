"""The database out of reach (restarting, out of connections): the shopper is asked to wait a
moment, with a 503 and Retry-After, never a bare 500. JSON endpoints say it through json_view."""

import logging
from functools import wraps

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import get_language, gettext_lazy

logger = logging.getLogger(__name__)

DATABASE_DOWN = (OperationalError, InterfaceError)
BUSY_SECONDS = 5
BUSY = gettext_lazy("The shop is busy for a moment. Please try again in a few seconds.")
# Said where a card may have been touched: the reconciler finishes or cancels what it did.
BUSY_PAYING = gettext_lazy(
    "The shop is busy for a moment. You will not be charged twice: if your payment went through, "
    "your confirmation follows by e-mail; otherwise, please try again in a moment."
)


def busy_page(view):
    """A shopper's page that, while the database cannot be reached, answers a 503 page which
    reloads itself; it is drawn without the database (no context processors)."""

    @wraps(view)
    def answered(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DATABASE_DOWN:
            logger.exception("The database was unavailable for %s", request.path)
            context = {
                "LANGUAGE_CODE": get_language(),
                "shop_name": settings.OSCAR_SHOP_NAME,
                "retry_seconds": BUSY_SECONDS,
                "path": request.get_full_path(),
            }
            response = HttpResponse(render_to_string("popup/busy.html", context), status=503)
            response["Retry-After"] = str(BUSY_SECONDS)
            response["Cache-Control"] = "no-store"
            return response

    return answered
