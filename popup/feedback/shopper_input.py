"""What everything shoppers send without an account (waitlists, questions, ideas, polls) shares: the
refusal they get, the e-mail check, the spam heuristic, and the rate limits."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from popup.analytics.counters import rate_count, rate_used
from popup.errors import Refusal

WINDOW_SECONDS = 3600
# A real question or idea rarely carries more than one link; spam nearly always does.
_LINK = re.compile(r"https?://|www\.", re.IGNORECASE)
SPAM_LINKS = 2


class Refused(Refusal):
    """Why the shopper's input was refused (a bad field by default, so 400)."""

    status = 400


def email_or_none(value) -> str | None:
    """The address, without surrounding spaces, if it is valid (254 characters at most); else None."""
    value = (value or "").strip()
    if len(value) > 254:
        return None
    try:
        validate_email(value)
    except ValidationError:
        return None
    return value


def link_count(text: str) -> int:
    return len(_LINK.findall(text))


def looks_like_spam(text: str) -> bool:
    return link_count(text) >= SPAM_LINKS


def over_limit(key: str, limit: int, *, window: int = WINDOW_SECONDS) -> bool:
    """Count one more use of `key` in the current window; True once it goes past `limit`."""
    return rate_count(key, window=window) > limit


def limit_reached(key: str, limit: int, *, window: int = WINDOW_SECONDS) -> bool:
    """Whether `key` has already been used `limit` times in the current window (counts nothing)."""
    return rate_used(key, window=window) >= limit
