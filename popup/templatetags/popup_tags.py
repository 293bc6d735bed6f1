from datetime import datetime
from urllib.parse import urlencode

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

register = template.Library()


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
