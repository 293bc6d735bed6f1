"""JSON endpoints: reading the body, and answering every refusal the same way.

The pop-up's endpoints run inside third-party iframes, where cookies are lost: their credential is a
token (a header or the URL), never a cookie, so they need no CSRF cookie either.
"""

import json
import logging
from functools import wraps

from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from oscar.core.loading import get_class

from popup.errors import BadRequest, Refusal
from popup.http.busy import BUSY, DATABASE_DOWN, busy_json
from popup.payments import PaymentNotConfirmed

PaymentError = get_class("payment.exceptions", "PaymentError")
UnableToTakePayment = get_class("payment.exceptions", "UnableToTakePayment")

logger = logging.getLogger(__name__)


def json_body(request) -> dict:
    """The request's JSON object; BadRequest when it is not one."""
    try:
        body = json.loads(request.body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadRequest(_("The request body is not valid JSON.")) from error
    if not isinstance(body, dict):
        raise BadRequest(_("The request body must be a JSON object."))
    return body


def json_body_or_empty(request) -> dict:
    """The request's JSON object, or {} when it is not one (a form then says what is missing)."""
    try:
        return json_body(request)
    except BadRequest:
        return {}


def json_text_required(request, name: str, missing: str) -> str:
    """The text field `name` of the request's JSON body; BadRequest saying `missing` without it."""
    value = str(json_body_or_empty(request).get(name, ""))
    if not value:
        raise BadRequest(missing)
    return value


def whole_number(body: dict, name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(_("“%(name)s” must be a whole number.") % {"name": name})
    return value


def texts(body: dict, names: tuple[str, ...]) -> dict[str, str]:
    """The named fields as text ("" when absent); BadRequest when one is not text."""
    values = {name: body.get(name) or "" for name in names}
    if not all(isinstance(value, str) for value in values.values()):
        raise BadRequest(_("Please write it as text."))
    return values


def json_view(*methods: str, unavailable=BUSY):
    """A JSON endpoint answering only `methods`, without CSRF cookie (see above), whose Refusals
    become {"error": message, "code": code, ...} with their status, what is not there (an unknown
    basket, pop-up or poll) a 404 in the same form, payment failures a 402, and a database that
    cannot be reached a 503 saying `unavailable` (what happened to the shopper's money, where there
    is some)."""

    def decorate(view):
        @wraps(view)
        def answered(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except Refusal as refusal:
                return JsonResponse(refusal.payload(), status=refusal.status)
            except Http404:
                message = _("This is no longer here. Please reload the page.")
                return JsonResponse({"error": message, "code": "not_found"}, status=404)
            except PaymentNotConfirmed as error:  # its message says it all
                return JsonResponse({"error": str(error), "code": "declined"}, status=402)
            except UnableToTakePayment as error:
                # The bank's reason, then what it means for the shopper and what to try.
                message = _(
                    "%(reason)s Nothing was charged: check the card's details, or try another card."
                ) % {"reason": str(error).strip()}
                return JsonResponse({"error": message, "code": "declined"}, status=402)
            except PaymentError:
                message = _(
                    "Payment is unavailable right now. Nothing was charged: please try again."
                )
                return JsonResponse({"error": message, "code": "unavailable"}, status=402)
            except DATABASE_DOWN:
                logger.exception("The database could not serve %s", request.path)
                return busy_json(unavailable)

        return csrf_exempt(require_http_methods(list(methods))(answered))

    return decorate
