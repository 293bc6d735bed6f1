"""The shopper's language, without Django's LocaleMiddleware, cookies or `Vary: Accept-Language`.

A pop-up's page is one shell shared by everyone (popup.core.shells), inside frames that may not
store anything. So the language travels in the open: a page is in the language its URL asks for
(`?lang=fr`, which the loader's `data-lang`, the way to checkout and the e-mails' links carry),
else in the pop-up's own default; on a first arrival without `?lang=`, the page itself moves to
the browser's language if the store offers it (live.js, before it counts the view). The pop-up's JSON calls say the page's language in
their Accept-Language header; a basket, a pledge or a feedback row keeps the language it was made
in, so a page reached from an e-mail and the e-mails sent days later speak it too.
"""

from collections.abc import Callable
from functools import wraps

from babel.core import get_global
from django.conf import settings
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

from popup.conf import popup_settings

# The languages the plugin has catalogues for (English is the language of its source).
SPOKEN = ("en", "fr")
LANGUAGE_MAX_LENGTH = 16


def _primary(code: str) -> str:
    return code.split("-")[0]


def languages_offered() -> list[str]:
    """The language codes pop-ups offer, the store's default first: POPUP_LANGUAGES, else those
    of the store's LANGUAGES the plugin speaks, regional ones included ("fr-ch": French words,
    Swiss prices and dates); a store that left LANGUAGES to Django's long list gets its
    LANGUAGE_CODE and the plugin's languages, one code each."""
    configured = popup_settings.POPUP_LANGUAGES
    if configured:
        return [code.lower() for code in configured]
    offered = [settings.LANGUAGE_CODE.lower()]
    listed = settings.is_overridden("LANGUAGES")
    for code, _name in settings.LANGUAGES:
        code = code.lower()
        if code in offered or _primary(code) not in SPOKEN:
            continue
        if listed or (code in SPOKEN and code not in map(_primary, offered)):
            offered.append(code)
    return offered


def language_match(value) -> str | None:
    """The offered language a code asks for ("fr", "fr-BE", "FR_ca", "en"), else None: the exact
    code, else the same language without a region, else the first offered of that language."""
    if not isinstance(value, str) or not 0 < len(value) <= LANGUAGE_MAX_LENGTH:
        return None
    value = value.strip().lower().replace("_", "-")
    offered = languages_offered()
    if value in offered:
        return value
    same = [code for code in offered if _primary(code) == _primary(value)]
    return _primary(value) if _primary(value) in same else next(iter(same), None)


def language_from_header(header: str) -> str | None:
    """The offered language an Accept-Language header prefers most, else None."""
    for code, _quality in parse_accept_lang_header(header[:255]):
        if (match := language_match(code)) is not None:
            return match
    return None


def language_default(popup=None) -> str:
    """A pop-up's own default language if the store still offers it, else the store's."""
    own = language_match(getattr(popup, "language", "")) if popup is not None else None
    return own or languages_offered()[0]


def language_locale(code: str) -> str:
    """A language code as Open Graph writes a locale, with a country: "fr" → "fr_FR", "en-gb" →
    "en_GB" (a code without one gets its most likely, as Unicode's CLDR says)."""
    language, _sep, country = code.partition("-")
    if not country:
        likely = get_global("likely_subtags").get(language, "")
        country = likely.rsplit("_", 1)[-1] if likely.count("_") else ""
    return f"{language}_{country.upper()}" if country else language


def language_asked(request) -> str | None:
    """The offered language a request's URL asks for with ?lang=, else None."""
    return language_match(request.GET.get("lang", ""))


def language_of(request, *, recorded: str = "", popup=None, header: bool = True) -> str:
    """The language to answer a shopper's request in: the one its URL asks for, else the one the
    shopper's basket or pledge was made in (`recorded`), else (`header`) the one the request's
    Accept-Language prefers, else the pop-up's default."""
    return (
        language_asked(request)
        or language_match(recorded)
        or (language_from_header(request.headers.get("Accept-Language", "")) if header else None)
        or language_default(popup)
    )


def language_now() -> str:
    """The language active now: the default of a row's `language`, which a shopper's request,
    answered in their language, thus records (for the e-mails sent to them later)."""
    return translation.get_language() or ""


def language_of_basket(basket_id: int) -> str:
    """The language a basket was made in, for what its shopper is told away from any page (by a
    webhook, a task: "nothing was charged"), else the store's."""
    from popup.models import PopUpBasket  # the models use this module's helpers

    recorded = PopUpBasket.objects.filter(pk=basket_id).values_list("language", flat=True).first()
    return language_match(recorded or "") or language_default()


def language_of_record(request, record, *, popup=None) -> str:
    """language_of(request) for a page of a basket's or a pledge's (`record`, with a `language`
    field): the one its URL asks for, which then becomes the record's (e-mails follow the shopper's
    last choice), else the record's own."""
    asked = language_asked(request)
    if asked is not None and asked != record.language:
        type(record).objects.filter(pk=record.pk).update(language=asked)
        record.language = asked
    return language_of(request, recorded=record.language, popup=popup)


def in_shopper_language(view: Callable) -> Callable:
    """Answer a shopper's request in language_of(request) (a view may activate a more precise one:
    the pop-up's default, a record's), rendered before the language is put back."""

    @wraps(view)
    def answered(request, *args, **kwargs):
        with translation.override(language_of(request)):
            response = view(request, *args, **kwargs)
            if callable(getattr(response, "render", None)) and not response.is_rendered:
                response.render()
            response.setdefault("Content-Language", translation.get_language())
            return response

    return answered
