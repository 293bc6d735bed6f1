"""Questions and answers: shoppers ask in the pop-up, the merchant answers in the dashboard, and the
answered question is shown to everyone (the asker is e-mailed). Nothing a shopper writes is shown
before it is answered; what looks like spam is held apart for staff to look at.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from popup.feedback.shopper_input import Refused, email_or_none, ip_key, looks_like_spam, over_limit
from popup.models import Consent, PopUp, PopUpProduct, Question
from popup.notifications.tasks import question_answered_email_send
from popup.privacy.consent import consent_record
from popup.queueing import task_queue_on_commit

QUESTIONS_PER_IP = 5
QUESTIONS_PER_EMAIL = 5
MAX_QUESTION = 1000
MAX_ANSWER = 2000
MAX_NAME = 60


def question_ask(
    *,
    popup: PopUp,
    body: str,
    email: str,
    client_ip: str,
    name: str = "",
    product_id: int | None = None,
) -> Question:
    """Record a shopper's question for the merchant to answer. Raises Refused."""
    body, name, email = (body or "").strip(), (name or "").strip(), (email or "").strip()
    if not body:
        raise Refused(_("Please write your question."), code="body")
    if len(body) > MAX_QUESTION:
        raise Refused(
            _("Please keep your question under %(n)d characters.") % {"n": MAX_QUESTION},
            code="body",
        )
    if len(name) > MAX_NAME:
        raise Refused(_("Please shorten your name."), code="name")
    if email_or_none(email) is None:
        raise Refused(
            _("Please enter a valid e-mail address: the answer is sent there."), code="email"
        )
    if (
        product_id is not None
        and not PopUpProduct.objects.filter(popup=popup, product_id=product_id).exists()
    ):
        raise Refused(_("This product is not in this pop-up."), code="product", status=404)
    if over_limit(f"popup-questions:ip:{ip_key(client_ip)}", QUESTIONS_PER_IP) or over_limit(
        f"popup-questions:email:{email.lower()}", QUESTIONS_PER_EMAIL
    ):
        raise Refused(
            _("Too many questions from here. Please try again in an hour."),
            code="rate_limited",
            status=429,
        )
    status = Question.Status.SPAM if looks_like_spam(body) else Question.Status.PENDING
    with transaction.atomic():
        question = Question.objects.create(
            popup=popup, product_id=product_id, name=name, email=email, body=body, status=status
        )
        consent_record(
            email=email,
            purpose=Consent.Purpose.QUESTION,
            popup=popup,
            wording=_("E-mail (for the answer, never shown)"),
            reference=f"question:{question.pk}",
        )
    return question


def question_answer(*, question: Question, answer: str, by) -> Question:
    """Answer (or correct the answer to) a question: it is shown publicly, the asker is e-mailed once.

    The first answer's time stays the answer time, so correcting an answer never flatters the
    response-time badge.
    """
    answer = (answer or "").strip()
    if not answer:
        raise ValidationError(_("Write an answer first."))
    if len(answer) > MAX_ANSWER:
        raise ValidationError(_("Keep the answer under %(n)d characters.") % {"n": MAX_ANSWER})
    with transaction.atomic():
        question = Question.objects.select_for_update().get(pk=question.pk)
        first_answer = question.answered_at is None
        question.answer = answer
        question.answered_by = by
        question.answered_at = question.answered_at or timezone.now()
        question.status = Question.Status.PUBLISHED
        question.save()
        if first_answer:
            task_queue_on_commit(question_answered_email_send, question.pk)
    return question


def question_hide(*, question: Question) -> Question:
    """Take a question off the pop-up (or leave it out of the queue): it is kept, not deleted."""
    Question.objects.filter(pk=question.pk).update(status=Question.Status.HIDDEN)
    question.status = Question.Status.HIDDEN
    return question


def question_not_spam(*, question: Question) -> Question:
    """A question held as spam goes back to the queue of questions waiting for an answer."""
    updated = Question.objects.filter(pk=question.pk, status=Question.Status.SPAM).update(
        status=Question.Status.PENDING
    )
    if updated:
        question.status = Question.Status.PENDING
    return question
