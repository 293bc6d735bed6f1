"""What each e-mail address was given for (popup.models.Consent), and its double opt-in.

- A waitlist sign-up, a poll vote and a question record theirs as they are made, with the words
  the shopper read next to the field. A waitlist's is confirmed when Oscar's alert is (its
  confirmation link), a poll vote's when the vote is (its link); a question's is the shopper's own
  request: answering it needs no more.
- Voting for an idea, or sending one, counts at once; hearing when ideas of that pop-up are done is
  asked once per address and pop-up, by e-mail, and nothing is sent until that link is followed.
- A withdrawn consent (a cancelled alert, the "stop" link) sends nothing more.
"""

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from popup.models import Consent, PopUp

PURPOSE_BASIS = {
    Consent.Purpose.WAITLIST: Consent.Basis.CONSENT,
    Consent.Purpose.POLL_VOTE: Consent.Basis.CONSENT,
    Consent.Purpose.IDEA_UPDATES: Consent.Basis.CONSENT,
    Consent.Purpose.QUESTION: Consent.Basis.REQUEST,
}


def consent_record(
    *, email: str, purpose: str, popup: PopUp | None, wording: str, reference: str = ""
) -> Consent:
    """Record that `email` was given for `purpose` next to `wording` (in the active language)."""
    return Consent.objects.create(
        email=email,
        purpose=purpose,
        basis=PURPOSE_BASIS[purpose],
        popup=popup,
        wording=wording,
        reference=reference,
    )


def consent_confirm_for(*, reference: str) -> int:
    """Confirm the consent given with `reference` ("productalert:12"), once; how many changed."""
    return Consent.objects.filter(
        reference=reference, confirmed_at__isnull=True, withdrawn_at__isnull=True
    ).update(confirmed_at=timezone.now())


def consent_withdraw_for(*, reference: str) -> int:
    """Withdraw the consent given with `reference`, once; how many changed."""
    return Consent.objects.filter(reference=reference, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now()
    )


def _idea_updates(*, email: str, popup: PopUp):
    return Consent.objects.annotate(lowered=Lower("email")).filter(
        lowered=email.lower(), purpose=Consent.Purpose.IDEA_UPDATES, popup=popup
    )


def idea_updates_ask(*, email: str, popup: PopUp, wording: str) -> Consent | None:
    """Ask `email` to confirm hearing when the pop-up's ideas are done, unless it was asked
    before (confirmed, waiting, or withdrawn: a "stop" is respected); the new consent, or None."""
    from popup.notifications.tasks import idea_updates_confirmation_send
    from popup.queueing import task_queue_on_commit

    if _idea_updates(email=email, popup=popup).exists():
        return None
    try:
        with transaction.atomic():
            consent = consent_record(
                email=email, purpose=Consent.Purpose.IDEA_UPDATES, popup=popup, wording=wording
            )
            task_queue_on_commit(idea_updates_confirmation_send, consent.pk)
    except IntegrityError:  # a vote at the same moment asked first (popup_consent_idea_news_once)
        return None
    return consent


def idea_updates_confirmed(*, popup: PopUp) -> set[str]:
    """The addresses (lower case) that confirmed hearing about the pop-up's ideas, and still do."""
    return set(
        Consent.objects.filter(
            purpose=Consent.Purpose.IDEA_UPDATES,
            popup=popup,
            confirmed_at__isnull=False,
            withdrawn_at__isnull=True,
        )
        .annotate(lowered=Lower("email"))
        .values_list("lowered", flat=True)
    )


def consent_by_token(*, token: str) -> Consent | None:
    return Consent.objects.select_related("popup").filter(token=token).first()


def consent_confirm(*, consent: Consent) -> Consent:
    """Confirm the consent (its e-mail's link, then the button), once; a withdrawn one stays so."""
    Consent.objects.filter(
        pk=consent.pk, confirmed_at__isnull=True, withdrawn_at__isnull=True
    ).update(confirmed_at=timezone.now())
    consent.refresh_from_db(fields=["confirmed_at", "withdrawn_at"])
    return consent


def consent_withdraw(*, consent: Consent) -> Consent:
    """Withdraw the consent (the "stop" link, then the button), once."""
    Consent.objects.filter(pk=consent.pk, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now()
    )
    consent.refresh_from_db(fields=["confirmed_at", "withdrawn_at"])
    return consent
