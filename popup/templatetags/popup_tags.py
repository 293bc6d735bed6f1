import math
from datetime import datetime
from urllib.parse import urlencode

from django import template
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import json_script
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, get_language_info, ngettext
from django.utils.translation import gettext as _

from popup.conf import popup_settings
from popup.core.languages import languages_offered
from popup.slots import slot_templates

register = template.Library()


@register.simple_tag
def popup_languages() -> dict:
    """The language switch: one link per language, named in itself ("English", "Français"), to
    the page's own variant of it (a Swiss shopper keeps "fr-ch"), else its plain or first one;
    `codes`, every offered code, for popup.js to match the browser's as the server does."""
    offered, current = languages_offered(), get_language()
    links = {}
    for code in offered:
        primary = code.split("-")[0]
        chosen = links.get(primary)  # the page's own variant, else the plain one, else the first
        if chosen is None or code == current or (code == primary and chosen["code"] != current):
            try:
                name = get_language_info(primary)["name_local"]
            except KeyError:  # a language Django has no name for (a store's own, a test's)
                name = code
            links[primary] = {
                "code": code,
                "name": name[:1].upper() + name[1:],
                "current": code == current,
            }
    return {"links": list(links.values()), "codes": " ".join(offered)}


@register.simple_tag
def script_texts() -> str:
    """What the pop-up's scripts may have to say on any page, in the page's language, as JSON in
    `#popup-text`: the scripts carry no sentence of their own. A countdown's __D__, __H__, __M__
    and __S__ stand for its days, hours, minutes and seconds."""
    texts = {
        "expired": _("Your basket expired, please try again."),
        "failed": _("Something went wrong, please try again."),
        "offline": _("No connection, please try again."),
        "unavailable": _(
            "Payment is unavailable right now. Nothing was charged: please try again."
        ),
        "not-confirmed": _(
            "Your bank could not confirm this payment. Nothing was charged: try again, or use "
            "another card."
        ),
        "declined": _("Your card was declined."),
        "under-way": _("Already under way."),
        "shipping": _("Standard shipping"),
        "countdown-days": _("__D__d __H__h __M__m"),
        "countdown": _("__H__h __M__m __S__s"),
    }
    return json_script(texts, "popup-text")


@register.filter
def time_until(moment: datetime, now: datetime | None = None) -> str:
    """“2d 04h 13m”: the server-side text of a countdown that the page's script keeps ticking."""
    seconds = max(0, int((moment - (now or timezone.now())).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return _("%(d)dd %(h)02dh %(m)02dm") % {"d": days, "h": hours, "m": minutes}
    return _("%(h)02dh %(m)02dm %(s)02ds") % {"h": hours, "m": minutes, "s": seconds}


@register.filter
def hold_clock(moment: datetime | None, now: datetime | None = None) -> str:
    """“9:58”: the minutes and seconds a hold has left, as every hold timer shows them."""
    if moment is None:
        return "0:00"
    seconds = max(0, int((moment - (now or timezone.now())).total_seconds()))
    return f"{seconds // 60}:{seconds % 60:02d}"


@register.simple_tag
def popup_stream_url(popup) -> str:
    """Where the page's script hears the pop-up's live figures pushed (popup.stream), or "" when
    the store runs no stream process or the pop-up is not for everyone: the page polls instead."""
    base = popup_settings.POPUP_STREAM_URL
    if not base or not popup.is_published or popup.event_only:
        return ""
    return f"{base.rstrip('/')}/{popup.pk}/"


@register.simple_tag
def whatsapp_message(popup, url: str, product_title: str = "") -> str:
    """The pop-up's wa.me link with a message naming it (and the product) already typed in."""
    if product_title:
        text = _("Hi! A question about %(product)s in %(popup)s: %(url)s") % {
            "product": product_title,
            "popup": popup.title,
            "url": url,
        }
    else:
        text = _("Hi! A question about %(popup)s: %(url)s") % {"popup": popup.title, "url": url}
    return popup.whatsapp_message_url(text)


@register.simple_tag
def messenger_message(popup, arrival=None) -> str:
    """The pop-up's m.me link, its `ref` naming the pop-up and the placement the shopper came by."""
    placement = getattr(arrival, "placement", None)
    ref = f"popup-{popup.slug}" + (f"-{placement.code}" if placement is not None else "")
    return popup.messenger_ref_url(ref)


@register.simple_tag
def querystring_of(**values) -> str:
    """The values as a URL query string (escaped again by the template where it is written)."""
    return urlencode(values)


@register.simple_tag(takes_context=True)
def popup_slot(context, name: str, **extra) -> str:
    """What the installed apps add at this place of the page (see popup.slots), in its context."""
    parts = []
    for template_name in slot_templates(name):
        with context.push(**extra):
            parts.append(context.template.engine.get_template(template_name).render(context))
    return mark_safe("".join(parts))


@register.filter
def answer_speed_badge(speed) -> str:
    """“Usually answers within 2 hours” (rounded up), once enough questions were answered; "" before."""
    if not speed.shows_badge:
        return ""
    minutes = max(1, math.ceil(speed.median.total_seconds() / 60))
    if minutes < 60:
        return ngettext(
            "Usually answers within %(n)d minute", "Usually answers within %(n)d minutes", minutes
        ) % {"n": minutes}
    hours = math.ceil(minutes / 60)
    if hours < 48:
        return ngettext(
            "Usually answers within %(n)d hour", "Usually answers within %(n)d hours", hours
        ) % {"n": hours}
    days = math.ceil(hours / 24)
    return ngettext(
        "Usually answers within %(n)d day", "Usually answers within %(n)d days", days
    ) % {"n": days}


@register.filter
def duration_short(value) -> str:
    """A duration as "2 h 5 min", "45 min", "3 days" or "3.5 days" ("3,5 jours" in French); ""
    for none."""
    if value is None:
        return ""
    minutes = max(1, round(value.total_seconds() / 60))
    if minutes < 60:
        return _("%(m)d min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        if minutes:
            return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
        return _("%(h)d h") % {"h": hours}
    days = round(hours / 24, 1)
    days = int(days) if days.is_integer() else days
    # The plural by its whole days (2 or more here): gettext counts in integers.
    return ngettext("%(days)s day", "%(days)s days", int(days)) % {"days": number_format(days)}
