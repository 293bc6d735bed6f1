"""How long shoppers' personal data is kept (POPUP_RETENTION_DAYS), enforced by the beat.

Each kind has a period in days (None keeps it); past it, the data is deleted, or anonymised where
the row still counts in a figure (a basket in the funnel and the placements' figures):

- open_baskets: a basket never ordered nor pledged, from its last change: its address, customer
  key, shipping details, client hash and ad click id are cleared (the row stays for the figures).
- closed_baskets: an ordered or pledged basket, from its pop-up's closing (the limit per customer
  needs its address until then): the same, and the ad click id leaves its order's note; the order
  and the pledge keep their own copy of the rest.
- ended_pledges: a pledge cancelled or dropped without an order, from its last change: its
  address, customer key, shipping details and card label are cleared, and its history's notes
  name nobody (its amounts stay for the pre-sale's figures and the money audit).
- unconfirmed: the plugin's waiting-list sign-ups, poll votes and requests for news of ideas
  nobody confirmed, from when they were made: deleted, with their consent rows (Oscar's own alerts,
  made outside a pop-up, are the store's business).
- questions: an answered question's address, from the answer (it was only for sending it), and
  one never answered, hidden or spam, from when it was asked: cleared, with its consent row.
- sent_emails: the recipient and the last error (a mail server's error often quotes the address)
  of the plugin's record of each e-mail, from its making (the record itself stays: it is what stops
  an e-mail going twice).

Expired holds (popup.core.holds.holds_delete_expired) and rate-limit counters (an hour in Redis,
a day in the database: popup.analytics.counters) have their own, shorter, clocks.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from oscar.core.loading import get_model

from popup.channels.placements import order_note_without_ad_click
from popup.conf import popup_settings
from popup.models import Consent, OutgoingEmail, Pledge, PollVote, PopUpBasket, Question
from popup.privacy.services import pledge_history_scrub

OrderNote = get_model("order", "OrderNote")
ProductAlert = get_model("customer", "ProductAlert")

RETENTION_DAYS: dict[str, int | None] = {
    "open_baskets": 30,
    "closed_baskets": 30,
    "ended_pledges": 90,
    "unconfirmed": 7,
    "questions": 90,
    "sent_emails": 90,
}
BATCH = 500
ERASED_BASKET = {"email": "", "email_key": "", "shipping": {}, "address_key": "", "ad_click": {}}
ERASED_PLEDGE = {"email": "", "email_key": "", "shipping": {}, "card_label": ""}


def retention_days() -> dict[str, int | None]:
    """Each kind's period in days: the store's POPUP_RETENTION_DAYS over the defaults."""
    return {**RETENTION_DAYS, **(popup_settings.POPUP_RETENTION_DAYS or {})}


@dataclass(frozen=True)
class RetentionReport:
    open_baskets: int = 0
    closed_baskets: int = 0
    ended_pledges: int = 0
    unconfirmed: int = 0
    questions: int = 0
    sent_emails: int = 0


def _before(now: datetime, days: int | None) -> datetime | None:
    return None if days is None else now - timedelta(days=days)


def _in_batches(queryset, update: dict) -> int:
    """Update the rows in batches (no long lock over a big table); how many were changed."""
    changed = 0
    while True:
        pks = list(queryset.values_list("pk", flat=True)[:BATCH])
        if not pks:
            return changed
        changed += queryset.model._default_manager.filter(pk__in=pks).update(**update)


def _baskets(*, open_before: datetime | None, closed_before: datetime | None) -> tuple[int, int]:
    personal = (
        Q(email__gt="")
        | Q(email_key__gt="")
        | Q(address_key__gt="")
        | ~Q(shipping={})
        | ~Q(ad_click={})
    )
    opened = closed = 0
    if open_before is not None:
        # A basket under payment has a recent change: its payment is settled within the hour.
        stale = PopUpBasket.objects.filter(
            personal, status=PopUpBasket.Status.OPEN, updated_at__lt=open_before
        )
        opened = _in_batches(stale, ERASED_BASKET)
    if closed_before is not None:
        done = PopUpBasket.objects.filter(personal, popup__closes_at__lt=closed_before).exclude(
            status=PopUpBasket.Status.OPEN
        )
        _order_notes_scrub(done.exclude(ad_click={}))
        closed = _in_batches(done, ERASED_BASKET)
    return opened, closed


def _order_notes_scrub(baskets) -> None:
    """The ad click id goes from the notes of the baskets' orders with the basket's own."""
    notes = OrderNote.objects.filter(
        order__popup_basket__in=baskets.values("pk"), message__contains="fbclid="
    )
    for note in notes.iterator():
        note.message = order_note_without_ad_click(note.message)
        note.save(update_fields=["message", "date_updated"])


def _unconfirmed(before: datetime) -> int:
    with transaction.atomic():
        # The old unconfirmed alerts, locked as read (a confirmation at the same moment waits, then
        # finds nothing to confirm); of those, the plugin's own: the ones a consent row names.
        stale = ProductAlert.objects.select_for_update().filter(
            status=ProductAlert.UNCONFIRMED, date_created__lt=before
        )
        named = Consent.objects.filter(
            purpose=Consent.Purpose.WAITLIST,
            reference__in=[f"productalert:{pk}" for pk in stale.values_list("pk", flat=True)],
        ).values_list("reference", flat=True)
        alerts = [int(reference.partition(":")[2]) for reference in named]
        votes = list(
            PollVote.objects.select_for_update()
            .filter(confirmed_at__isnull=True, created_at__lt=before)
            .values_list("pk", flat=True)
        )
        ProductAlert.objects.filter(pk__in=alerts).delete()  # its AlertLanguage goes with it
        PollVote.objects.filter(pk__in=votes).delete()
        references = [f"productalert:{pk}" for pk in alerts] + [f"pollvote:{pk}" for pk in votes]
        Consent.objects.filter(reference__in=references).delete()
        deleted = len(alerts) + len(votes)
        news, _kinds = Consent.objects.filter(
            purpose=Consent.Purpose.IDEA_UPDATES,
            confirmed_at__isnull=True,
            withdrawn_at__isnull=True,
            asked_at__lt=before,
        ).delete()
    return deleted + news


def _questions(before: datetime) -> int:
    done = Question.objects.exclude(email="").filter(
        Q(answered_at__lt=before) | Q(answered_at__isnull=True, created_at__lt=before)
    )
    with transaction.atomic():
        refs = [f"question:{pk}" for pk in done.values_list("pk", flat=True)]
        cleared = _in_batches(done, {"email": ""})
        Consent.objects.filter(reference__in=refs).delete()
    return cleared


def personal_data_expire(*, now: datetime | None = None) -> RetentionReport:
    """Delete or anonymise what is past its period (see the module); how many rows of each kind.
    Idempotent: what was cleared is not found again."""
    now = now or timezone.now()
    days = retention_days()
    opened, closed = _baskets(
        open_before=_before(now, days["open_baskets"]),
        closed_before=_before(now, days["closed_baskets"]),
    )
    unconfirmed = 0
    if days["unconfirmed"] is not None:
        unconfirmed = _unconfirmed(_before(now, days["unconfirmed"]))
    questions = _questions(_before(now, days["questions"])) if days["questions"] is not None else 0
    sent = 0
    if days["sent_emails"] is not None:
        old = OutgoingEmail.objects.filter(
            ~Q(to="") | ~Q(last_error=""), created_at__lt=_before(now, days["sent_emails"])
        )
        sent = _in_batches(old, {"to": "", "last_error": ""})
    pledges = 0
    if days["ended_pledges"] is not None:
        ended = Pledge.objects.filter(
            ~Q(email="") | ~Q(email_key="") | ~Q(card_label="") | ~Q(shipping={}),
            status__in=(Pledge.Status.CANCELLED, Pledge.Status.DROPPED),
            order__isnull=True,
            updated_at__lt=_before(now, days["ended_pledges"]),
        )
        with transaction.atomic():
            addresses = set(ended.exclude(email="").values_list("email", flat=True))
            pledge_history_scrub(pledges=ended, addresses=addresses)  # "Card saved: Visa …"
            pledges = _in_batches(ended, ERASED_PLEDGE)
    return RetentionReport(
        open_baskets=opened,
        closed_baskets=closed,
        ended_pledges=pledges,
        unconfirmed=unconfirmed,
        questions=questions,
        sent_emails=sent,
    )
