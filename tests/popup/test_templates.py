"""What Django's template language would show as text instead of hiding."""

import re
from pathlib import Path

from django.conf import settings

TEMPLATE_DIRS = [
    Path(settings.BASE_DIR) / "popup" / "templates",
    Path(settings.BASE_DIR) / "templates",
]


def test_no_short_comment_spans_lines():
    """A {# … #} comment must fit on one line: across lines, every visitor reads it on the page."""
    found = [
        f"{path.relative_to(settings.BASE_DIR)}:{text[: match.start()].count(chr(10)) + 1}"
        for folder in TEMPLATE_DIRS
        for path in sorted(folder.rglob("*.html"))
        for text in [path.read_text()]
        for match in re.finditer(r"\{#", text)
        if "#}" not in text[match.end() :].split("\n", 1)[0]
    ]
    assert found == []
