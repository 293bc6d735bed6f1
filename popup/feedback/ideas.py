"""The pop-up's idea box: shoppers suggest what to make next and vote (one vote per e-mail address);
the merchant sets each idea's status, and when one ships, everyone who voted for it is told.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from popup.feedback.receipts import receipts_read
from popup.feedback.shopper_input import (
    Refused,
    email_or_none,
    ip_key,
    link_count,
    looks_like_spam,
    over_limit,
    texts_near_same,
)
from popup.models import Idea, IdeaVote, PopUp
from popup.notifications.tasks import idea_shipped_email_send
from popup.privacy.consent import idea_updates_ask
from popup.queueing import task_queue_on_commit

IDEAS_PER_IP = 5
VOTES_PER_IP = 30
MAX_TITLE = 120
MAX_BODY = 1000
MAX_NAME = 60
VOTABLE = (Idea.Status.OPEN, Idea.Status.UNDER_REVIEW, Idea.Status.PLANNED)
# Statuses the merchant gave an idea on the board, shown to everyone beside it.
PUBLISHED = tuple(status for status in Idea.SHOWN if status != Idea.Status.OPEN)


def _voter_wording() -> str:
    """The words next to the address field, as the voter read them (popup/partials/ideas.html)."""
    return _("Your e-mail, to vote (one vote each) and hear when an idea ships")


def _email(value: str) -> str:
    email = email_or_none(value)
    if email is None:
        raise Refused(
            _("Please enter a valid e-mail address, like name@example.com."),
            code="email",
            field="email",
        )
    return email


def _author_locked(popup: PopUp, email: str) -> None:
    """Serialise one author's ideas in one pop-up (a double tap sends the same idea twice at once)
    until the transaction ends; SQLite, the demo's database, writes one transaction at a time."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            key = f"popup-idea:{popup.pk}:{email.lower()}"
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])


def _already_received(idea: Idea, *, own: bool) -> str:
    """What an author reads on sending an idea of theirs again: that it arrived, and where it is.
    A status the board does not show (held as spam, hidden) only for `own`: whoever types an
    address in is not proven to be its owner, the receipt their device kept is."""
    if idea.status in PUBLISHED:
        return _(
            "We already received this idea from you, and it is already published (%(status)s)."
        ) % {"status": idea.get_status_display()}
    if not own:
        return _("We already received this idea from you.")
    if idea.status == Idea.Status.HIDDEN:
        return _("We already received this idea from you, and the shop has looked at it.")
    return _("We already received this idea from you: it is waiting for review.")


class IdeaSentBefore(Refused):
    """This address sent this idea before: refused kindly, saying where it is. `idea` is the one
    sent before only when the request proved it is the sender's own (None otherwise)."""

    status = 409

    def __init__(self, idea: Idea, *, own: bool) -> None:
        super().__init__(_already_received(idea, own=own), "duplicate", field="title")
        self.idea = idea if own else None


def idea_sent_before(*, popup: PopUp, email: str, title: str) -> Idea | None:
    """The author's earlier idea in this pop-up with the same or nearly the same words, if any."""
    earlier = Idea.objects.filter(popup=popup, email__iexact=email).order_by("pk")
    return next((idea for idea in earlier if texts_near_same(idea.title, title)), None)


def idea_post(
    *,
    popup: PopUp,
    title: str,
    email: str,
    client_ip: str,
    body: str = "",
    name: str = "",
    receipts: list[str] | None = None,
) -> Idea:
    """Add an idea to the box, with its author's vote. Raises Refused naming the `field` to correct,
    IdeaSentBefore when the address sent the same or nearly the same words before (nothing is
    stored twice, even for two at once), with that idea only if it is among `receipts` (those the
    sender's device kept). Every attempt counts towards the rate limit, a refused one too, so the
    duplicate check cannot be used to probe which address sent what."""
    title, body, name = (title or "").strip(), (body or "").strip(), (name or "").strip()
    if not title:
        raise Refused(_("Please name your idea."), code="title", field="title")
    if len(title) > MAX_TITLE or len(body) > MAX_BODY or len(name) > MAX_NAME:
        raise Refused(
            _("Please keep it short: %(title)d characters for the idea, %(body)d for details.")
            % {"title": MAX_TITLE, "body": MAX_BODY},
            code="length",
            field="body" if len(body) > MAX_BODY else "title",
        )
    email = _email(email)
    if over_limit(f"popup-ideas:ip:{ip_key(client_ip)}", IDEAS_PER_IP):
        raise Refused(
            _("Too many ideas from here. Please try again in an hour."),
            code="rate_limited",
            status=429,
        )
    spam = looks_like_spam(f"{title} {body}") or link_count(title) > 0
    with transaction.atomic():
        _author_locked(popup, email)  # a double tap: the second waits, then finds the first
        if (earlier := idea_sent_before(popup=popup, email=email, title=title)) is not None:
            own = earlier.pk in receipts_read(kind="idea", receipts=receipts)
            raise IdeaSentBefore(earlier, own=own)
        idea = Idea.objects.create(
            popup=popup,
            title=title,
            body=body,
            name=name,
            email=email,
            status=Idea.Status.SPAM if spam else Idea.Status.OPEN,
            votes=1,
        )
        IdeaVote.objects.create(idea=idea, email=email)
        if not spam:
            idea_updates_ask(email=email, popup=popup, wording=_voter_wording())
    return idea


def idea_vote(*, idea: Idea, email: str, client_ip: str) -> tuple[Idea, bool]:
    """Count one vote for the idea from `email`, once; returns the idea and whether it counted."""
    email = _email(email)
    if idea.status not in VOTABLE:
        raise Refused(_("Voting on this idea is closed."), code="closed", status=409)
    if over_limit(f"popup-idea-votes:ip:{ip_key(client_ip)}", VOTES_PER_IP):
        raise Refused(
            _("Too many votes from here. Please try again in an hour."),
            code="rate_limited",
            status=429,
        )
    try:
        with transaction.atomic():
            IdeaVote.objects.create(idea=idea, email=email)
            Idea.objects.filter(pk=idea.pk).update(votes=F("votes") + 1)
    except IntegrityError:
        counted = False  # this address has voted already
    else:
        counted = True
        idea_updates_ask(email=email, popup=idea.popup, wording=_voter_wording())
    idea.refresh_from_db(fields=["votes"])
    return idea, counted


def idea_status_set(*, idea: Idea, status: str) -> Idea:
    """Move the idea to `status`; the first time it is done, its voters are e-mailed (once)."""
    if status not in Idea.Status.values:
        raise ValidationError(_("Unknown status."))
    with transaction.atomic():
        idea = Idea.objects.select_for_update().get(pk=idea.pk)
        idea.status = status
        shipped_now = status == Idea.Status.DONE and idea.shipped_at is None
        if shipped_now:
            idea.shipped_at = timezone.now()
        idea.save(update_fields=["status", "shipped_at"])
        if shipped_now:
            task_queue_on_commit(idea_shipped_email_send, idea.pk)
    return idea
