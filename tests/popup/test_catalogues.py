"""The plugin's French: every message translated, none fuzzy, placeholders kept, none missing."""

import shutil
import warnings
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import gettext

PACKAGES = ("popup", "integrations/stripe", "integrations/social")


def catalogue(package: str, root: Path | None = None):
    path = (
        (root or Path(settings.BASE_DIR)) / package / "locale" / "fr" / "LC_MESSAGES" / "django.po"
    )
    with path.open("rb") as po:
        return read_po(po)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_message_is_translated_and_none_is_fuzzy(package):
    messages = [message for message in catalogue(package) if message.id]
    untranslated = [
        message.id
        for message in messages
        if not (all(message.string) if message.pluralizable else message.string)
    ]
    assert untranslated == []
    assert [message.id for message in messages if message.fuzzy] == []


@pytest.mark.parametrize("package", PACKAGES)
def test_translations_keep_the_placeholders(package):
    problems = [
        f"{message.id!r}: {errors}" for message, errors in catalogue(package).check() if errors
    ]
    assert problems == []


@pytest.mark.skipif(not shutil.which("xgettext"), reason="GNU gettext is not installed")
@pytest.mark.parametrize("package", PACKAGES)
def test_no_message_is_missing_from_the_catalogue(package, tmp_path, monkeypatch):
    """What makemessages would find in the code is in the catalogue already."""
    copy = tmp_path / package
    shutil.copytree(Path(settings.BASE_DIR) / package, copy)
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["fr"], verbosity=0, no_obsolete=True)
    found = {message.id for message in catalogue(package, tmp_path) if message.id}
    kept = {message.id for message in catalogue(package) if message.id}
    assert sorted(map(str, found - kept)) == []


@pytest.mark.parametrize(
    ("english", "french"),
    [
        ("Stripe payments", "Paiements Stripe"),  # integrations.stripe's own catalogue
        ("Sold out", "Épuisé"),  # the plugin's
    ],
)
def test_django_finds_each_app_s_catalogue(english, french):
    with translation.override("fr"):
        assert gettext(english) == french


def _french_of_the_other_apps() -> dict[str, set[str]]:
    """The French of every other installed app (Oscar's, Django's contrib), by message."""
    french = {}
    for config in apps.get_app_configs():
        path = Path(config.path) / "locale" / "fr" / "LC_MESSAGES" / "django.po"
        if config.name.startswith(("popup", "integrations")) or not path.exists():
            continue
        with path.open("rb") as po, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            translated = (message for message in read_po(po) if message.string)
            for message in translated:
                if isinstance(message.id, str) and message.id and not message.context:
                    french.setdefault(message.id, set()).add(message.string)
    return french


@pytest.mark.parametrize("package", PACKAGES)
def test_no_message_is_translated_otherwise_by_another_app(package):
    """Django merges the catalogues of every app, the first in INSTALLED_APPS winning, so where
    Oscar or Django translate the same English differently, a store's order of apps would choose
    the plugin's French: such a message takes their French, or a context of its own."""
    theirs = _french_of_the_other_apps()
    clashes = [
        f"{message.id!r}: ours {message.string!r}, theirs {sorted(theirs[message.id])!r}"
        for message in catalogue(package)
        if isinstance(message.id, str)
        and not message.context
        and theirs.get(message.id, {message.string}) != {message.string}
    ]
    assert clashes == []
