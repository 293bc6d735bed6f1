"""What shoppers said, as the pop-up page and the dashboard show it: questions, ideas, reviews, polls,
and how fast the merchant answers."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone
from oscar.core.loading import get_model

from popup.feedback.receipts import receipt_read, receipts_read
from popup.models import (
    Idea,
    Poll,
    PollOption,
    PollVote,
    PopUp,
    Question,
)


@dataclass(frozen=True)
class AnswerSpeed:
    """How fast the merchant answers questions, from the real answer times (median)."""

    median: timedelta | None
    answered: int

    # Fewer answers than this say nothing about a habit: no badge.
    MIN_ANSWERED = 3

    @property
    def shows_badge(self) -> bool:
        """Whether there are enough answers to tell shoppers how fast they come."""
        return self.median is not None and self.answered >= self.MIN_ANSWERED


def answer_speed(
    *,
    popup: PopUp | None = None,
    now: datetime | None = None,
    days: int = 90,
    sample: int = 200,
) -> AnswerSpeed:
    """The median answer time over the latest `sample` questions answered in the last `days`, the
    store's or one pop-up's (one query)."""
    since = (now or timezone.now()) - timedelta(days=days)
    questions = Question.objects.filter(answered_at__gte=since)
    if popup is not None:
        questions = questions.filter(popup=popup)
    answered = list(
        questions.order_by("-answered_at").values_list("created_at", "answered_at")[:sample]
    )
    if not answered:
        return AnswerSpeed(median=None, answered=0)
    times = sorted(answered_at - created_at for created_at, answered_at in answered)
    return AnswerSpeed(median=times[len(times) // 2], answered=len(times))


def popup_questions(*, popup: PopUp, limit: int = 20) -> list[Question]:
    """The pop-up's answered questions, newest first (one query)."""
    published = Question.objects.filter(popup=popup, status=Question.Status.PUBLISHED)
    return list(published.select_related("product").order_by("-answered_at")[:limit])


def popup_ideas(*, popup: PopUp, limit: int = 10) -> list[Idea]:
    """The pop-up's most-voted ideas on show, open ones first (one query)."""
    shown = Idea.objects.filter(popup=popup, status__in=Idea.SHOWN)
    return list(shown.order_by("-votes", "-created_at", "-pk")[:limit])


def popup_verified_reviews(*, popup: PopUp, limit: int = 5) -> QuerySet:
    """The latest approved reviews of the pop-up's products by people who bought them (one query)."""
    ProductReview = get_model("reviews", "ProductReview")
    return (
        ProductReview.objects.filter(
            product__popup_terms__popup=popup,
            status=ProductReview.APPROVED,
            popup_verified__isnull=False,
        )
        .select_related("product")
        .order_by("-date_created", "-pk")[:limit]
    )


def popup_polls(*, popup: PopUp, limit: int = 2) -> list[Poll]:
    """The pop-up's latest polls with their options and confirmed counts (two queries)."""
    polls = Poll.objects.filter(popup=popup).prefetch_related("options").order_by("-created_at")
    return list(polls[:limit])


@dataclass(frozen=True)
class OptionResult:
    option: PollOption
    votes: int
    percent: int  # of the poll's confirmed votes, rounded; 0 while there are none


@dataclass(frozen=True)
class PollResults:
    """A poll's confirmed votes, option by option, in the poll's order."""

    options: list[OptionResult]
    total: int


def poll_results(*, poll: Poll) -> PollResults:
    """The poll's confirmed results (no query when its options were prefetched)."""
    options = list(poll.options.all())
    total = sum(option.votes for option in options)
    return PollResults(
        options=[
            OptionResult(
                option=option,
                votes=option.votes,
                percent=round(100 * option.votes / total) if total else 0,
            )
            for option in options
        ],
        total=total,
    )


def poll_vote_by_receipt(*, poll: Poll, receipt: str) -> PollVote | None:
    """The vote in this poll that a voter's device kept the receipt of; None for any other."""
    vote_id = receipt_read(kind="poll_vote", receipt=receipt)
    if vote_id is None:
        return None
    return PollVote.objects.filter(poll=poll, pk=vote_id).first()


def ideas_by_receipts(*, popup: PopUp, receipts: list[str]) -> list[Idea]:
    """The pop-up's ideas whose receipts an author's device kept (one query)."""
    ids = receipts_read(kind="idea", receipts=receipts)
    return list(Idea.objects.filter(popup=popup, pk__in=ids).order_by("pk"))
