"""Between Stripe and Oscar: payments recorded on Oscar orders, Stripe errors turned into Oscar's.

As in django-oscar-paypal's facade: client.py talks to Stripe, this module records what happened with
Oscar's own models (a payment Source of type "Stripe" whose reference is the PaymentIntent id, its
Transactions, and PaymentEvents "Authorised" / "Paid" / "Refunded" with the order's lines), and raises
Oscar's UnableToTakePayment (message for the shopper) or PaymentError (for staff and logs).

The checkout's order of work: payment_authorise (card authorised, nothing charged), then, once the
units are secured and the order placed, payment_record_authorisation and payment_capture; if the units
were lost, payment_authorisation_cancel. Every function may be called again with the same arguments.
"""

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from oscar.core.loading import get_class, get_model

from integrations.stripe import client
from integrations.stripe.client import (
    CardDeclined,
    PaymentIntent,
    PaymentProviderError,
    SetupIntent,
)
from popup.payments import (
    AUTHORISED,
    DISPUTE_LOST,
    DISPUTE_OPENED,
    DISPUTE_WON,
    PAID,
    REFUNDED,
    PaymentNotConfirmed,
)

Source = get_model("payment", "Source")
SourceType = get_model("payment", "SourceType")
Transaction = get_model("payment", "Transaction")
PaymentEvent = get_model("order", "PaymentEvent")
PaymentEventType = get_model("order", "PaymentEventType")
UnableToTakePayment = get_class("payment.exceptions", "UnableToTakePayment")
PaymentError = get_class("payment.exceptions", "PaymentError")
EventHandler = get_class("order.processing", "EventHandler")

logger = logging.getLogger(__name__)

SOURCE_TYPE_NAME = "Stripe"
CAPTURE_FAILED = "capture failed"

# Stripe counts these currencies in whole units, all others in hundredths.
ZERO_DECIMAL_CURRENCIES = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)

# What the shopper reads, in English here (the msgids), said in their language where it is shown.
AUTHENTICATION_REQUIRED_MESSAGE = gettext_noop(
    "Your bank wants you to confirm this payment yourself: nothing was charged yet."
)
AUTHENTICATION_FAILED_MESSAGE = gettext_noop(
    "Your bank could not confirm this payment. Nothing was charged: try again, or use another card."
)
DECLINED_MESSAGE = gettext_noop("Your card was declined.")
# Stripe's decline codes a shopper can act on, in our words (Stripe's own message is English only):
# the reason alone, as the page or e-mail showing it says what it means and what to do next.
# Lost, stolen or suspected cards get the plain decline, as Stripe advises.
DECLINE_MESSAGES = {
    "insufficient_funds": gettext_noop("Your card has insufficient funds."),
    "expired_card": gettext_noop("Your card has expired."),
    "incorrect_cvc": gettext_noop("Your card's security code is incorrect."),
    "invalid_cvc": gettext_noop("Your card's security code is incorrect."),
    "incorrect_number": gettext_noop("Your card number is incorrect."),
    "invalid_number": gettext_noop("Your card number is incorrect."),
    "invalid_expiry_month": gettext_noop("Your card's expiry date is incorrect."),
    "invalid_expiry_year": gettext_noop("Your card's expiry date is incorrect."),
    "card_not_supported": gettext_noop("Your card does not support this kind of purchase."),
    "currency_not_supported": gettext_noop("Your card does not support this currency."),
    "card_velocity_exceeded": gettext_noop("Your card has reached its spending limit."),
    "withdrawal_count_limit_exceeded": gettext_noop("Your card has reached its spending limit."),
    "processing_error": gettext_noop("Your card could not be processed."),
    "issuer_not_available": gettext_noop("Your bank could not be reached."),
    "try_again_later": gettext_noop("Your bank could not be reached."),
    "reenter_transaction": gettext_noop("Your bank could not be reached."),
}


def decline_message(code: str) -> str:
    """What a shopper reads when Stripe declines their card with `code`, in the active language."""
    return _(DECLINE_MESSAGES.get(code, DECLINED_MESSAGE))


def amount_to_minor(*, amount: Decimal, currency: str) -> int:
    """An Oscar amount in Stripe's minor units (cents; whole units for zero-decimal currencies)."""
    exponent = 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2
    return int((Decimal(amount) * 10**exponent).to_integral_value())


def amount_from_minor(*, amount: int, currency: str) -> Decimal:
    """Stripe's minor units as an Oscar amount."""
    if currency.upper() in ZERO_DECIMAL_CURRENCIES:
        return Decimal(amount).quantize(Decimal("0.01"))
    return (Decimal(amount) / 100).quantize(Decimal("0.01"))


def _refusal(intent: PaymentIntent) -> UnableToTakePayment:
    """The failed PaymentIntent as the exception the checkout tells its shopper."""
    if intent.last_payment_error_code == "payment_intent_authentication_failure":
        return PaymentNotConfirmed(_shopper_failure(intent))
    return UnableToTakePayment(_shopper_failure(intent))


def _shopper_failure(intent: PaymentIntent) -> str:
    if intent.last_payment_error_code == "payment_intent_authentication_failure":
        return _(AUTHENTICATION_FAILED_MESSAGE)
    return decline_message(intent.last_payment_error_code)


def payment_failure(intent: PaymentIntent) -> tuple[str, str]:
    """(code, message for the customer in the active language) of a charge that did not go through."""
    if intent.needs_authentication or intent.last_payment_error_code == "authentication_required":
        return "authentication_required", _(AUTHENTICATION_REQUIRED_MESSAGE)
    return intent.last_payment_error_code or "declined", _shopper_failure(intent)


def card_save_start(
    *, idempotency_key: str, email: str = "", customer: str = "", metadata: dict[str, str]
) -> SetupIntent:
    """A SetupIntent (usage off_session) for Stripe.js confirmCardSetup: the card is saved, not charged.

    Without `customer`, a Stripe customer is created for `email` first. Raises PaymentError.
    """
    try:
        if not customer:
            customer = client.customer_create(
                idempotency_key=f"{idempotency_key}:customer", email=email, metadata=metadata
            ).id
        return client.setup_intent_create(
            customer=customer, idempotency_key=f"{idempotency_key}:setup", metadata=metadata
        )
    except PaymentProviderError as error:
        raise PaymentError(error.message) from error


def card_saved(*, setup_intent_id: str) -> SetupIntent:
    """The SetupIntent as Stripe has it: what the browser reports is never trusted. Raises PaymentError."""
    try:
        return client.setup_intent_retrieve(setup_intent_id=setup_intent_id)
    except PaymentProviderError as error:
        raise PaymentError(error.message) from error


def card_label(*, payment_method_id: str) -> str:
    try:
        return client.card_label(payment_method_id=payment_method_id)
    except PaymentProviderError:
        return ""


def payment_charge_create(
    *,
    amount: Decimal,
    currency: str,
    customer: str,
    payment_method: str,
    idempotency_key: str,
    metadata: dict[str, str],
) -> PaymentIntent:
    """A PaymentIntent for a saved card, not yet confirmed: creating it charges nothing.

    Charging in two steps lets the caller save the PaymentIntent's id before the money moves, so a
    process that dies in between leaves a trace to finish from. Raises PaymentError.
    """
    try:
        return client.payment_intent_create(
            amount=amount_to_minor(amount=amount, currency=currency),
            currency=currency,
            customer=customer,
            payment_method=payment_method,
            capture_method="automatic",
            confirm=False,
            idempotency_key=idempotency_key,
            metadata=metadata,
        )
    except PaymentProviderError as error:
        raise PaymentError(error.message) from error


def payment_charge_confirm(*, payment_intent_id: str, off_session: bool) -> PaymentIntent:
    """Charge the card of a PaymentIntent made by payment_charge_create; a decline is not an error.

    Returns the PaymentIntent as Stripe has it afterwards: paid, needing the customer's bank
    (requires_action), or failed with last_payment_error. Raises PaymentError when Stripe cannot be
    reached: the caller must then ask Stripe again later rather than assume either way.
    """
    try:
        try:
            return client.payment_intent_confirm(
                payment_intent_id=payment_intent_id,
                idempotency_key=f"{payment_intent_id}:confirm",
                off_session=off_session,
            )
        except CardDeclined as declined:
            intent = client.payment_intent_retrieve(payment_intent_id=payment_intent_id)
            if intent.is_paid or intent.last_payment_error_code:
                return intent
            return replace(
                intent,
                last_payment_error_code=declined.decline_code or declined.code or "declined",
                last_payment_error_message=declined.message,
            )
    except PaymentProviderError as error:
        raise PaymentError(error.message) from error


def payment_charge_status(*, payment_intent_id: str) -> PaymentIntent:
    """The PaymentIntent as Stripe has it now. Raises PaymentError."""
    try:
        return client.payment_intent_retrieve(payment_intent_id=payment_intent_id)
    except PaymentProviderError as error:
        raise PaymentError(error.message) from error


def payment_charge_abandon(*, payment_intent_id: str) -> PaymentIntent:
    """Cancel a charge that waits for its customer (3-D Secure nobody will pass), unless it went through.

    Returns the PaymentIntent as it ends: canceled, or paid if the customer got there first.
    Raises PaymentError.
    """
    try:
        intent = client.payment_intent_retrieve(payment_intent_id=payment_intent_id)
        if intent.status in ("succeeded", "canceled", "processing"):
            return intent
        try:
            return client.payment_intent_cancel(
                payment_intent_id=payment_intent_id, idempotency_key=f"{payment_intent_id}:cancel"
            )
        except PaymentProviderError:
            return client.payment_intent_retrieve(payment_intent_id=payment_intent_id)
    except PaymentProviderError as error:
        raise PaymentError(error.message) from error


def payment_authorise(
    *,
    amount: Decimal,
    currency: str,
    idempotency_key: str,
    card_token: str = "",
    payment_method: str = "",
    customer: str = "",
    email: str = "",
    description: str = "",
    metadata: dict[str, str] | None = None,
) -> PaymentIntent:
    """Authorise `amount` on the card without charging it; the result is authorised or needs 3-D Secure.

    Raises UnableToTakePayment with a message for the shopper when the card is declined, and
    PaymentError when Stripe cannot be used. `idempotency_key` must name this attempt (a new card
    token is a new attempt), e.g. f"basket-{basket.id}-{card_token}".
    """
    try:
        intent = client.payment_intent_create(
            amount=amount_to_minor(amount=amount, currency=currency),
            currency=currency,
            idempotency_key=idempotency_key,
            card_token=card_token,
            payment_method=payment_method,
            customer=customer,
            capture_method="manual",
            confirm=True,
            metadata=metadata,
            description=description,
            receipt_email=email,
        )
    except CardDeclined as error:
        raise UnableToTakePayment(decline_message(error.decline_code or error.code)) from error
    except PaymentProviderError as error:
        raise PaymentError(error.message) from error
    if intent.has_failed:
        raise _refusal(intent)
    return intent


def payment_authorisation_check(
    *, payment_intent_id: str, amount: Decimal, currency: str
) -> PaymentIntent:
    """The PaymentIntent, read from Stripe, if it authorises exactly `amount` `currency`.

    What the browser reports after 3-D Secure is never trusted: this asks Stripe. Raises
    UnableToTakePayment when authentication failed or the card was declined, PaymentError when the
    PaymentIntent is for another amount or is in any other state.
    """
    try:
        intent = client.payment_intent_retrieve(payment_intent_id=payment_intent_id)
    except PaymentProviderError as error:
        raise PaymentError(error.message) from error
    if intent.has_failed:
        raise _refusal(intent)
    if intent.amount != amount_to_minor(amount=amount, currency=currency) or (
        intent.currency.lower() != currency.lower()
    ):
        raise PaymentError(f"PaymentIntent {intent.id} is for {intent.amount} {intent.currency}.")
    if not intent.is_authorised:
        raise PaymentError(f"PaymentIntent {intent.id} is {intent.status}, not authorised.")
    return intent


def payment_authorisation_cancel(*, payment_intent_id: str) -> PaymentIntent:
    """Release an authorisation that will not be captured: the shopper is not charged."""
    try:
        intent = client.payment_intent_retrieve(payment_intent_id=payment_intent_id)
        if intent.status == "canceled":
            return intent
        return client.payment_intent_cancel(
            payment_intent_id=payment_intent_id, idempotency_key=f"{payment_intent_id}:cancel"
        )
    except PaymentProviderError as error:
        raise PaymentError(error.message) from error


def payments_since(*, created_after: datetime) -> Iterator[PaymentIntent]:
    """The store's PaymentIntents created since `created_after`, as Stripe has them now."""
    try:
        yield from client.payment_intents_since(created_after=int(created_after.timestamp()))
    except PaymentProviderError as error:
        raise PaymentError(error.message) from error


def card_setups_since(*, created_after: datetime) -> Iterator[SetupIntent]:
    """The store's SetupIntents created since `created_after`, as Stripe has them now."""
    try:
        yield from client.setup_intents_since(created_after=int(created_after.timestamp()))
    except PaymentProviderError as error:
        raise PaymentError(error.message) from error


def _source_type():
    source_type, _ = SourceType.objects.get_or_create(name=SOURCE_TYPE_NAME)
    return source_type


def _event_type(name: str):
    event_type, _ = PaymentEventType.objects.get_or_create(name=name)
    return event_type


def _all_lines(order) -> tuple[list, list[int]]:
    lines = list(order.lines.all())
    return lines, [line.quantity for line in lines]


def _locked_source(*, order, payment_intent_id: str = ""):
    sources = Source.objects.select_for_update().filter(
        order=order, source_type__name=SOURCE_TYPE_NAME
    )
    if payment_intent_id:
        sources = sources.filter(reference=payment_intent_id)
    source = sources.order_by("pk").first()
    if source is None:
        raise PaymentError(f"Order {order.number} has no Stripe payment recorded.")
    return source


def _record(order, payment_intent: PaymentIntent, *, paid: bool):
    """The PaymentIntent's Stripe Source on `order`, with its transactions and event, recorded once."""
    amount = amount_from_minor(amount=payment_intent.amount, currency=payment_intent.currency)
    done_when = Transaction.DEBIT if paid else Transaction.AUTHORISE
    with transaction.atomic():
        source, _ = Source.objects.select_for_update().get_or_create(
            order=order,
            source_type=_source_type(),
            reference=payment_intent.id,
            defaults={"currency": payment_intent.currency.upper(), "label": "Card (Stripe)"},
        )
        if not source.transactions.filter(txn_type=done_when).exists():
            source.allocate(amount, reference=payment_intent.id, status=payment_intent.status)
            if paid:
                source.debit(amount, reference=payment_intent.id, status=payment_intent.status)
            lines, quantities = _all_lines(order)
            EventHandler().create_payment_event(
                order,
                _event_type(PAID if paid else AUTHORISED),
                amount,
                lines,
                quantities,
                reference=payment_intent.id,
            )
    return source


def payment_record_authorisation(*, order, payment_intent: PaymentIntent):
    """Record an authorised PaymentIntent on `order`: its Stripe Source, Authorise transaction and event."""
    return _record(order, payment_intent, paid=False)


def payment_record_charge(*, order, payment_intent: PaymentIntent):
    """Record a PaymentIntent paid in one step (a saved card charged) on `order`, once."""
    return _record(order, payment_intent, paid=True)


def payment_capture(*, order, payment_intent_id: str, amount: Decimal | None = None):
    """Capture the authorised PaymentIntent of `order` and record the debit and a "Paid" event.

    Returns the Debit transaction; capturing again returns the same one. If Stripe refuses, the
    failure is recorded on the order (a failed Debit transaction and a note for staff) and
    PaymentError is raised; the order stays, unpaid.
    """
    failure = None
    with transaction.atomic():
        source = _locked_source(order=order, payment_intent_id=payment_intent_id)
        done = source.transactions.filter(txn_type=Transaction.DEBIT).exclude(status=CAPTURE_FAILED)
        if done.exists():
            return done.first()
        if amount is None:
            amount = source.amount_allocated
        try:
            intent = client.payment_intent_capture(
                payment_intent_id=payment_intent_id,
                amount_to_capture=amount_to_minor(amount=amount, currency=source.currency),
                idempotency_key=f"{payment_intent_id}:capture",
            )
        except PaymentProviderError as error:
            failure = error
            # Captured earlier, but the record of it was lost? Stripe's state is the truth.
            try:
                intent = client.payment_intent_retrieve(payment_intent_id=payment_intent_id)
            except PaymentProviderError:
                pass
            else:
                if intent.is_paid:
                    failure = None
        if failure is None:
            source.debit(amount, reference=payment_intent_id, status=intent.status)
            lines, quantities = _all_lines(order)
            EventHandler().create_payment_event(
                order, _event_type(PAID), amount, lines, quantities, reference=payment_intent_id
            )
            return source.transactions.filter(txn_type=Transaction.DEBIT).latest("pk")
        source.transactions.create(
            txn_type=Transaction.DEBIT,
            amount=amount,
            reference=payment_intent_id,
            status=CAPTURE_FAILED,
        )
        EventHandler().create_note(
            order,
            f"Stripe could not capture {amount} {source.currency} of {payment_intent_id}: "
            f"{failure.message}",
        )
    raise PaymentError(failure.message) from failure


def payment_refund(
    *,
    order,
    refund_key: str,
    amount: Decimal | None = None,
    lines: Sequence | None = None,
    line_quantities: Sequence[int] | None = None,
    user=None,
):
    """Refund `amount` (all that is left by default) through Stripe and record it on `order`.

    `refund_key` names this refund (a dashboard form carries a fresh one): a second call with the
    same key returns the first refund's PaymentEvent and refunds nothing more. Without lines, a
    refund of everything that was paid lists all the order's lines. Raises PaymentError.
    """
    with transaction.atomic():
        source = _locked_source(order=order)
        done = order.payment_events.filter(event_type__name=REFUNDED, reference=refund_key).first()
        if done is not None:
            return done
        available = source.amount_available_for_refund
        if amount is None:
            amount = available
        if not Decimal("0") < amount <= available:
            raise PaymentError(f"Only {available} {source.currency} can be refunded.")
        try:
            refund = client.refund_create(
                payment_intent_id=source.reference,
                amount=amount_to_minor(amount=amount, currency=source.currency),
                idempotency_key=f"{order.number}:refund:{refund_key}",
                metadata={"order_number": order.number, "refund_key": refund_key},
            )
        except PaymentProviderError as error:
            raise PaymentError(error.message) from error
        recorded = order.payment_events.filter(reference=f"stripe:{refund.id}").first()
        if recorded is not None:
            # Stripe replayed a refund whose answer was lost the first time, and its report was
            # recorded meanwhile (refunds_reported): once is enough.
            return recorded
        if lines is None and amount == available == source.amount_debited:
            lines, line_quantities = _all_lines(order)
        source.refund(amount, reference=refund.id, status=refund.status)
        return EventHandler(user).create_payment_event(
            order, _event_type(REFUNDED), amount, lines, line_quantities, reference=refund_key
        )


# What happens at Stripe without us: refunds made in Stripe's dashboard, and disputes. -----------


def _order_source(payment_intent_id: str):
    """The Stripe Source recording `payment_intent_id` on an order, locked; None if no order has it."""
    return (
        Source.objects.select_for_update()
        .select_related("order")
        .filter(source_type__name=SOURCE_TYPE_NAME, reference=payment_intent_id)
        .first()
    )


def refunds_reported(*, payment_intent_id: str) -> list[PaymentEvent]:
    """Record on its order each refund of the payment that Stripe has and the order does not (one
    made in Stripe's dashboard); the Refunded events recorded.

    Refunds are known by their Stripe id, whoever records one first (payment_refund, or this after
    Stripe's charge.refunded): each is recorded once. The order's Source is locked meanwhile.
    """
    events = []
    with transaction.atomic():
        source = _order_source(payment_intent_id)
        if source is None:
            return events
        known = set(
            source.transactions.filter(txn_type=Transaction.REFUND).values_list(
                "reference", flat=True
            )
        )
        try:
            refunds = client.refunds_of(payment_intent_id=payment_intent_id)
        except PaymentProviderError as error:
            raise PaymentError(error.message) from error
        order = source.order
        for refund in refunds:
            if refund.id in known or refund.status in ("failed", "canceled"):
                continue
            amount = min(
                amount_from_minor(amount=refund.amount, currency=refund.currency),
                source.amount_available_for_refund,
            )
            if amount <= 0:
                continue
            source.refund(amount, reference=refund.id, status=refund.status)
            everything = source.amount_refunded >= source.amount_debited
            lines, quantities = _all_lines(order) if everything else (None, None)
            EventHandler().create_note(
                order,
                _("%(amount)s %(currency)s refunded in Stripe's dashboard (%(refund)s).")
                % {"amount": amount, "currency": source.currency, "refund": refund.id},
            )
            events.append(
                EventHandler().create_payment_event(
                    order,
                    _event_type(REFUNDED),
                    amount,
                    lines,
                    quantities,
                    reference=f"stripe:{refund.id}",
                )
            )
    return events


@dataclass(frozen=True)
class Dispute:
    id: str
    payment_intent_id: str
    amount: Decimal
    currency: str
    reason: str
    status: str
    respond_by: datetime | None  # Stripe's evidence_details.due_by


def dispute_from(obj: dict) -> Dispute:
    """A dispute object as a webhook carries it: the PaymentIntent is named on it since API version
    2019-12-03; before that only its charge is, and Stripe is asked for the charge's PaymentIntent."""
    payment_intent_id = client.id_of(obj.get("payment_intent"))
    if not payment_intent_id and obj.get("charge"):
        try:
            payment_intent_id = client.charge_payment_intent(charge_id=client.id_of(obj["charge"]))
        except PaymentProviderError as error:
            raise PaymentError(error.message) from error
    due_by = (obj.get("evidence_details") or {}).get("due_by")
    currency = str(obj.get("currency") or "")
    return Dispute(
        id=str(obj["id"]),
        payment_intent_id=payment_intent_id,
        amount=amount_from_minor(amount=int(obj.get("amount") or 0), currency=currency),
        currency=currency.upper(),
        reason=str(obj.get("reason") or ""),
        status=str(obj.get("status") or ""),
        respond_by=datetime.fromtimestamp(due_by, tz=UTC) if due_by else None,
    )


# How each way a dispute closes reads on the order (Stripe's closed statuses).
DISPUTE_CLOSED = {
    "won": DISPUTE_WON,
    "warning_closed": DISPUTE_WON,  # an inquiry that never became a chargeback
    "prevented": DISPUTE_WON,
    "lost": DISPUTE_LOST,
}


def dispute_outcome(dispute: Dispute, *, closed: bool) -> str:
    """The payment event a dispute's report records: opened, won or lost ("" for a closed status
    Stripe has not documented, which is left to the staff)."""
    return DISPUTE_CLOSED.get(dispute.status, "") if closed else DISPUTE_OPENED


def dispute_record(*, dispute: Dispute, closed: bool):
    """Record a dispute's opening (or its outcome, once `closed`) on the order it disputes, once.

    Returns the order, or None when no order records the payment, or this was recorded already,
    or the dispute closed before its opening was reported (Stripe's events come in any order).
    """
    name = dispute_outcome(dispute, closed=closed)
    if not name:
        logger.warning("Dispute %s closed as %r: not recorded", dispute.id, dispute.status)
        return None
    with transaction.atomic():
        source = _order_source(dispute.payment_intent_id)
        if source is None:
            return None
        order = source.order
        done = {name} if closed else {DISPUTE_OPENED, DISPUTE_WON, DISPUTE_LOST}
        if order.payment_events.filter(event_type__name__in=done, reference=dispute.id).exists():
            return None
        lines, quantities = _all_lines(order)
        EventHandler().create_payment_event(
            order, _event_type(name), dispute.amount, lines, quantities, reference=dispute.id
        )
        EventHandler().create_note(order, dispute_summary(dispute, name=name))
    return order


def _dispute_reason(reason: str) -> str:
    reasons = {
        "fraudulent": _("the cardholder says they did not make it"),
        "product_not_received": _("the goods did not arrive"),
        "product_unacceptable": _("the goods were not as described"),
        "duplicate": _("charged twice"),
        "credit_not_processed": _("a promised refund was not made"),
        "subscription_canceled": _("a cancelled subscription was charged"),
        "unrecognized": _("the cardholder does not recognise it"),
        "general": _("no reason given"),
    }
    return reasons.get(reason, reason.replace("_", " ") or reasons["general"])


def dispute_summary(dispute: Dispute, *, name: str) -> str:
    facts = {
        "amount": dispute.amount,
        "currency": dispute.currency,
        "dispute": dispute.id,
        "reason": _dispute_reason(dispute.reason),
    }
    if name == DISPUTE_OPENED:
        text = _(
            "The cardholder's bank disputes %(amount)s %(currency)s (%(dispute)s, reason: "
            "%(reason)s). The money is held back until the dispute is settled."
        )
        if dispute.respond_by:
            local = timezone.localtime(dispute.respond_by)
            facts["respond_by"] = f"{date_format(local, 'DATETIME_FORMAT')} ({local:%Z})"
            text += " " + _("Answer it with evidence in Stripe's dashboard by %(respond_by)s.")
        return text % facts
    if name == DISPUTE_WON:
        return _("Dispute %(dispute)s closed in the store's favour: the money stays paid.") % facts
    return (
        _(
            "Dispute %(dispute)s was lost: %(amount)s %(currency)s went back to the cardholder "
            "(a chargeback)."
        )
        % facts
    )
