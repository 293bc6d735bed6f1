"""Helpers of the dashboard's browser tests: axe-core on what the plugin draws, and counting clicks."""

from playwright.sync_api import Locator, Page

from .support import violations


def dashboard_violations(page: Page) -> list[str]:
    """The serious and critical WCAG 2.2 A/AA violations axe finds in what the plugin's dashboard
    pages draw: breadcrumbs, messages, header and content. Oscar's own navigation bars above them
    are Oscar's (its top bar puts a form straight into a list) and left out."""
    return violations(page, within=".container-fluid")


class Clicks:
    """What a merchant does with the mouse, counted: clicks (a choice in a list counts as one) and
    saves (a click that sends the form). Typing into a field is not a click."""

    def __init__(self, page: Page) -> None:
        self.page, self.clicks, self.saves = page, 0, 0

    def click(self, target: Locator) -> None:
        self.clicks += 1
        target.click()

    def choose(self, target: Locator, value: str) -> None:
        self.clicks += 1
        target.select_option(value)

    def save(self, target: Locator) -> None:
        self.saves += 1
        self.click(target)
