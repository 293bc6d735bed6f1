"""What the plugin holds about an e-mail address: its rows, kind by kind, and their export."""

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.apps import apps
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from oscar.core.loading import get_model

from popup.analytics.counters import RATE_PREFIX, _stored_key, redis_call
from popup.models import (
    Ambassador,
    Consent,
    Idea,
    IdeaVote,
    OutgoingEmail,
    Pledge,
    PollVote,
    PopUpBasket,
    Question,
    RateCounter,
    VerifiedReview,
)
from popup.privacy.addresses import mailbox_key, rows_of_mailbox

Order = get_model("order", "Order")
ProductAlert = get_model("customer", "ProductAlert")
ProductReview = get_model("reviews", "ProductReview")

# Rate limits counted per e-mail address (popup.feedback): "<limit>:email:<address>".
RATE_EMAIL_MARK = ":email:"


@dataclass(frozen=True)
class ShopperRows:
    """Every row of the plugin (and of Oscar, made through it) about one mailbox, kind by kind.

    Each queryset is fixed to the rows found when it was made (by primary key), so that erasing
    the addresses does not change what it names.
    """

    email: str
    addresses: frozenset[str]  # the spellings of the address found, and the one asked for
    baskets: QuerySet
    orders: QuerySet
    pledges: QuerySet
    alerts: QuerySet
    questions: QuerySet
    ideas: QuerySet
    idea_votes: QuerySet
    poll_votes: QuerySet
    reviews: QuerySet
    ambassadors: QuerySet
    consents: QuerySet
    emails: QuerySet
    rate_counters: QuerySet
    redis_keys: tuple[str, ...]
    payment_messages: QuerySet | None  # None: the Stripe integration is not installed


def _fixed(queryset: QuerySet) -> QuerySet:
    pks = list(queryset.order_by().values_list("pk", flat=True).distinct())
    return queryset.model._default_manager.filter(pk__in=pks).order_by("pk")


def _spellings(queryset: QuerySet, field: str) -> set[str]:
    return set(queryset.values_list(field, flat=True))


def _rate_key_of_mailbox(key: str, mailbox: str) -> bool:
    _limit, mark, address = key.partition(RATE_EMAIL_MARK)
    return bool(mark) and mailbox_key(address) == mailbox


def rate_counters_of(*, email: str, addresses: set[str]) -> QuerySet:
    """The database's rate-limit rows counted for an address of `email`'s mailbox."""
    mailbox = mailbox_key(email)
    candidates = RateCounter.objects.filter(key__contains=RATE_EMAIL_MARK)
    pks = [
        pk
        for pk, key in candidates.values_list("pk", "key").iterator()
        if _rate_key_of_mailbox(key, mailbox)
    ]
    # A key too long for the column is stored shortened with its hash: found by its full form.
    long_keys = [
        _stored_key(f"{limit}{RATE_EMAIL_MARK}{address.lower()}")
        for limit in ("popup-questions", "popup-waitlist")
        for address in addresses
    ]
    return RateCounter.objects.filter(Q(pk__in=pks) | Q(key__in=long_keys)).order_by("pk")


def redis_rate_keys_of(*, email: str) -> tuple[str, ...]:
    """The Redis rate-limit keys counted for an address of `email`'s mailbox (none without Redis)."""
    mailbox = mailbox_key(email)
    pattern = f"{RATE_PREFIX}:*{RATE_EMAIL_MARK}*"

    def scan(connection) -> list[str]:
        names = (
            name.decode() if isinstance(name, bytes) else name
            for name in connection.scan_iter(match=pattern, count=1000)
        )
        return [name for name in names if _rate_key_of_mailbox(name, mailbox)]

    return tuple(sorted(redis_call(scan) or ()))


def _payment_messages(*, addresses: set[str], references: set[str]) -> QuerySet | None:
    """The payment provider's stored webhook messages that name the address or its payments.

    A message names one when one of its values is that address or reference, whole: searched as
    the JSON string it is written as, quotes included, so that ada@example.com does not find
    nevada@example.com's messages (nor pi_1 those of pi_12).
    """
    if not apps.is_installed("integrations.stripe"):
        return None
    StripeEvent = apps.get_model("popup_stripe", "StripeEvent")
    needles = {needle for needle in addresses | references if needle}
    if not needles:
        return StripeEvent.objects.none()
    naming = Q()
    for needle in needles:
        # As PostgreSQL writes jsonb as text: characters as they are, `"` and `\` escaped.
        naming |= Q(payload_text__icontains=json.dumps(needle, ensure_ascii=False))
    found = StripeEvent.objects.annotate(payload_text=Cast("payload", TextField())).filter(naming)
    return _fixed(found)


def shopper_rows(*, email: str) -> ShopperRows:
    """The rows about `email`'s mailbox (every spelling of it that reaches that mailbox)."""
    email = email.strip()
    baskets = _fixed(rows_of_mailbox(PopUpBasket.objects.all(), field="email", email=email))
    pledges = _fixed(rows_of_mailbox(Pledge.objects.all(), field="email", email=email))
    through_popups = Q(popup_basket__isnull=False) | Q(pledge__isnull=False)
    by_address = rows_of_mailbox(
        Order.objects.filter(through_popups), field="guest_email", email=email
    )
    orders = _fixed(
        Order.objects.filter(
            Q(pk__in=by_address.values("pk"))
            | Q(popup_basket__in=baskets.values("pk"))
            | Q(pledge__in=pledges.values("pk"))
        )
    )
    # Sign-ups made through a pop-up (with their language beside them), or for one's products.
    waitlists = ProductAlert.objects.filter(
        Q(popup_language__isnull=False) | Q(product__popup_terms__isnull=False), user__isnull=True
    )
    alerts = _fixed(rows_of_mailbox(waitlists, field="email", email=email))
    questions = _fixed(rows_of_mailbox(Question.objects.all(), field="email", email=email))
    ideas = _fixed(rows_of_mailbox(Idea.objects.all(), field="email", email=email))
    idea_votes = _fixed(rows_of_mailbox(IdeaVote.objects.all(), field="email", email=email))
    poll_votes = _fixed(rows_of_mailbox(PollVote.objects.all(), field="email", email=email))
    verified = ProductReview.objects.filter(popup_verified__isnull=False)
    reviews = _fixed(
        ProductReview.objects.filter(
            Q(popup_verified__invite__order__in=orders.values("pk"))
            | Q(pk__in=rows_of_mailbox(verified, field="email", email=email).values("pk"))
        )
    )
    ambassadors = _fixed(rows_of_mailbox(Ambassador.objects.all(), field="email", email=email))
    consents = _fixed(rows_of_mailbox(Consent.objects.all(), field="email", email=email))
    emails = _fixed(rows_of_mailbox(OutgoingEmail.objects.all(), field="to", email=email))

    addresses = {email}
    for rows, field in (
        (baskets, "email"),
        (pledges, "email"),
        (orders, "guest_email"),
        (alerts, "email"),
        (questions, "email"),
        (ideas, "email"),
        (idea_votes, "email"),
        (poll_votes, "email"),
        (ambassadors, "email"),
        (consents, "email"),
        (emails, "to"),
    ):
        addresses |= _spellings(rows, field)
    references = set()
    for values in (
        baskets.values_list("payment_intent_id", flat=True),
        pledges.values_list("payment_intent_id", "setup_intent_id", "stripe_customer_id"),
        orders.values_list("sources__reference", flat=True),
    ):
        for value in values:
            references |= set(value) if isinstance(value, tuple) else {value}
    return ShopperRows(
        email=email,
        addresses=frozenset(address for address in addresses if address),
        baskets=baskets,
        orders=orders,
        pledges=pledges,
        alerts=alerts,
        questions=questions,
        ideas=ideas,
        idea_votes=idea_votes,
        poll_votes=poll_votes,
        reviews=reviews,
        ambassadors=ambassadors,
        consents=consents,
        emails=emails,
        rate_counters=rate_counters_of(email=email, addresses=addresses),
        redis_keys=redis_rate_keys_of(email=email),
        payment_messages=_payment_messages(
            addresses=addresses, references={ref for ref in references if ref}
        ),
    )


# The export ----------------------------------------------------------------------------------


def _plain(value):
    """`value` as JSON can carry it: dates in ISO 8601, amounts as exact strings."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _popup(popup) -> dict:
    return {"title": popup.title, "slug": popup.slug}


def _address(address) -> dict | None:
    if address is None:
        return None
    return {
        "title": address.title,
        "first_name": address.first_name,
        "last_name": address.last_name,
        "line1": address.line1,
        "line2": address.line2,
        "line3": address.line3,
        "city": address.line4,
        "state": address.state,
        "postcode": address.postcode,
        "country": address.country_id,
        "phone_number": str(address.phone_number or ""),
        "notes": address.notes,
    }


def _basket(basket: PopUpBasket) -> dict:
    return {
        "popup": _popup(basket.popup),
        "created_at": basket.created_at,
        "status": basket.status,
        "email": basket.email,
        "shipping": basket.shipping,
        "language": basket.language,
        "checkout_started_at": basket.checkout_at,
        "came_from": basket.source,
        "campaign": basket.utm,
        "ad_click": basket.ad_click,
        "return_url": basket.return_url,
        "payment_reference": basket.payment_intent_id,
        "order": basket.order.number if basket.order_id else None,
        "units_held": [
            {
                "product": hold.terms.product.get_title(),
                "quantity": hold.quantity,
                "until": hold.reserved_until,
            }
            for hold in basket.holds.select_related("terms__product").order_by("pk")
        ],
    }


def _order(order) -> dict:
    source = getattr(order, "pledge", None) or getattr(order, "popup_basket", None)
    return {
        "number": order.number,
        "placed_at": order.date_placed,
        "popup": _popup(source.popup) if source is not None else None,
        "email": order.guest_email,
        "status": order.status,
        "currency": order.currency,
        "total_incl_tax": order.total_incl_tax,
        "total_excl_tax": order.total_excl_tax,
        "shipping_incl_tax": order.shipping_incl_tax,
        "lines": [
            {
                "product": line.title,
                "upc": line.upc or "",
                "quantity": line.quantity,
                "unit_price_incl_tax": line.unit_price_incl_tax,
                "line_price_incl_tax": line.line_price_incl_tax,
            }
            for line in order.lines.order_by("pk")
        ],
        "shipping_address": _address(order.shipping_address),
        "notes": [
            {"at": note.date_created, "message": note.message}
            for note in order.notes.order_by("pk")
        ],
        "payment_references": sorted(order.sources.values_list("reference", flat=True)),
    }


def _pledge(pledge: Pledge) -> dict:
    return {
        "popup": _popup(pledge.popup),
        "created_at": pledge.created_at,
        "status": pledge.status,
        "email": pledge.email,
        "language": pledge.language,
        "shipping": pledge.shipping,
        "currency": pledge.currency,
        "amount": pledge.amount,
        "shipping_charge": pledge.shipping_charge,
        "card": pledge.card_label,
        "lines": [
            {
                "product": line.terms.product.get_title(),
                "quantity": line.quantity,
                "unit_price": line.unit_price,
            }
            for line in pledge.lines.select_related("terms__product")
        ],
        "history": [
            {
                "at": event.created_at,
                "from": event.status_from,
                "to": event.status_to,
                "note": event.note_text,
            }
            for event in pledge.events.all()
        ],
        "order": pledge.order.number if pledge.order_id else None,
        "payment_references": {
            "customer": pledge.stripe_customer_id,
            "card_setup": pledge.setup_intent_id,
            "payment": pledge.payment_intent_id,
        },
    }


def _alert(alert) -> dict:
    language = getattr(alert, "popup_language", None)
    popups = alert.product.popup_terms.select_related("popup").order_by("popup__opens_at")
    return {
        "product": alert.product.get_title(),
        "popups": [_popup(terms.popup) for terms in popups],
        "email": alert.email,
        "status": alert.status,
        "signed_up_at": alert.date_created,
        "confirmed_at": alert.date_confirmed,
        "cancelled_at": alert.date_cancelled,
        "closed_at": alert.date_closed,
        "language": language.language if language is not None else "",
    }


def _question(question: Question) -> dict:
    return {
        "popup": _popup(question.popup),
        "product": question.product.get_title() if question.product_id else None,
        "asked_at": question.created_at,
        "name": question.name,
        "email": question.email,
        "question": question.body,
        "status": question.status,
        "answer": question.answer,
        "answered_at": question.answered_at,
        "language": question.language,
    }


def _idea(idea: Idea) -> dict:
    return {
        "popup": _popup(idea.popup),
        "created_at": idea.created_at,
        "name": idea.name,
        "email": idea.email,
        "idea": idea.title,
        "details": idea.body,
        "status": idea.status,
        "votes": idea.votes,
    }


def _idea_vote(vote: IdeaVote) -> dict:
    return {
        "popup": _popup(vote.idea.popup),
        "idea": vote.idea.title,
        "email": vote.email,
        "voted_at": vote.created_at,
        "language": vote.language,
        "told_it_shipped_at": vote.notified_at,
    }


def _poll_vote(vote: PollVote) -> dict:
    return {
        "popup": _popup(vote.poll.popup),
        "poll": vote.poll.question,
        "choice": vote.option.label,
        "email": vote.email,
        "voted_at": vote.created_at,
        "confirmed_at": vote.confirmed_at,
        "language": vote.language,
    }


def _review(review) -> dict:
    verified = VerifiedReview.objects.filter(review=review).select_related("invite__order").first()
    return {
        "product": review.product.get_title() if review.product_id else None,
        "order": verified.invite.order.number if verified else None,
        "written_at": review.date_created,
        "name": review.name,
        "email": review.email,
        "title": review.title,
        "body": review.body,
        "score": review.score,
        "status": review.status,
        "aspects": {aspect: getattr(verified, aspect) for aspect in VerifiedReview.ASPECTS}
        if verified
        else {},
    }


def _ambassador(ambassador: Ambassador) -> dict:
    return {
        "name": ambassador.name,
        "email": ambassador.email,
        "kind": ambassador.kind,
        "code": ambassador.code,
        "discount_percent": ambassador.discount_percent,
        "commission_percent": ambassador.commission_percent,
        "active": ambassador.is_active,
        "invited_at": ambassador.invited_at,
        "created_at": ambassador.created_at,
        "commissions": [
            {
                "order": commission.order.number,
                "amount": commission.amount,
                "refunded": commission.refunded,
                "currency": commission.currency,
                "paid_at": commission.paid_at,
            }
            for commission in ambassador.commissions.select_related("order").order_by("pk")
        ],
    }


def _consent(consent: Consent) -> dict:
    return {
        "purpose": consent.purpose,
        "basis": consent.basis,
        "popup": _popup(consent.popup) if consent.popup_id else None,
        "email": consent.email,
        "wording": consent.wording,
        "language": consent.language,
        "given_at": consent.asked_at,
        "confirmed_at": consent.confirmed_at,
        "withdrawn_at": consent.withdrawn_at,
    }


def _email(email: OutgoingEmail) -> dict:
    return {
        "message": email.code,
        "to": email.to,
        "language": email.language,
        "created_at": email.created_at,
        "sent_at": email.sent_at,
    }


def _rate_counter(counter: RateCounter) -> dict:
    return {"counter": counter.key, "window_start": counter.window_start, "count": counter.count}


def _payment_message(event) -> dict:
    return {"id": event.stripe_id, "type": event.type, "received_at": event.received_at}


def personal_data_export(*, email: str) -> dict:
    """Everything the plugin holds about `email`'s mailbox, grouped by kind, as JSON-ready data;
    every list is empty for an address it knows nothing about (or has erased)."""
    rows = shopper_rows(email=email)
    data = {
        "baskets": [_basket(basket) for basket in rows.baskets.select_related("popup", "order")],
        "orders": [
            _order(order)
            for order in rows.orders.select_related(
                "shipping_address", "pledge__popup", "popup_basket__popup"
            )
        ],
        "pledges": [_pledge(pledge) for pledge in rows.pledges.select_related("popup", "order")],
        "waitlists": [
            _alert(alert) for alert in rows.alerts.select_related("product", "popup_language")
        ],
        "questions": [
            _question(question) for question in rows.questions.select_related("popup", "product")
        ],
        "ideas": [_idea(idea) for idea in rows.ideas.select_related("popup")],
        "idea_votes": [_idea_vote(vote) for vote in rows.idea_votes.select_related("idea__popup")],
        "poll_votes": [
            _poll_vote(vote) for vote in rows.poll_votes.select_related("poll__popup", "option")
        ],
        "reviews": [_review(review) for review in rows.reviews.select_related("product")],
        "ambassador": [_ambassador(ambassador) for ambassador in rows.ambassadors],
        "consents": [_consent(consent) for consent in rows.consents.select_related("popup")],
        "emails_sent": [_email(email) for email in rows.emails],
        "rate_limits": [_rate_counter(counter) for counter in rows.rate_counters]
        + [{"counter": key.removeprefix(f"{RATE_PREFIX}:")} for key in rows.redis_keys],
        "payment_messages": [_payment_message(event) for event in rows.payment_messages or ()],
    }
    return _plain({"email": rows.email, "exported_at": timezone.now(), "data": data})
