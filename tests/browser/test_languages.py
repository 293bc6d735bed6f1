"""A French browser meets the pop-up in French; the language switch and the loader's data-lang
choose another; the basket and its checkout follow."""

import re

import pytest
from playwright.sync_api import expect

from popup.analytics.stats import stats_flush
from popup.models import PopUpBasket, PopUpDayStats

from .showcase import showcase_popup
from .support import violations
from .test_phone import SIDEWAYS, first_add, screen, shot

pytestmark = pytest.mark.browser


def test_a_french_browser_gets_french_and_the_switch_keeps_the_basket(browser, store_url):
    popup = showcase_popup()  # the store's default language: English
    page = screen(browser, 390, locale="fr-FR")
    page.goto(f"{store_url}{popup.get_absolute_url()}?pl=none")

    expect(page).to_have_url(re.compile(r"\?pl=none&lang=fr$"))  # moved, and says so from now
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.wait_for_load_state("networkidle")
    stats_flush()
    assert PopUpDayStats.objects.get(popup=popup).views == 1  # counted once, where it moved to
    expect(page.locator("[data-countdown] time")).to_have_text(
        re.compile(r"^2\u00a0j 04\u00a0h 1[23]\u00a0min$")
    )
    first_add(page)
    bar = page.locator("[data-basket]")
    expect(bar.get_by_role("link", name="Paiement")).to_have_attribute(
        "href", re.compile(r"/popup/checkout/[\w-]+/\?lang=fr$")
    )
    switch = page.get_by_role("navigation", name="Langue")
    expect(switch.get_by_role("link", name="Français")).to_have_attribute("aria-current", "true")
    assert page.evaluate(SIDEWAYS) == [0, []]
    assert violations(page) == []
    shot(page, "languages-fr-390")

    switch.get_by_role("link", name="English").click()
    expect(page).to_have_url(re.compile(r"\?pl=none&lang=en-gb$"))
    expect(page.locator("html")).to_have_attribute("lang", "en-gb")
    expect(bar.get_by_role("link", name="Checkout")).to_be_visible()  # the same basket, held
    expect(bar).to_contain_text("1 item in your basket")

    bar.get_by_role("link", name="Checkout").click()
    expect(page.locator("html")).to_have_attribute("lang", "en-gb")
    assert PopUpBasket.objects.get().language == "en-gb"
    page.context.close()


def test_the_loader_s_data_lang_chooses_the_frame_s_language(browser, store_url, host):
    popup = showcase_popup(allowed_embed_origins=host.origin)
    page = screen(browser, 390)  # an English browser on a French page
    loader = (
        f'<script src="{store_url}/static/popup/embed.js" data-popup="{popup.slug}" '
        'data-lang="fr"></script>'
    )
    html = (
        '<!doctype html><meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<body>{loader}</body>"
    )
    page.goto(host.serve("/fr", html))
    frame = page.frame_locator("iframe")
    expect(frame.locator("html")).to_have_attribute("lang", "fr")
    frame.locator("button[data-add]:visible").first.click()
    expect(frame.locator("[data-basket]").get_by_role("link", name="Paiement")).to_be_visible()
    assert PopUpBasket.objects.get().language == "fr"
    page.context.close()
