from datetime import datetime

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
