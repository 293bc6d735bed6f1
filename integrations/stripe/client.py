"""Stripe's API behind small typed functions. The only module of the project that imports `stripe`.

Every function returns frozen dataclasses of our own, never stripe objects, and raises our own
exceptions. Every call that changes something at Stripe carries the caller's idempotency key: Stripe
replays the first answer to a repeated key (localstripe ignores them, so callers stay idempotent too).

Settings: STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, and STRIPE_API_BASE (None for Stripe itself, the
address of localstripe offline and in tests).

Every request names STRIPE_API_VERSION, so the shapes Stripe answers with do not change under us when
the account's default version moves. Webhook events come in the version their endpoint was made with:
make the store's endpoint with this version (Stripe's dashboard › Developers › Webhooks).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import stripe

from popup.conf import popup_settings

# The API version every request asks for: the one stripe-python 16.1 was generated for.
STRIPE_API_VERSION = "2026-10-28.endive"

# localstripe 1.15.10 answers 400 "Unexpected ..." to these PaymentIntent parameters; Stripe takes
# them. They are informative only (Stripe's dashboard and receipts), so they go to Stripe alone.
_LOCALSTRIPE_LACKS = ("description", "receipt_email")


class PaymentProviderError(Exception):
    """Stripe refused or could not carry out a request; the message is for staff and logs."""

    def __init__(self, message: str, *, code: str = "", payment_intent_id: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.payment_intent_id = payment_intent_id


class CardDeclined(PaymentProviderError):
    """The card was declined or failed authentication; `message` is written for the shopper."""

    def __init__(
        self, message: str, *, code: str = "", decline_code: str = "", payment_intent_id: str = ""
    ) -> None:
        super().__init__(message, code=code, payment_intent_id=payment_intent_id)
        self.decline_code = decline_code


class WebhookSignatureError(Exception):
    """A webhook delivery whose Stripe-Signature is missing, wrong, or dated outside the tolerance."""


class WebhookPayloadError(Exception):
    """A correctly signed webhook delivery whose body is not an event we can store."""


# How far a delivery's signed timestamp may be from now, either way (Stripe's libraries: 5 minutes
# into the past only; a timestamp in the future is as suspect as an old one).
WEBHOOK_TOLERANCE_SECONDS = 300
# Stripe's event ids: "evt_" and letters, digits or underscores, well under the column's 255.
_EVENT_ID = re.compile(r"evt_[A-Za-z0-9_]{1,200}")
_EVENT_TYPE = re.compile(r"[a-z0-9_.]{1,255}")


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    status: str
    amount: int
    currency: str
    client_secret: str
    capture_method: str
    created: int = 0  # Unix time
    payment_method: str = ""
    customer: str = ""
    latest_charge: str = ""
    # Stripe's own figures; localstripe does not report them (None there).
    amount_capturable: int | None = None
    amount_received: int | None = None
    next_action_type: str = ""
    last_payment_error_code: str = ""
    last_payment_error_message: str = ""
    metadata: dict[str, str] = field(default_factory=dict, hash=False)

    @property
    def is_authorised(self) -> bool:
        """The card is authorised and the money waits for a capture."""
        return self.status == "requires_capture"

    @property
    def is_paid(self) -> bool:
        return self.status == "succeeded"

    @property
    def needs_authentication(self) -> bool:
        """The shopper must pass 3-D Secure in the browser (Stripe.js confirmCardPayment)."""
        return self.status == "requires_action"

    @property
    def has_failed(self) -> bool:
        """The last attempt failed (declined, or 3-D Secure failed): the PaymentIntent wants a card."""
        return self.status == "requires_payment_method" and bool(
            self.last_payment_error_code or self.last_payment_error_message
        )


@dataclass(frozen=True)
class Refund:
    id: str
    amount: int
    currency: str
    status: str
    payment_intent: str = ""
    metadata: dict[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Customer:
    id: str
    email: str = ""
    default_source: str = ""


@dataclass(frozen=True)
class SetupIntent:
    id: str
    status: str
    client_secret: str
    usage: str
    customer: str = ""
    payment_method: str = ""
    metadata: dict[str, str] = field(default_factory=dict, hash=False)
    created: int = 0

    @property
    def is_saved(self) -> bool:
        return self.status == "succeeded" and bool(self.payment_method)


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    api_version: str
    livemode: bool
    created: int
    payload: dict[str, Any] = field(hash=False)

    @property
    def data_object(self) -> dict[str, Any]:
        return self.payload.get("data", {}).get("object", {})


@lru_cache(maxsize=8)
def _stripe_client(api_key: str, api_base: str | None, timeout: float) -> stripe.StripeClient:
    base_addresses = {"api": api_base} if api_base else None
    return stripe.StripeClient(
        api_key,
        base_addresses=base_addresses,
        # One retry (with the same idempotency key): a request that failed may be sent again safely.
        max_network_retries=1,
        http_client=stripe.RequestsClient(timeout=timeout),
        stripe_version=STRIPE_API_VERSION,
    )


def _client() -> stripe.StripeClient:
    return _stripe_client(
        popup_settings.STRIPE_SECRET_KEY,
        popup_settings.STRIPE_API_BASE or None,
        float(popup_settings.STRIPE_TIMEOUT),
    )


def _options(idempotency_key: str) -> dict[str, str]:
    if not idempotency_key:
        raise ValueError("Every call that changes something at Stripe needs an idempotency key.")
    return {"idempotency_key": idempotency_key}


def id_of(value: Any) -> str:
    """An id whether Stripe sent it bare or expanded (localstripe expands latest_charge)."""
    if not value:
        return ""
    if isinstance(value, str):
        return value
    return str(value["id"])


def _plain(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _payment_intent(obj: Any) -> PaymentIntent:
    data = _plain(obj)
    error = data.get("last_payment_error") or {}
    next_action = data.get("next_action") or {}
    return PaymentIntent(
        id=data["id"],
        status=data["status"],
        amount=int(data["amount"]),
        currency=data["currency"],
        client_secret=data.get("client_secret") or "",
        capture_method=data.get("capture_method") or "",
        created=int(data.get("created") or 0),
        payment_method=id_of(data.get("payment_method")),
        customer=id_of(data.get("customer")),
        latest_charge=id_of(data.get("latest_charge")),
        amount_capturable=data.get("amount_capturable"),
        amount_received=data.get("amount_received"),
        next_action_type=next_action.get("type", ""),
        last_payment_error_code=error.get("decline_code") or error.get("code") or "",
        last_payment_error_message=error.get("message") or "",
        metadata=dict(data.get("metadata") or {}),
    )


def _refund(obj: Any) -> Refund:
    data = _plain(obj)
    return Refund(
        id=data["id"],
        amount=int(data["amount"]),
        currency=data["currency"],
        status=data.get("status") or "",
        payment_intent=id_of(data.get("payment_intent")),
        metadata=dict(data.get("metadata") or {}),
    )


@contextmanager
def _stripe_errors() -> Iterator[None]:
    """Stripe's exceptions become ours, so nothing outside this module needs the stripe package."""
    try:
        yield
    except stripe.StripeError as error:
        raise _translate(error) from error


def _translate(error: stripe.StripeError) -> PaymentProviderError:
    details = getattr(error, "error", None)
    payment_intent = getattr(details, "payment_intent", None) if details else None
    payment_intent_id = id_of(payment_intent) if payment_intent else ""
    code = error.code or ""
    if isinstance(error, stripe.CardError):
        return CardDeclined(
            error.user_message or "Your card was declined.",
            code=code,
            decline_code=getattr(details, "decline_code", None) or "" if details else "",
            payment_intent_id=payment_intent_id,
        )
    return PaymentProviderError(
        error.user_message or str(error), code=code, payment_intent_id=payment_intent_id
    )


def customer_create(
    *,
    idempotency_key: str,
    email: str = "",
    name: str = "",
    card_token: str = "",
    metadata: dict[str, str] | None = None,
) -> Customer:
    """Create a Stripe customer; with `card_token`, the tokenised card becomes its default source."""
    params: dict[str, Any] = {"metadata": metadata or {}}
    if email:
        params["email"] = email
    if name:
        params["name"] = name
    if card_token:
        params["source"] = card_token
    with _stripe_errors():
        customer = _client().v1.customers.create(params, _options(idempotency_key))
    data = _plain(customer)
    return Customer(
        id=data["id"],
        email=data.get("email") or "",
        default_source=id_of(data.get("default_source")),
    )


def payment_intent_create(
    *,
    amount: int,
    currency: str,
    idempotency_key: str,
    payment_method: str = "",
    card_token: str = "",
    customer: str = "",
    capture_method: str = "manual",
    confirm: bool = True,
    off_session: bool = False,
    metadata: dict[str, str] | None = None,
    description: str = "",
    receipt_email: str = "",
) -> PaymentIntent:
    """Create (and by default confirm) a PaymentIntent for `amount` minor units of `currency`.

    Pass a `payment_method` (pm_..., or a card_... attached to `customer`), or the `card_token` that
    card.js got from Stripe.js `createToken`. A declined card raises CardDeclined; a card that wants
    3-D Secure comes back with status requires_action for card.js to finish in the browser.
    """
    if card_token:
        # Stripe.js createToken is the one card call that real Stripe.js and localstripe's fake both
        # support (see static/popup_stripe/card.js). The token's card becomes a Customer's source and
        # that Card is the PaymentIntent's payment_method. Stripe documents payment_method as "a
        # PaymentMethod, Card, or compatible Source object", and refuses an *unattached* source
        # ("A source must be attached to a customer to be used as a `payment_method`", stripe-node
        # #934) and a raw token ("A token may not be passed in as a PaymentMethod", saleor #4741);
        # localstripe has neither payment_method_data nor card[token], so this is the request both
        # accept. The customer also carries the e-mail address for Stripe's receipts.
        if payment_method or customer:
            raise ValueError("Pass either card_token or payment_method/customer, not both.")
        holder = customer_create(
            idempotency_key=f"{idempotency_key}:customer",
            email=receipt_email,
            card_token=card_token,
            metadata=metadata,
        )
        customer, payment_method = holder.id, holder.default_source
    params: dict[str, Any] = {
        "amount": amount,
        "currency": currency.lower(),
        "capture_method": capture_method,
        # Cards only: without it Stripe turns on automatic payment methods, which want a return_url
        # when confirmed on the server (and localstripe rejects automatic_payment_methods).
        "payment_method_types": ["card"],
        "metadata": metadata or {},
    }
    if payment_method:
        params["payment_method"] = payment_method
    if customer:
        params["customer"] = customer
    if confirm:
        params["confirm"] = True
        if off_session:
            params["off_session"] = True
    if description:
        params["description"] = description
    if receipt_email:
        params["receipt_email"] = receipt_email
    if popup_settings.STRIPE_API_BASE:
        for name in _LOCALSTRIPE_LACKS:
            params.pop(name, None)
    with _stripe_errors():
        intent = _client().v1.payment_intents.create(params, _options(idempotency_key))
    return _payment_intent(intent)


def payment_intent_confirm(
    *, payment_intent_id: str, idempotency_key: str, off_session: bool = False
) -> PaymentIntent:
    """Confirm a PaymentIntent created unconfirmed: the moment the card is charged (or declined).

    `off_session`: the customer is not there (a saved card charged later); Stripe then answers
    authentication_required instead of asking for 3-D Secure.
    """
    params: dict[str, Any] = {}
    # localstripe 1.15.10 answers 400 "Unexpected off_session" on confirm; it has no such notion.
    if off_session and not popup_settings.STRIPE_API_BASE:
        params["off_session"] = True
    with _stripe_errors():
        intent = _client().v1.payment_intents.confirm(
            payment_intent_id, params, _options(idempotency_key)
        )
    return _payment_intent(intent)


def card_label(*, payment_method_id: str) -> str:
    """How a saved card is shown to its owner, e.g. "Visa •••• 4242" (empty if Stripe won't say)."""
    with _stripe_errors():
        data = _plain(_client().v1.payment_methods.retrieve(payment_method_id))
    card = data.get("card") or {}
    if not card.get("last4"):
        return ""
    return f"{str(card.get('brand') or 'card').title()} •••• {card['last4']}"


def payment_intent_retrieve(*, payment_intent_id: str) -> PaymentIntent:
    """The PaymentIntent as Stripe sees it now."""
    with _stripe_errors():
        return _payment_intent(_client().v1.payment_intents.retrieve(payment_intent_id))


def _listed(service, params: dict[str, Any]) -> Iterator[Any]:
    """Every object a Stripe list endpoint has for `params`, page by page (newest first)."""
    params = {"limit": 100, **params}
    while True:
        with _stripe_errors():
            page = service.list(params)
        yield from page.data
        if not page.has_more or not page.data:
            return
        params["starting_after"] = page.data[-1].id


def payment_intents_since(*, created_after: int) -> Iterator[PaymentIntent]:
    """Every PaymentIntent created at or after `created_after` (Unix time)."""
    for obj in _listed(_client().v1.payment_intents, {"created": {"gte": created_after}}):
        yield _payment_intent(obj)


def charge_payment_intent(*, charge_id: str) -> str:
    """The id of the PaymentIntent a charge belongs to ("" for a charge made without one)."""
    with _stripe_errors():
        charge = _plain(_client().v1.charges.retrieve(charge_id))
    return id_of(charge.get("payment_intent"))


def payment_intent_capture(
    *, payment_intent_id: str, idempotency_key: str, amount_to_capture: int | None = None
) -> PaymentIntent:
    """Capture an authorised PaymentIntent, all of it or `amount_to_capture` minor units."""
    params: dict[str, Any] = {}
    if amount_to_capture is not None:
        params["amount_to_capture"] = amount_to_capture
    with _stripe_errors():
        intent = _client().v1.payment_intents.capture(
            payment_intent_id, params, _options(idempotency_key)
        )
    return _payment_intent(intent)


def payment_intent_cancel(*, payment_intent_id: str, idempotency_key: str) -> PaymentIntent:
    """Cancel a PaymentIntent that is not captured: an authorisation is released, nobody is charged."""
    with _stripe_errors():
        intent = _client().v1.payment_intents.cancel(
            payment_intent_id, {}, _options(idempotency_key)
        )
    return _payment_intent(intent)


def refund_create(
    *,
    payment_intent_id: str,
    idempotency_key: str,
    amount: int | None = None,
    metadata: dict[str, str] | None = None,
) -> Refund:
    """Refund a captured PaymentIntent, all of it or `amount` minor units."""
    params: dict[str, Any] = {"payment_intent": payment_intent_id, "metadata": metadata or {}}
    if amount is not None:
        params["amount"] = amount
    with _stripe_errors():
        refund = _client().v1.refunds.create(params, _options(idempotency_key))
    return _refund(refund)


def refunds_of(*, payment_intent_id: str) -> list[Refund]:
    """Every refund of a PaymentIntent, oldest first."""
    listed = _listed(_client().v1.refunds, {"payment_intent": payment_intent_id})
    refunds = [_refund(obj) for obj in listed]
    # localstripe lists every refund it has: keep this payment's.
    return [refund for refund in reversed(refunds) if refund.payment_intent == payment_intent_id]


def setup_intent_create(
    *,
    customer: str,
    idempotency_key: str,
    usage: str = "off_session",
    metadata: dict[str, str] | None = None,
) -> SetupIntent:
    """A SetupIntent that saves a card on `customer` for charges made later without the shopper."""
    params: dict[str, Any] = {
        "customer": customer,
        "usage": usage,
        "payment_method_types": ["card"],
        "metadata": metadata or {},
    }
    with _stripe_errors():
        intent = _client().v1.setup_intents.create(params, _options(idempotency_key))
    return setup_intent_from(intent)


def setup_intent_retrieve(*, setup_intent_id: str) -> SetupIntent:
    """The SetupIntent as Stripe sees it now (its payment_method once the card is saved)."""
    with _stripe_errors():
        return setup_intent_from(_client().v1.setup_intents.retrieve(setup_intent_id))


def setup_intent_from(obj: Any) -> SetupIntent:
    data = _plain(obj)
    return SetupIntent(
        id=data["id"],
        status=data["status"],
        client_secret=data.get("client_secret") or "",
        usage=data.get("usage") or "",
        customer=id_of(data.get("customer")),
        payment_method=id_of(data.get("payment_method")),
        metadata=dict(data.get("metadata") or {}),
        created=int(data.get("created") or 0),
    )


def setup_intents_since(*, created_after: int) -> Iterator[SetupIntent]:
    """Every SetupIntent created at or after `created_after` (Unix time)."""
    for obj in _listed(_client().v1.setup_intents, {"created": {"gte": created_after}}):
        yield setup_intent_from(obj)


def _signed_at(signature: str) -> int:
    """The timestamp of a Stripe-Signature header already verified (t=<unix time>,v1=...)."""
    for part in signature.split(","):
        key, _, value = part.partition("=")
        if key.strip() == "t":
            return int(value)
    raise ValueError("No timestamp in the Stripe-Signature header.")


def webhook_event_construct(
    *, payload: bytes, signature: str | None, now: float | None = None
) -> WebhookEvent:
    """Verify a webhook delivery's signature with STRIPE_WEBHOOK_SECRET and read its event.

    Raises WebhookSignatureError when the signature is missing or wrong, or dated more than
    WEBHOOK_TOLERANCE_SECONDS from now (before or after); WebhookPayloadError when the signed body is
    not an event object (an array, a string, an impossible id or type).
    """
    secret = popup_settings.STRIPE_WEBHOOK_SECRET
    if not signature or not secret:
        raise WebhookSignatureError("No Stripe-Signature header, or no webhook secret configured.")
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
        )
        signed_at = _signed_at(signature)
    except (stripe.SignatureVerificationError, ValueError) as error:
        raise WebhookSignatureError(str(error)) from error
    if signed_at > (now if now is not None else time.time()) + WEBHOOK_TOLERANCE_SECONDS:
        raise WebhookSignatureError(f"The signature is dated in the future ({signed_at}).")
    try:
        data = json.loads(payload)
    except ValueError as error:
        raise WebhookPayloadError("The body is not JSON.") from error
    if not isinstance(data, dict):
        raise WebhookPayloadError("The body is not an event object.")
    event_id, event_type = data.get("id"), data.get("type")
    api_version, created = data.get("api_version") or "", data.get("created") or 0
    inner = data.get("data")
    if not (isinstance(event_id, str) and _EVENT_ID.fullmatch(event_id)):
        raise WebhookPayloadError("The event has no id, or an impossible one.")
    if not (isinstance(event_type, str) and _EVENT_TYPE.fullmatch(event_type)):
        raise WebhookPayloadError("The event has no type, or an impossible one.")
    if not (isinstance(api_version, str) and len(api_version) <= 64):
        raise WebhookPayloadError("The event's API version is not a version.")
    if isinstance(created, bool) or not isinstance(created, int):
        raise WebhookPayloadError("The event's creation time is not a number.")
    if not (isinstance(inner, dict) and isinstance(inner.get("object"), dict)):
        raise WebhookPayloadError("The event carries no object.")
    return WebhookEvent(
        id=event_id,
        type=event_type,
        api_version=api_version,
        livemode=bool(data.get("livemode", False)),
        created=created,
        payload=data,
    )
