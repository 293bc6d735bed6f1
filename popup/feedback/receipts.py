"""Receipts: what a shopper's device keeps to ask, later, about what it sent (its ideas, its poll
votes) without an account or a cookie. A receipt is the row's id signed for its kind; it proves
the device sent it, and reveals nothing (the id is not a secret, and it confirms nothing: a poll
vote still counts only once its address is confirmed from the e-mail). It is handed out only to
the device that sent the row, never to whoever names the same e-mail address."""

from django.core import signing

SALT = "popup.feedback.receipt:"
# As many as a device keeps per pop-up (feedback.js); more are not read.
MAX_RECEIPTS = 20


def receipt_for(*, kind: str, pk: int) -> str:
    """The receipt of row `pk` of `kind` ("idea", "poll_vote"): always the same one for a row, so
    a device that keeps it twice keeps one."""
    return signing.Signer(salt=SALT + kind).sign_object(pk)


def receipt_read(*, kind: str, receipt) -> int | None:
    """The row id a receipt of `kind` stands for; None for anything else."""
    if not isinstance(receipt, str) or len(receipt) > 200:
        return None
    # Those handed out before receipts were stable carry the second they were made in a third part.
    signer = signing.TimestampSigner if receipt.count(":") == 2 else signing.Signer
    try:
        pk = signer(salt=SALT + kind).unsign_object(receipt)
    except (signing.BadSignature, ValueError):
        return None
    return pk if isinstance(pk, int) and not isinstance(pk, bool) else None


def receipts_read(*, kind: str, receipts, limit: int = MAX_RECEIPTS) -> set[int]:
    """The row ids that the first `limit` receipts of `kind` stand for; anything else (not a list,
    a forged or foreign receipt) stands for nothing."""
    if not isinstance(receipts, list):
        return set()
    ids = (receipt_read(kind=kind, receipt=receipt) for receipt in receipts[:limit])
    return {pk for pk in ids if pk is not None}
