"""The links in e-mails that confirm or withdraw a consent: a page, then a button (a link scanner
opening the link confirms nothing)."""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from popup.http.busy import busy_page
from popup.privacy.consent import consent_by_token, consent_confirm, consent_withdraw


def _consent_page(request, token: str, *, stop: bool) -> HttpResponse:
    consent = consent_by_token(token=token)
    if consent is None or consent.popup is None:
        raise Http404("No such consent.")
    done = request.method == "POST"
    if done:
        consent = consent_withdraw(consent=consent) if stop else consent_confirm(consent=consent)
    context = {"consent": consent, "popup": consent.popup, "stop": stop, "done": done}
    response = render(request, "popup/consent.html", context)
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@busy_page
def consent_confirm_view(request, token: str) -> HttpResponse:
    """Yes, tell me when the pop-up's ideas are done."""
    return _consent_page(request, token, stop=False)


@require_http_methods(["GET", "POST"])
@busy_page
def consent_stop_view(request, token: str) -> HttpResponse:
    """No more e-mails about the pop-up's ideas."""
    return _consent_page(request, token, stop=True)
