"""How the pop-up takes money without knowing who takes it.

Checkout and pre-sales speak to a PaymentGateway; the store names its implementation in
POPUP_PAYMENT_GATEWAY (integrations.stripe.gateway.StripeGateway by default). Every call may be
made again with the same arguments. Failures are Oscar's exceptions: UnableToTakePayment carries a
message for the shopper (a declined card), PaymentError is for staff and logs (the provider could
not be reached, or answered something unexpected).
"""

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Protocol

from django.utils.module_loading import import_string
from oscar.core.loading import get_class

from popup.conf import popup_settings

UnableToTakePayment = get_class("payment.exceptions", "UnableToTakePayment")

# The names of the payment events recorded on Oscar orders (order.PaymentEventType).
AUTHORISED = "Authorised"
PAID = "Paid"
REFUNDED = "Refunded"
# A cardholder disputed the payment with their bank: opened, then won or lost (a chargeback).
DISPUTE_OPENED = "Dispute opened"
DISPUTE_WON = "Dispute won"
DISPUTE_LOST = "Chargeback"


class PaymentNotConfirmed(UnableToTakePayment):
    """The shopper's bank did not confirm the payment (3-D Secure failed); its message says all
    the shopper needs: that nothing was charged, and what to try."""


class Payment(Protocol):
    """One payment as the provider has it now (never as the browser reports it)."""

    id: str
    status: str
    client_secret: str
    created: int  # Unix time
    metadata: Mapping[str, str]

    @property
    def is_authorised(self) -> bool: ...  # the money is reserved: capture or cancel it

    @property
    def is_paid(self) -> bool: ...

    @property
    def has_failed(self) -> bool: ...

    @property
    def needs_authentication(self) -> bool: ...  # the bank's 3-D Secure challenge waits


class CardSetup(Protocol):
    """A card being saved for later charges."""

    id: str
    status: str
    client_secret: str
    customer: str
    payment_method: str
    metadata: Mapping[str, str]
    created: int  # Unix time

    @property
    def is_saved(self) -> bool: ...


class PaymentGateway(Protocol):
    # Checkout: authorise now, capture once the order exists, or cancel.
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
    ) -> Payment: ...

    def authorised(self, *, payment_id: str, amount: Decimal, currency: str) -> Payment:
        """The payment, if it authorises exactly this amount; raises otherwise."""

    def capture(self, *, order, payment_id: str) -> None: ...

    def cancel(self, *, payment_id: str) -> Payment: ...

    def retrieve(self, *, payment_id: str) -> Payment: ...

    def payments(self, *, created_after: datetime) -> Iterable[Payment]:
        """Every payment of the store created since `created_after` (popup_audit reads them)."""

    def reports_requeue(self, *, older_than: timedelta | None = None) -> int:
        """Queue again what the provider reported (webhooks) that was stored but never processed,
        `older_than` (the integration's own delay) after it came; how many."""

    def record(self, *, order, payment: Payment, paid: bool) -> None:
        """Record the payment on the Oscar order (its source, transactions and event), once."""

    # Pre-sales: save a card now, charge it later (off session) or with the backer there.
    def save_card(
        self,
        *,
        idempotency_key: str,
        metadata: Mapping[str, str],
        email: str = "",
        customer: str = "",
    ) -> CardSetup: ...

    def card_saved(self, *, setup_id: str) -> CardSetup: ...

    def card_setups(self, *, created_after: datetime) -> Iterable[CardSetup]:
        """Every card setup created since `created_after`, as the provider has it now."""

    def card_label(self, *, payment_method_id: str) -> str: ...

    def charge_saved(
        self,
        *,
        amount: Decimal,
        currency: str,
        customer: str,
        payment_method: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> Payment:
        """A charge of a saved card, created but not yet confirmed: nothing moves yet."""

    def charge_confirm(self, *, payment_id: str, off_session: bool) -> Payment: ...

    def charge_abandon(self, *, payment_id: str) -> Payment:
        """Cancel a charge that waits for a customer who is not there; it ends paid or failed."""

    def failure(self, payment: Payment) -> tuple[str, str]:
        """(code, message for the customer) of a payment that did not go through."""

    # For the browser's wallet button, which counts in the provider's minor units.
    def minor_units(self, *, amount: Decimal, currency: str) -> int: ...


@cache
def _gateway(path: str) -> PaymentGateway:
    return import_string(path)()


def payment_gateway() -> PaymentGateway:
    """The store's payment gateway (POPUP_PAYMENT_GATEWAY)."""
    return _gateway(popup_settings.POPUP_PAYMENT_GATEWAY)
