"""Receipts: what a shopper's device keeps to ask about what it sent; only a receipt of the same
kind stands for its row, anything else for nothing."""

import pytest
from django.core import signing

from popup.feedback.receipts import SALT, receipt_for, receipt_read, receipts_read


def test_a_receipt_stands_for_its_row_of_its_kind_only():
    receipt = receipt_for(kind="idea", pk=7)
    assert receipt_read(kind="idea", receipt=receipt) == 7
    assert receipt_read(kind="poll_vote", receipt=receipt) is None
    assert receipt_read(kind="idea", receipt=receipt + "x") is None
    assert receipt_read(kind="idea", receipt=7) is None


def test_a_row_has_one_receipt_whenever_it_is_asked_for(monkeypatch):
    first = receipt_for(kind="idea", pk=7)
    later = 10**9 + 86_400  # a day on, every second of the receipt's making has changed
    monkeypatch.setattr(signing.time, "time", lambda: later)
    assert receipt_for(kind="idea", pk=7) == first


def test_a_receipt_handed_out_with_its_second_still_reads():
    earlier = signing.dumps(7, salt=SALT + "idea", compress=False)
    assert receipt_read(kind="idea", receipt=earlier) == 7
    assert receipt_read(kind="poll_vote", receipt=earlier) is None


def test_receipts_are_read_from_a_list_of_them_and_nothing_else():
    kept = [receipt_for(kind="idea", pk=pk) for pk in (1, 2)]
    assert receipts_read(kind="idea", receipts=[*kept, "forged", None, 3]) == {1, 2}
    assert receipts_read(kind="idea", receipts=kept[0]) == set()  # one receipt, not a list
    assert receipts_read(kind="idea", receipts={"receipt": kept[0]}) == set()
    many = [receipt_for(kind="idea", pk=pk) for pk in range(1, 30)]
    assert receipts_read(kind="idea", receipts=many) == set(
        range(1, 21)
    )  # as many as a device keeps


def test_what_a_receipt_is_for_is_always_named():
    with pytest.raises(TypeError):
        receipt_for("idea", 7)
    with pytest.raises(TypeError):
        receipt_read("idea", receipt_for(kind="idea", pk=7))
