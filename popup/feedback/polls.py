"""Pop-up polls: one vote per person, counted once the voter confirms their e-mail address (so a
script cannot stuff the ballot with made-up addresses). Counts are F() updates, exact under load.
"""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from popup.feedback.shopper_input import Refused, email_or_none, ip_key, over_limit
from popup.models import Consent, Poll, PollOption, PollVote
from popup.notifications.tasks import poll_vote_confirmation_send
from popup.privacy.consent import consent_confirm_for, consent_record
from popup.queueing import task_queue_on_commit

VOTES_PER_IP = 30


def poll_vote(*, poll: Poll, option_id: int, email: str, client_ip: str) -> PollVote:
    """Record a vote waiting for its address to be confirmed (a link is e-mailed). Raises Refused."""
    email = email_or_none(email)
    if email is None:
        raise Refused(
            _("Please enter a valid e-mail address, like name@example.com."),
            code="email",
            field="email",
        )
    if not poll.is_open:
        raise Refused(_("This poll is closed."), code="closed", status=409)
    option = PollOption.objects.filter(poll=poll, pk=option_id).first()
    if option is None:
        raise Refused(_("No such choice in this poll."), code="option", status=404, field="option")
    if over_limit(f"popup-poll-votes:ip:{ip_key(client_ip)}", VOTES_PER_IP):
        raise Refused(
            _("Too many votes from here. Please try again in an hour."),
            code="rate_limited",
            status=429,
        )
    try:
        with transaction.atomic():
            vote = PollVote.objects.create(poll=poll, option=option, email=email)
            consent_record(
                email=email,
                purpose=Consent.Purpose.POLL_VOTE,
                popup=poll.popup,
                wording=_("Your e-mail (to confirm your vote, one per person)"),
                reference=f"pollvote:{vote.pk}",
            )
    except IntegrityError as error:
        raise Refused(
            _(
                "This address has already voted in this poll (one vote each). If it is yours "
                "and you have not confirmed that vote yet, the link is in the e-mail we sent."
            ),
            code="voted",
            status=409,
            field="email",
        ) from error
    task_queue_on_commit(poll_vote_confirmation_send, vote.pk)
    return vote


def poll_vote_confirm(*, token: str) -> PollVote | None:
    """Count the vote whose confirmation link this is, once; None for an unknown link."""
    with transaction.atomic():
        vote = PollVote.objects.select_for_update().filter(token=token).first()
        if vote is None or vote.confirmed_at is not None:
            return vote
        vote.confirmed_at = timezone.now()
        vote.save(update_fields=["confirmed_at"])
        consent_confirm_for(reference=f"pollvote:{vote.pk}")
        PollOption.objects.filter(pk=vote.option_id).update(votes=F("votes") + 1)
    return vote


def poll_create(*, popup, question: str, options: list[str]) -> Poll:
    """A new open poll in the pop-up with these choices, in this order."""
    with transaction.atomic():
        poll = Poll.objects.create(popup=popup, question=question)
        PollOption.objects.bulk_create(
            PollOption(poll=poll, label=label, display_order=number)
            for number, label in enumerate(options)
        )
    return poll
