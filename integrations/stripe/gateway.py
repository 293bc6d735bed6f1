"""Stripe as the pop-up's payment gateway (popup.payments.PaymentGateway), over the facade."""

from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from integrations.stripe import facade
from integrations.stripe.client import PaymentIntent, SetupIntent


class StripeGateway:
    """Authorisations captured once the order exists; saved cards (SetupIntents) charged later."""

    def authorise(
        self,
        *,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        card_token: str = "",
        payment_method: str = "",
        email: str = "",
        description: str = "",
        metadata: Mapping[str, str],
    ) -> PaymentIntent:
        return facade.payment_authorise(
            amount=amount,
            currency=currency,
            idempotency_key=idempotency_key,
            card_token=card_token,
            payment_method=payment_method,
            email=email,
            description=description,
            metadata=dict(metadata),
        )

    def authorised(self, *, payment_id: str, amount: Decimal, currency: str) -> PaymentIntent:
        return facade.payment_authorisation_check(
            payment_intent_id=payment_id, amount=amount, currency=currency
        )

    def capture(self, *, order, payment_id: str) -> None:
        facade.payment_capture(order=order, payment_intent_id=payment_id)

    def cancel(self, *, payment_id: str) -> PaymentIntent:
        return facade.payment_authorisation_cancel(payment_intent_id=payment_id)

    def retrieve(self, *, payment_id: str) -> PaymentIntent:
        return facade.payment_charge_status(payment_intent_id=payment_id)

    def payments(self, *, created_after: datetime) -> Iterator[PaymentIntent]:
        return facade.payments_since(created_after=created_after)

    def record(self, *, order, payment: PaymentIntent, paid: bool) -> None:
        if paid:
            facade.payment_record_charge(order=order, payment_intent=payment)
        else:
            facade.payment_record_authorisation(order=order, payment_intent=payment)

    def save_card(
        self,
        *,
        idempotency_key: str,
        metadata: Mapping[str, str],
        email: str = "",
        customer: str = "",
    ) -> SetupIntent:
        return facade.card_save_start(
            idempotency_key=idempotency_key, email=email, customer=customer, metadata=dict(metadata)
        )

    def card_saved(self, *, setup_id: str) -> SetupIntent:
        return facade.card_saved(setup_intent_id=setup_id)

    def reports_requeue(self, *, older_than: timedelta | None = None) -> int:
        from integrations.stripe.tasks import stripe_events_requeue

        seconds = None if older_than is None else older_than.total_seconds()
        return stripe_events_requeue(older_than_seconds=seconds)

    def card_setups(self, *, created_after: datetime) -> Iterator[SetupIntent]:
        return facade.card_setups_since(created_after=created_after)

    def card_label(self, *, payment_method_id: str) -> str:
        return facade.card_label(payment_method_id=payment_method_id)

    def charge_saved(
        self,
        *,
        amount: Decimal,
        currency: str,
        customer: str,
        payment_method: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> PaymentIntent:
        return facade.payment_charge_create(
            amount=amount,
            currency=currency,
            customer=customer,
            payment_method=payment_method,
            idempotency_key=idempotency_key,
            metadata=dict(metadata),
        )

    def charge_confirm(self, *, payment_id: str, off_session: bool) -> PaymentIntent:
        return facade.payment_charge_confirm(payment_intent_id=payment_id, off_session=off_session)

    def charge_abandon(self, *, payment_id: str) -> PaymentIntent:
        intent = facade.payment_charge_abandon(payment_intent_id=payment_id)
        if intent.is_paid:
            return intent
        # Cancelled for want of the customer's bank confirmation: say so, as a failure would.
        return replace(intent, last_payment_error_code="authentication_required")

    def failure(self, payment: PaymentIntent) -> tuple[str, str]:
        return facade.payment_failure(payment)

    def minor_units(self, *, amount: Decimal, currency: str) -> int:
        return facade.amount_to_minor(amount=amount, currency=currency)
