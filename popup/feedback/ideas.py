"""The pop-up's idea box: shoppers suggest what to make next and vote (one vote per e-mail address);
the merchant sets each idea's status, and when one ships, everyone who voted for it is told.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from popup.feedback.shopper_input import (
    Refused,
    email_or_none,
    link_count,
    looks_like_spam,
    over_limit,
)
from popup.models import Idea, IdeaVote, PopUp
from popup.notifications.tasks import idea_shipped_email_send
from popup.queueing import task_queue_on_commit

IDEAS_PER_IP = 5
VOTES_PER_IP = 30
MAX_TITLE = 120
MAX_BODY = 1000
MAX_NAME = 60
VOTABLE = (Idea.Status.OPEN, Idea.Status.UNDER_REVIEW, Idea.Status.PLANNED)


def _email(value: str) -> str:
    email = email_or_none(value)
    if email is None:
        raise Refused(_("Please enter a valid e-mail address."), code="email")
    return email


def idea_post(
    *, popup: PopUp, title: str, email: str, client_ip: str, body: str = "", name: str = ""
) -> Idea:
    """Add an idea to the box, with its author's vote. Raises Refused."""
    title, body, name = (title or "").strip(), (body or "").strip(), (name or "").strip()
    if not title:
        raise Refused(_("Please name your idea."), code="title")
    if len(title) > MAX_TITLE or len(body) > MAX_BODY or len(name) > MAX_NAME:
        raise Refused(
            _("Please keep it short: %(title)d characters for the idea, %(body)d for details.")
            % {"title": MAX_TITLE, "body": MAX_BODY},
            code="length",
        )
    email = _email(email)
    if over_limit(f"popup-ideas:ip:{client_ip}", IDEAS_PER_IP):
        raise Refused(
            _("Too many ideas from here. Please try again in an hour."),
            code="rate_limited",
            status=429,
        )
    spam = looks_like_spam(f"{title} {body}") or link_count(title) > 0
    with transaction.atomic():
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
    return idea


def idea_vote(*, idea: Idea, email: str, client_ip: str) -> tuple[Idea, bool]:
    """Count one vote for the idea from `email`, once; returns the idea and whether it counted."""
    email = _email(email)
    if idea.status not in VOTABLE:
        raise Refused(_("Voting on this idea is closed."), code="closed", status=409)
    if over_limit(f"popup-idea-votes:ip:{client_ip}", VOTES_PER_IP):
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
