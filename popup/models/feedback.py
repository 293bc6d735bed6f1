"""What shoppers tell a pop-up: questions, ideas and their votes, reviews, polls."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from popup.core.languages import language_now
from popup.models.core import PopUp


class Question(models.Model):
    """A shopper's public question about a pop-up (or one of its products), and the merchant's answer.

    Nothing a shopper writes is shown before staff answer it: an answer publishes the question.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for an answer")
        PUBLISHED = "published", _("Answered and shown")
        HIDDEN = "hidden", _("Hidden")
        SPAM = "spam", _("Held as spam")

    popup = models.ForeignKey(PopUp, on_delete=models.CASCADE, related_name="questions")
    product = models.ForeignKey(
        "catalogue.Product", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    name = models.CharField(_("name"), max_length=60, blank=True)
    email = models.EmailField(_("e-mail"))
    body = models.TextField(_("question"), max_length=1000)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    answer = models.TextField(_("answer"), max_length=2000, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The language its shopper was answered in when it was made: the e-mails to them speak it.
    language = models.CharField(max_length=16, blank=True, default=language_now, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("question")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="published") | models.Q(answered_at__isnull=False),
                name="question_published_is_answered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.body[:40]} ({self.get_status_display()})"

    @property
    def answer_time(self):
        return self.answered_at - self.created_at if self.answered_at else None


class Idea(models.Model):
    """A shopper's suggestion in the pop-up's idea box ("a sage-green version!"), with its votes.

    Shown at once, unless it looks like spam; the merchant sets its status, and when it ships
    everyone who voted for it is told.
    """

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("idea status", "Open")
        UNDER_REVIEW = "under_review", _("Under review")
        PLANNED = "planned", _("Planned")
        DONE = "done", _("Done")
        DECLINED = "declined", _("Declined")
        HIDDEN = "hidden", _("Hidden")
        SPAM = "spam", _("Held as spam")

    SHOWN = (Status.OPEN, Status.UNDER_REVIEW, Status.PLANNED, Status.DONE, Status.DECLINED)

    popup = models.ForeignKey(PopUp, on_delete=models.CASCADE, related_name="ideas")
    title = models.CharField(_("idea"), max_length=120)
    body = models.TextField(_("details"), max_length=1000, blank=True)
    name = models.CharField(_("name"), max_length=60, blank=True)
    email = models.EmailField(_("e-mail"))
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    # Kept in step with IdeaVote rows by F() updates, so the board sorts without counting.
    votes = models.PositiveIntegerField(default=0)
    shipped_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-votes", "-created_at", "-pk"]
        verbose_name = _("idea")

    def __str__(self) -> str:
        return self.title


class IdeaVote(models.Model):
    """One person's vote for an idea: one per e-mail address, whatever its letter case."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="idea_votes")
    email = models.EmailField()
    # The language its shopper was answered in when it was made: the e-mails to them speak it.
    language = models.CharField(max_length=16, blank=True, default=language_now, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # When this voter was told the idea shipped: each voter is told once.
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("idea", Lower("email"), name="idea_vote_once_per_email"),
        ]

    def __str__(self) -> str:
        return f"Vote for {self.idea_id}"


def new_review_token() -> str:
    return secrets.token_urlsafe(32)


class ReviewInvite(models.Model):
    """A buyer's invitation, sent some days after a pop-up order, to review what they bought.

    The token in the e-mailed link is the credential: no account is needed, and every review made
    through it is from someone who really bought the product (the "verified buyer" badge).
    """

    order = models.OneToOneField(
        "order.Order", on_delete=models.CASCADE, related_name="review_invite"
    )
    popup = models.ForeignKey(PopUp, on_delete=models.CASCADE, related_name="review_invites")
    token = models.CharField(max_length=64, unique=True, default=new_review_token, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Review invite for order {self.order_id}"


class VerifiedReview(models.Model):
    """An Oscar product review written through a ReviewInvite: by a buyer of that product."""

    invite = models.ForeignKey(ReviewInvite, on_delete=models.CASCADE, related_name="reviews")
    product = models.ForeignKey("catalogue.Product", on_delete=models.CASCADE, related_name="+")
    review = models.OneToOneField(
        "reviews.ProductReview", on_delete=models.CASCADE, related_name="popup_verified"
    )
    # Optional ratings of one aspect each, 1 to 5 stars, beside Oscar's overall score.
    quality = models.PositiveSmallIntegerField(_("quality"), null=True, blank=True)
    value = models.PositiveSmallIntegerField(_("value for money"), null=True, blank=True)
    as_described = models.PositiveSmallIntegerField(_("as described"), null=True, blank=True)

    ASPECTS = ("quality", "value", "as_described")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["invite", "product"], name="verified_review_once"),
        ]

    def __str__(self) -> str:
        return f"Verified review {self.review_id}"


class Poll(models.Model):
    """A question to the pop-up's audience ("Which colour next?"), one confirmed vote per person."""

    popup = models.ForeignKey(PopUp, on_delete=models.CASCADE, related_name="polls")
    question = models.CharField(_("question"), max_length=200)
    is_open = models.BooleanField(_("open for votes"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("poll")

    def __str__(self) -> str:
        return self.question


class PollOption(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options")
    label = models.CharField(_("option"), max_length=120)
    # Confirmed votes, kept in step by F() updates when a vote is confirmed.
    votes = models.PositiveIntegerField(default=0)
    display_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["display_order", "pk"]

    def __str__(self) -> str:
        return self.label


def new_vote_token() -> str:
    return secrets.token_urlsafe(24)


class PollVote(models.Model):
    """A vote, counted once its e-mail address is confirmed: one per person and poll."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="poll_votes")
    option = models.ForeignKey(PollOption, on_delete=models.CASCADE, related_name="poll_votes")
    email = models.EmailField()
    token = models.CharField(max_length=64, unique=True, default=new_vote_token, editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The language its shopper was answered in when it was made: the e-mails to them speak it.
    language = models.CharField(max_length=16, blank=True, default=language_now, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("poll", Lower("email"), name="poll_vote_once_per_email"),
        ]

    def __str__(self) -> str:
        return f"Vote in poll {self.poll_id}"


class AlertLanguage(models.Model):
    """The language a waitlist sign-up (Oscar's ProductAlert, which has no field for it) was made
    in: its confirmation and the pop-up's opening e-mail speak it."""

    alert = models.OneToOneField(
        "customer.ProductAlert", on_delete=models.CASCADE, related_name="popup_language"
    )
    language = models.CharField(max_length=16, default=language_now)

    def __str__(self) -> str:
        return f"{self.alert_id}: {self.language}"
