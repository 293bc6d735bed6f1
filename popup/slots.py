"""Places in the plugin's pages where another app adds its own part, without the pages knowing it.

An app fills a slot from its AppConfig.ready() (integrations.social adds the share tags to the
pop-up page's head, and catalogue feeds and posters to the dashboard); the page renders whatever
fills it with `{% popup_slot "name" %}`. Left out of INSTALLED_APPS, the app leaves its slots empty.
"""

from collections import defaultdict

SLOTS = (
    "storefront_head",  # the pop-up page's <head>: context storefront, request
    "dashboard_store",  # the end of the dashboard's pop-up list: context request
    "dashboard_popup",  # after "Embed and share" on a pop-up's dashboard page: context popup
    "dashboard_placement",  # the actions of one placement: context popup, placement
)

_filled: dict[str, list[str]] = defaultdict(list)


def slot_fill(name: str, template_name: str) -> None:
    """Render `template_name` wherever the page has the slot `name` (once, however often called)."""
    if name not in SLOTS:
        raise ValueError(f"No slot {name!r}: the slots are {', '.join(SLOTS)}.")
    if template_name not in _filled[name]:
        _filled[name].append(template_name)


def slot_templates(name: str) -> list[str]:
    return list(_filled.get(name, ()))
