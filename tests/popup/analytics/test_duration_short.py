"""The drop report's answer times ("Median answer time"), in the merchant's numbers and plurals,
a no-break space between a number and its unit in French."""

from datetime import timedelta

import pytest
from django.utils import translation

from popup.templatetags.popup_tags import duration_short


@pytest.mark.parametrize(
    ("duration", "english", "french"),
    [
        (timedelta(seconds=20), "1 min", "1\u00a0min"),
        (timedelta(minutes=45), "45 min", "45\u00a0min"),
        (timedelta(hours=2), "2 h", "2\u00a0h"),
        (timedelta(hours=2, minutes=5), "2 h 5 min", "2\u00a0h 5\u00a0min"),
        (timedelta(days=3), "3 days", "3\u00a0jours"),
        (timedelta(hours=84), "3.5 days", "3,5\u00a0jours"),
        (timedelta(hours=50), "2.1 days", "2,1\u00a0jours"),
    ],
)
def test_a_duration_reads_in_the_pages_language(duration, english, french):
    with translation.override("en-gb"):
        assert duration_short(duration) == english
    with translation.override("fr"):
        assert duration_short(duration) == french


def test_no_duration_is_empty():
    assert duration_short(None) == ""
