"""Helpers for the reports' tests: their inline SVG charts."""

import re

# SVG attributes that hold numbers; a browser reads them with a decimal point, whatever the page's
# language ("944,0" is no coordinate).
SVG_NUMBERS = {"x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "dy", "width", "height"}
NUMBER = r"-?\d+(\.\d+)?"


def svg_attributes(page: str) -> list[tuple[str, str]]:
    """(name, value) of every attribute of every element inside the page's inline SVGs."""
    found = []
    for svg in re.findall(r"<svg\b.*?</svg>", page, flags=re.S):
        for tag in re.findall(r"<[a-z]+\b[^>]*>", svg):
            found += re.findall(r'([a-zA-Z:-]+)="([^"]*)"', tag)
    return found


def assert_svg_dot_decimal(page: str) -> list[tuple[str, str]]:
    """Every number in the page's SVGs is written with a decimal point; the attributes checked."""
    attributes = svg_attributes(page)
    for name, value in attributes:
        if name == "points":
            assert re.fullmatch(f"{NUMBER},{NUMBER}( {NUMBER},{NUMBER})*", value), value
        elif name == "viewBox":
            assert re.fullmatch(f"{NUMBER}( {NUMBER}){{3}}", value), value
        elif name in SVG_NUMBERS:
            assert re.fullmatch(f"{NUMBER}%?", value), (name, value)
        elif name == "style":
            assert "," not in value, value
    return attributes
