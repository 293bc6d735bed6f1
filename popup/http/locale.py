"""Django's LocaleMiddleware for the rest of a store, with the pop-ups' own pages left out.

A store that wants its pages and Oscar's dashboard in each visitor's language adds Django's
LocaleMiddleware; it would also add `Vary: Accept-Language` to the pop-ups' shared pages, which
choose their language in the open instead (popup.core.languages), and split every cache in front
of them by that header. Use this one in its place, at the same spot in MIDDLEWARE.
"""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.urls import reverse
from django.utils import translation


def _popup_page(request) -> bool:
    """Whether the request is for one of the plugin's pages, wherever the store mounted them
    ("/popup/", under the site's own prefix if any: both sides include it)."""
    return request.path.startswith(reverse("popup:embed-loader").removesuffix("embed.js"))


class StoreLocaleMiddleware(LocaleMiddleware):
    """LocaleMiddleware everywhere but under the pop-ups' prefix, where each request starts from
    the store's language (a thread's last request may have left another active) and the pop-up's
    views choose theirs."""

    def process_request(self, request):
        if _popup_page(request):
            translation.activate(settings.LANGUAGE_CODE)
        else:
            super().process_request(request)

    def process_response(self, request, response):
        if _popup_page(request):
            return response
        return super().process_response(request, response)
