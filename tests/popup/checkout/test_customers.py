"""One mailbox counts once towards a per-customer limit, however its address is typed."""

import pytest

from popup.checkout.customers import email_key


@pytest.mark.parametrize(
    "typed",
    [
        "ada.lovelace@gmail.com",
        "  Ada.Lovelace@GMAIL.com ",
        "adalovelace@gmail.com",
        "a.d.a.lovelace+drop@gmail.com",
        "ada.lovelace@googlemail.com",
        "ada.lovelace@gmail.com.",
        "ａｄａ.lovelace@ｇｍａｉｌ.com",  # full-width, folded by NFKC
        "аda.lovelace@gmаil.com",  # Cyrillic а twice
    ],
)
def test_one_gmail_mailbox_has_one_key(typed):
    assert email_key(typed) == "adalovelace@gmail.com"


def test_plus_tags_are_dropped_only_where_the_provider_ignores_them():
    assert email_key("ada+drop@outlook.com") == "ada@outlook.com"
    assert email_key("ada+drop@example.com") == "ada+drop@example.com"


def test_dots_are_kept_where_they_name_another_mailbox():
    assert email_key("a.da@outlook.com") != email_key("ada@outlook.com")
    assert email_key("a.da@example.com") == "a.da@example.com"


def test_different_people_keep_different_keys():
    assert email_key("ada@example.com") != email_key("ada@example.org")
    assert email_key("ada@gmail.com") != email_key("adam@gmail.com")
    assert email_key("") == ""
