"""What everything shoppers send without an account (waitlists, questions, ideas, polls) shares: the
refusal they get, the e-mail check, the spam heuristic, and the rate limits."""

import re
import unicodedata
from difflib import SequenceMatcher

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from popup.analytics.counters import rate_count, rate_used
from popup.errors import Refusal
from popup.http.client_ip import address_key

WINDOW_SECONDS = 3600
# A real question or idea rarely carries more than one link; spam nearly always does.
_LINK = re.compile(r"https?://|www\.", re.IGNORECASE)
SPAM_LINKS = 2
# Two long texts this alike (0..1, difflib's ratio of their plain forms) say the same thing: a
# typo fixed, a word pluralised. Only when both have NEAR_SAME_LENGTH characters or more: in a
# shorter text one letter is a tenth of it. And never when a number or a short word differs: "size
# XS" and "size XL", "250 ml" and "350 ml" are as alike as texts go, and different ideas.
NEAR_SAME = 0.9
NEAR_SAME_LENGTH = 20
SHORT_WORD = 3


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


def ip_key(client_ip: str) -> str:
    """A client address as rate limits count it: its keyed hash (see address_key), never the
    address itself, so neither Redis nor the database holds shoppers' IP addresses."""
    return address_key(client_ip) or "unknown"


def over_limit(key: str, limit: int, *, window: int = WINDOW_SECONDS) -> bool:
    """Count one more use of `key` in the current window; True once it goes past `limit`."""
    return rate_count(key, window=window) > limit


def limit_reached(key: str, limit: int, *, window: int = WINDOW_SECONDS) -> bool:
    """Whether `key` has already been used `limit` times in the current window (counts nothing)."""
    return rate_used(key, window=window) >= limit


def text_plain(text: str) -> str:
    """The text as compared for sameness: letters and digits in lower case, accents and punctuation
    dropped, single spaces ("Sage-green  scarf!" and "sage green scarf" are the same)."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    kept = (
        char if unicodedata.category(char)[0] in "LN" else " "
        for char in decomposed
        if not unicodedata.combining(char)
    )
    return " ".join("".join(kept).split())


def _telling_words(plain: str) -> list[str]:
    """The words of a plain text a single letter changes the meaning of, in their order: numbers,
    short words ("xs", "250", "ml")."""
    return [
        word
        for word in plain.split()
        if len(word) <= SHORT_WORD or any(char.isdigit() for char in word)
    ]


def texts_near_same(first: str, second: str) -> bool:
    """Whether two texts say the same thing: the same words, case, spacing, punctuation and accents
    aside; or, when both are long enough to tell, the same numbers and short words and a typo or a
    plural apart."""
    if not text_plain(first) and not text_plain(second):  # emoji or punctuation only: as written
        return " ".join(first.casefold().split()) == " ".join(second.casefold().split())
    first, second = text_plain(first), text_plain(second)
    if first == second:
        return True
    if min(len(first), len(second)) < NEAR_SAME_LENGTH:
        return False
    if _telling_words(first) != _telling_words(second):
        return False
    return SequenceMatcher(None, first, second).ratio() >= NEAR_SAME
