"""All-or-nothing pre-sales: backers pledge a saved card; it is charged only if the goal is met.

A pledge's life, every step under the pledge's row lock and recorded as a PledgeEvent:

    pledged ──▶ charging ──▶ paid
       │           │
       │           ▼
       │        failed ──▶ charging (a retry, or the backer paying from the recovery link) ...
       │           │            └──▶ retrying ──▶ charging ... ──▶ dropped (retries used up)
       ▼           ▼
    cancelled (by the backer before charging starts; by settlement when the goal is missed)

Charging never trusts a process to live through it: the pledge is saved as `charging` (with a lease
and the attempt's number, which names the idempotency key) before Stripe is called, the
PaymentIntent's id is saved before it is confirmed, and the outcome is saved after. A pledge found
`charging` with its lease run out is finished from what Stripe says about that PaymentIntent, so a
killed worker or a second settlement run can neither charge twice nor forget a pledge.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext
from oscar.core.loading import get_class, get_model

from popup.channels.placements import payment_metadata
from popup.checkout.orders import Quote, ShopperDetails, order_place, oscar_basket_priced
from popup.checkout.services import (
    PAYMENT_MINUTES,
    SETTLE_WITHIN,
    CheckoutRefused,
    basket_holds,
    basket_quote,
    basket_secure,
    beyond_customer_limit,
    customer_units,
    no_longer_available,
    off_sale,
    settle_after,
    units_pledged,
    units_short,
)
from popup.core.languages import language_of_basket
from popup.core.pushes import live_changed
from popup.locking import terms_locked
from popup.models import Pledge, PledgeEvent, PledgeLine, PopUp, PopUpBasket, PopUpProduct
from popup.notifications.tasks import checkout_lost_email_send, pledge_email_send
from popup.payments import Payment, payment_gateway
from popup.presales.selectors import presale_progress
from popup.presales.tasks import presale_settle_run
from popup.queueing import task_queue_on_commit

logger = logging.getLogger(__name__)

Order = get_model("order", "Order")
OrderTotalCalculator = get_class("checkout.calculators", "OrderTotalCalculator")
FixedPrice = get_class("shipping.methods", "FixedPrice")
Selector = get_class("partner.strategy", "Selector")
PaymentError = get_class("payment.exceptions", "PaymentError")

# Kickstarter gives failed cards 7 days, Crowd Supply a week, PreProduct retries after a day: a
# failed charge is retried 1, 3 and 7 days after the first failure, then the pledge is dropped.
RETRY_DAYS = (1, 3, 7)
# How long a worker may take over one off-session charge before another may finish it from Stripe.
CHARGE_LEASE = timedelta(minutes=2)
# A charge task queued by settlement is trusted to run within this; after it, a sweep queues the
# pledge again (its message may have died with a worker that had reserved it).
QUEUE_GRACE = timedelta(minutes=10)
# A backer paying from the recovery link may need their bank's 3-D Secure: give them time.
BACKER_LEASE = timedelta(minutes=PAYMENT_MINUTES)


@dataclass(frozen=True)
class CardSetup:
    """What the browser needs to save the card with Stripe.js confirmCardSetup."""

    setup_intent_id: str
    client_secret: str


@dataclass(frozen=True)
class Settlement:
    outcome: str  # PopUp.Outcome
    pledges_due: list[int]  # to charge now
    pledges_cancelled: int = 0


def _event(pledge: Pledge, status_from: str, note: str = "", args: dict | None = None) -> None:
    PledgeEvent.objects.create(
        pledge=pledge,
        status_from=status_from,
        status_to=pledge.status,
        note=note[:255],
        note_args=args or {},
        payment_intent_id=pledge.payment_intent_id,
    )


def _move(pledge: Pledge, status: str, note: str = "", args: dict | None = None, **fields) -> None:
    """Save the pledge in its new status (the caller holds its row lock) and record the step.

    A note is given in English (gettext_noop), its msgid, and its figures in `args`: the pledge
    page says it in the backer's language, whoever's language this run speaks."""
    status_from = pledge.status
    pledge.status = status
    for name, value in fields.items():
        setattr(pledge, name, value)
    pledge.save()
    _event(pledge, status_from, note, args)


def _locked(pledge_id: int) -> Pledge:
    return Pledge.objects.select_for_update(of=("self",)).select_related("popup").get(pk=pledge_id)


def _release_units(pledge: Pledge) -> None:
    """Give the pledge's units back to the pop-up (terms rows locked in primary key order)."""
    lines = list(pledge.lines.order_by("terms_id"))
    terms_locked(line.terms_id for line in lines)
    for line in lines:
        PopUpProduct.objects.filter(pk=line.terms_id).update(
            units_sold=F("units_sold") - line.quantity
        )
    live_changed(popup_id=pledge.popup_id)


def _metadata(pledge: Pledge) -> dict[str, str]:
    origin = payment_metadata(pledge.basket) if pledge.basket_id else {}
    return {**origin, "popup_pledge": str(pledge.pk), "popup": pledge.popup.slug}


# Pledging -------------------------------------------------------------------------------------


def pledge_start(*, basket: PopUpBasket, details: ShopperDetails) -> CardSetup:
    """Check the basket can be pledged and secure its units while the card is saved; charge nothing.

    Raises CheckoutRefused when it cannot be pledged, PaymentError when payments cannot be reached.
    """
    now = timezone.now()
    with transaction.atomic():
        basket = PopUpBasket.objects.select_for_update().select_related("popup").get(pk=basket.pk)
        if not basket.popup.takes_pledges or now >= basket.popup.closes_at:
            raise CheckoutRefused(_("This pre-sale no longer takes pledges."), code="closed")
        if basket.status != PopUpBasket.Status.OPEN:
            raise CheckoutRefused(_("This basket is already pledged."), code="done")
        basket = basket_secure(basket=basket, details=details, now=now)
    setup = payment_gateway().save_card(
        idempotency_key=f"popup-basket-{basket.pk}-pledge-{basket.payment_attempts}",
        email=details.email,
        metadata=payment_metadata(basket),
    )
    # The basket's payment under way is this card setup: only it can become the pledge.
    PopUpBasket.objects.filter(pk=basket.pk).update(payment_intent_id=setup.id)
    return CardSetup(setup_intent_id=setup.id, client_secret=setup.client_secret)


def pledge_confirm(*, basket_id: int, setup_intent_id: str, strategy=None) -> Pledge:
    """Turn a saved card into exactly one pledge holding the basket's units; safe to call again.

    Raises CheckoutRefused when the card is not saved (declined, 3-D Secure pending or failed),
    the setup is not this basket's, or the units were lost meanwhile.
    """
    strategy = strategy or Selector().strategy()
    gateway = payment_gateway()
    setup = gateway.card_saved(setup_id=setup_intent_id)
    if setup.metadata.get("popup_basket") != str(basket_id):
        raise CheckoutRefused(_("We could not find this card."), code="unknown")
    if setup.status == "requires_action":
        raise CheckoutRefused(_("Your bank has not confirmed the card yet."), code="pending")
    if not setup.is_saved:
        raise CheckoutRefused(
            _("Your card could not be saved. Nothing was charged: try another card."),
            code="declined",
        )
    label = gateway.card_label(payment_method_id=setup.payment_method)
    with transaction.atomic():
        basket = PopUpBasket.objects.select_for_update().select_related("popup").get(pk=basket_id)
        existing = Pledge.objects.filter(basket=basket).first()
        if existing is not None:
            return existing
        if basket.payment_intent_id != setup_intent_id:
            raise CheckoutRefused(_("This card was replaced by a newer one."), code="replaced")
        nothing_charged = _("Nothing will be charged.")
        if basket.popup.presale_outcome == PopUp.Outcome.NOT_FUNDED:
            # Settled while the card was being saved (the pop-up's row is locked: settlement has
            # either cancelled its pledges already or will find this one). A funded pre-sale takes
            # it: its sweep charges every pledge still pledged.
            raise CheckoutRefused(
                _("This pre-sale ended short of its goal before your card was saved.")
                + f" {nothing_charged}",
                code="closed",
            )
        holds = basket_holds(basket)
        short = units_short(basket=basket, holds=holds, now=timezone.now()) if holds else ["—"]
        if short:
            raise CheckoutRefused(
                _(
                    "Sorry, these were taken while your card was saved: %(titles)s. Nothing will be charged."
                )
                % {"titles": ", ".join(short)},
                code="lost",
            )
        details = ShopperDetails(email=basket.email, **basket.shipping)
        # The pop-up's row is locked (above): two baskets of one backer cannot both pass this.
        beyond_limit = beyond_customer_limit(basket, holds, basket.email, paying_at=None)
        if beyond_limit:
            raise CheckoutRefused(f"{beyond_limit} {nothing_charged}", code="limit")
        quote = basket_quote(basket, details, strategy=strategy)
        prices = quote.prices
        quote.basket.delete()
        gone = off_sale(holds, quote)
        if gone:
            raise CheckoutRefused(f"{no_longer_available(gone)} {nothing_charged}", code="lost")
        pledge = Pledge.objects.create(
            popup=basket.popup,
            basket=basket,
            email=basket.email,
            email_key=basket.email_key,
            language=basket.language,
            shipping=basket.shipping,
            source=basket.source,
            currency=quote.currency,
            amount=quote.amount,
            shipping_charge=quote.shipping_charge.incl_tax,
            stripe_customer_id=setup.customer,
            setup_intent_id=setup.id,
            payment_method_id=setup.payment_method,
            card_label=label,
        )
        for hold in holds:
            PledgeLine.objects.create(
                pledge=pledge,
                terms=hold.terms,
                quantity=hold.quantity,
                unit_price=prices[hold.terms.product_id],
            )
            # Pledged units are spoken for: they count against the pop-up's cap like sold ones.
            PopUpProduct.objects.filter(pk=hold.terms_id).update(
                units_sold=F("units_sold") + hold.quantity
            )
        basket.holds.all().delete()
        live_changed(popup_id=basket.popup_id)
        basket.status = PopUpBasket.Status.PLEDGED
        basket.save(update_fields=["status", "updated_at"])
        _event(
            pledge,
            "",
            gettext_noop("Card saved: %(card)s"),
            {"card": label or setup.payment_method},
        )
        popup = basket.popup
        task_queue_on_commit(pledge_email_send, pledge.pk, "pledged")
        if popup.presale_charge_when == PopUp.ChargeWhen.GOAL:
            task_queue_on_commit(presale_settle_run, popup.pk)
    return pledge


def _pledge_given_up(basket: PopUpBasket, setup_id: str, reason: str) -> None:
    """The backer is told that no pledge was made and nothing will be charged; from then on this
    card is no longer the basket's, so no later run (nor the backer's page) makes the pledge."""
    with transaction.atomic():
        given_up = PopUpBasket.objects.filter(
            pk=basket.pk, payment_intent_id=setup_id, pledge__isnull=True
        ).update(payment_intent_id="")
        if given_up:
            task_queue_on_commit(checkout_lost_email_send, basket.pk, reason)


def pledges_settle(*, now: datetime | None = None, grace: timedelta | None = None) -> int:
    """Make the pledge of every card saved for a basket past `grace` (settle_after()) whose backer
    never came back to say so (the tab closed, the worker killed, the webhook lost), as
    pledge_confirm would had they come back; how many pledges were made. A backer whose pledge can
    no longer be made (units gone, pre-sale ended) is told by e-mail; nothing is charged.

    The payment provider is asked for the cards, so a setup whose id never reached the basket is
    found.
    """
    now = now or timezone.now()
    waited_enough = (settle_after() if grace is None else grace).total_seconds()
    pledged = 0
    for setup in payment_gateway().card_setups(created_after=now - SETTLE_WITHIN):
        basket_id = setup.metadata.get("popup_basket", "")
        if not (setup.is_saved and basket_id.isdigit()) or setup.metadata.get("popup_pledge"):
            continue  # not a saved card, or a pledge's change of card (pledge_card_changed)
        if now.timestamp() - setup.created < waited_enough:
            continue
        basket = PopUpBasket.objects.filter(pk=basket_id).first()
        if basket is None:
            logger.warning(
                "Card setup %s names basket %s, which this store lacks", setup.id, basket_id
            )
            continue  # another installation's (staging on the same Stripe account?)
        if basket.payment_intent_id != setup.id or Pledge.objects.filter(basket=basket).exists():
            continue  # replaced by another card, given up (below), or done
        try:  # why no pledge was made is told in the backer's language (_pledge_given_up)
            with translation.override(language_of_basket(basket.pk)):
                pledge_confirm(basket_id=basket.pk, setup_intent_id=setup.id)
        except CheckoutRefused as refusal:
            if refusal.code in ("lost", "closed", "limit"):
                _pledge_given_up(basket, setup.id, str(refusal))
            logger.info("Saved card %s made no pledge: %s", setup.id, refusal)
        except Exception:  # one card's trouble must not keep the others from their pledges
            logger.exception("Saved card %s could not be settled", setup.id)
        else:
            pledged += 1
    return pledged


# Changing or cancelling, by the backer, before charging starts --------------------------------


def pledge_quantity_set(*, pledge: Pledge, line_id: int, quantity: int) -> Pledge:
    """Change how many units of one line the backer pledges; 0 removes the line (or the pledge)."""
    if quantity < 0:
        raise CheckoutRefused(_("Choose a quantity of 0 or more."), code="bad_request")
    with transaction.atomic():
        pledge = _locked(pledge.pk)
        if not pledge.can_be_changed:
            raise CheckoutRefused(_("This pledge can no longer be changed."), code="locked")
        line = pledge.lines.select_related("terms__product").filter(pk=line_id).first()
        if line is None:
            raise CheckoutRefused(_("No such line in this pledge."), code="bad_request")
        other_units = sum(ln.quantity for ln in pledge.lines.exclude(pk=line.pk))
        if quantity == 0 and other_units == 0:
            return _cancel(pledge, gettext_noop("Cancelled by the backer."))
        terms = terms_locked([line.terms_id])[line.terms_id]
        extra = quantity - line.quantity
        limit = pledge.popup.per_customer_limit
        if limit is not None and extra > 0:
            # What the backer pledged (this pledge included), bought, and is paying for elsewhere.
            if pledge.basket_id:
                had = customer_units(
                    basket=pledge.basket, email=pledge.email, paying_at=timezone.now()
                ).total
            else:
                had = units_pledged(popup=pledge.popup, email=pledge.email)
            if had + extra > limit:
                raise CheckoutRefused(
                    ngettext(
                        "You can have %(limit)d unit of this pop-up in all.",
                        "You can have %(limit)d units of this pop-up in all.",
                        limit,
                    )
                    % {"limit": limit},
                    code="limit",
                )
        if extra > 0 and terms.units_offered is not None:
            free = terms.units_offered - terms.units_sold - _held(terms)
            if extra > free:
                raise CheckoutRefused(
                    _("Only %(free)d more can be pledged.") % {"free": max(free, 0)},
                    code="unavailable",
                )
        PopUpProduct.objects.filter(pk=terms.pk).update(units_sold=F("units_sold") + extra)
        live_changed(popup_id=terms.popup_id)
        before = line.quantity
        if quantity == 0:
            line.delete()
        else:
            line.quantity = quantity
            line.save(update_fields=["quantity"])
        pledge.amount = pledge.shipping_charge + sum(ln.total for ln in pledge.lines.all())
        pledge.save(update_fields=["amount", "updated_at"])
        _event(
            pledge,
            pledge.status,
            gettext_noop("%(title)s: %(before)d → %(after)d"),
            {"title": terms.product.get_title(), "before": before, "after": quantity},
        )
    return pledge


def _held(terms: PopUpProduct) -> int:
    return sum(terms.holds.active(timezone.now()).values_list("quantity", flat=True))


def _cancel(pledge: Pledge, note: str) -> Pledge:
    _release_units(pledge)
    _move(pledge, Pledge.Status.CANCELLED, note, next_retry_at=None, charging_until=None)
    return pledge


def pledge_cancel(*, pledge: Pledge) -> Pledge:
    """The backer withdraws the pledge before charging starts: its units go back, nothing is charged."""
    with transaction.atomic():
        pledge = _locked(pledge.pk)
        if pledge.status == Pledge.Status.CANCELLED:
            return pledge
        if not pledge.can_be_changed:
            raise CheckoutRefused(_("This pledge can no longer be cancelled."), code="locked")
        _cancel(pledge, gettext_noop("Cancelled by the backer."))
        task_queue_on_commit(pledge_email_send, pledge.pk, "cancelled")
    return pledge


def pledge_card_change_start(*, pledge: Pledge) -> CardSetup:
    """A SetupIntent to save another card on the pledge's Stripe customer."""
    if not (pledge.can_be_changed or pledge.needs_backer):
        raise CheckoutRefused(_("This pledge's card can no longer be changed."), code="locked")
    key = f"popup-pledge-{pledge.pk}-card-{pledge.events.count()}"
    setup = payment_gateway().save_card(
        idempotency_key=key, customer=pledge.stripe_customer_id, metadata=_metadata(pledge)
    )
    return CardSetup(setup_intent_id=setup.id, client_secret=setup.client_secret)


def pledge_card_changed(*, pledge: Pledge, setup_intent_id: str) -> Pledge:
    """Use the card saved by `setup_intent_id` for this pledge from now on."""
    gateway = payment_gateway()
    setup = gateway.card_saved(setup_id=setup_intent_id)
    if setup.metadata.get("popup_pledge") != str(pledge.pk) or not setup.is_saved:
        raise CheckoutRefused(_("The new card could not be saved."), code="declined")
    label = gateway.card_label(payment_method_id=setup.payment_method)
    with transaction.atomic():
        pledge = _locked(pledge.pk)
        if pledge.payment_method_id == setup.payment_method:
            return pledge
        if not (pledge.can_be_changed or pledge.needs_backer):
            raise CheckoutRefused(_("This pledge's card can no longer be changed."), code="locked")
        _move(
            pledge,
            pledge.status,
            gettext_noop("Card changed to %(card)s"),
            {"card": label or setup.payment_method},
            payment_method_id=setup.payment_method,
            setup_intent_id=setup.id,
            card_label=label,
        )
    return pledge


# Settlement -----------------------------------------------------------------------------------


def _due(popup: PopUp, now: datetime):
    """Pledges to charge now. One already queued is left to its task for QUEUE_GRACE, so repeated
    sweeps keep the queue as long as the pledges, not longer; a charge whose worker died (its lease
    ran out) is always due."""
    not_queued = Q(charge_queued_until__isnull=True) | Q(charge_queued_until__lte=now)
    waiting = Q(status=Pledge.Status.PLEDGED) | Q(
        status__in=(Pledge.Status.FAILED, Pledge.Status.RETRYING), next_retry_at__lte=now
    )
    return Pledge.objects.filter(popup=popup).filter(
        (waiting & not_queued) | Q(status=Pledge.Status.CHARGING, charging_until__lte=now)
    )


def presale_settle(*, popup: PopUp, now: datetime | None = None, early: bool = False) -> Settlement:
    """Decide the pre-sale's outcome once it can be decided, and list the pledges to charge now.

    Funded when the goal is met and it is time to charge (the deadline passed, or as soon as the
    goal is reached when the pop-up charges then, or `early` from the dashboard); not funded when the
    deadline passed short of the goal, and then every pledge is cancelled, nothing charged. Safe to
    run any number of times, at once or after an interruption: pledges only move under their lock.
    """
    now = now or timezone.now()
    with transaction.atomic():
        popup = PopUp.objects.select_for_update().get(pk=popup.pk)
        if (
            popup.kind != PopUp.Kind.PRESALE
            or popup.presale_funding != PopUp.Funding.ALL_OR_NOTHING
        ):
            return Settlement(outcome=popup.presale_outcome, pledges_due=[])
        if popup.presale_outcome == PopUp.Outcome.OPEN:
            closed = now >= popup.closes_at
            goal_met = presale_progress(popup=popup).goal_met
            charge_now = popup.presale_charge_when == PopUp.ChargeWhen.GOAL or early
            if goal_met and (closed or charge_now):
                popup.presale_outcome = PopUp.Outcome.FUNDED
            elif closed:
                popup.presale_outcome = PopUp.Outcome.NOT_FUNDED
            else:
                return Settlement(outcome=popup.presale_outcome, pledges_due=[])
            popup.presale_settled_at = now
            popup.save(update_fields=["presale_outcome", "presale_settled_at", "updated_at"])
    if popup.presale_outcome == PopUp.Outcome.NOT_FUNDED:
        cancelled = 0
        for pledge_id in popup.pledges.filter(status__in=Pledge.ACTIVE).values_list(
            "pk", flat=True
        ):
            cancelled += pledge_goal_missed(pledge_id=pledge_id)
        return Settlement(
            outcome=popup.presale_outcome, pledges_due=[], pledges_cancelled=cancelled
        )
    with transaction.atomic():
        due = list(
            _due(popup, now)
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Pledge.objects.filter(pk__in=due).update(charge_queued_until=now + QUEUE_GRACE)
    return Settlement(outcome=popup.presale_outcome, pledges_due=due)


def presale_settle_by_id(*, popup_id: int, early: bool = False) -> list[int]:
    """presale_settle for the pop-up with this id (none: nothing to do); the pledges due now."""
    popup = PopUp.objects.filter(pk=popup_id).first()
    if popup is None:
        return []
    return presale_settle(popup=popup, early=early).pledges_due


def pledge_goal_missed(*, pledge_id: int) -> int:
    """Cancel a pledge of a pre-sale that missed its goal; 1 if it was cancelled now, else 0."""
    with transaction.atomic():
        pledge = _locked(pledge_id)
        if not pledge.is_active:
            return 0
        if pledge.status == Pledge.Status.CHARGING:
            # Cannot happen for a campaign never funded; never cancel what may be being charged.
            logger.error("Pledge %s is charging in a pre-sale that was not funded", pledge.pk)
            return 0
        _cancel(pledge, gettext_noop("The pre-sale did not reach its goal: nothing charged."))
        task_queue_on_commit(pledge_email_send, pledge.pk, "not_funded")
    return 1


def pledge_charge(
    *, pledge_id: int, now: datetime | None = None, backer_present: bool = False
) -> Pledge:
    """Charge the pledge's saved card and make its Oscar order: at most once, whatever happens.

    Idle when the pledge is settled, is being charged by someone else, or waits for a retry (unless
    `backer_present`: the backer is paying from the recovery link, and may pass 3-D Secure there).
    """
    now = now or timezone.now()
    with transaction.atomic():
        pledge = _locked(pledge_id)
        if pledge.popup.presale_outcome != PopUp.Outcome.FUNDED:
            return pledge
        resuming = pledge.status == Pledge.Status.CHARGING
        if resuming and pledge.charging_until > now:
            return pledge  # another worker, or the backer, is on it
        waiting = pledge.status in (Pledge.Status.FAILED, Pledge.Status.RETRYING)
        if waiting and not backer_present and pledge.next_retry_at > now:
            return pledge
        if not (resuming or waiting or pledge.status == Pledge.Status.PLEDGED):
            return pledge  # paid, dropped or cancelled
        lease = BACKER_LEASE if backer_present else CHARGE_LEASE
        if resuming:
            _move(
                pledge,
                Pledge.Status.CHARGING,
                gettext_noop("Charge resumed"),
                charging_until=now + lease,
            )
        else:
            _move(
                pledge,
                Pledge.Status.CHARGING,
                gettext_noop("Charging, attempt %(n)d"),
                {"n": pledge.attempts + 1},
                attempts=pledge.attempts + 1,
                payment_intent_id="",
                charging_until=now + lease,
            )
    # Saved: from here a dead process leaves a `charging` pledge that the next run finishes.
    try:
        intent = _charge_intent(pledge, backer_present=backer_present)
    except PaymentError as error:
        # Stripe unreachable: the lease runs out and a later run asks Stripe what happened.
        logger.warning("Pledge %s: Stripe unavailable (%s)", pledge.pk, error)
        return pledge
    return pledge_charge_outcome(
        pledge_id=pledge.pk, payment_intent=intent, backer_present=backer_present, now=now
    )


def _charge_intent(pledge: Pledge, *, backer_present: bool) -> Payment:
    gateway = payment_gateway()
    if pledge.payment_intent_id:
        payment = gateway.retrieve(payment_id=pledge.payment_intent_id)
    else:
        payment = gateway.charge_saved(
            amount=pledge.amount,
            currency=pledge.currency,
            customer=pledge.stripe_customer_id,
            payment_method=pledge.payment_method_id,
            idempotency_key=f"popup-pledge-{pledge.pk}-attempt-{pledge.attempts}",
            metadata={**_metadata(pledge), "attempt": str(pledge.attempts)},
        )
        updated = Pledge.objects.filter(
            pk=pledge.pk, status=Pledge.Status.CHARGING, attempts=pledge.attempts
        ).update(payment_intent_id=payment.id)
        if not updated:
            raise PaymentError(f"Pledge {pledge.pk} moved on while it was being charged.")
        pledge.payment_intent_id = payment.id
    if payment.status == "requires_confirmation":
        payment = gateway.charge_confirm(payment_id=payment.id, off_session=not backer_present)
    if payment.needs_authentication and not backer_present:
        # Nobody is there to pass the bank's challenge (off session, or a backer who left it):
        # cancel it, so it cannot go through after the pledge is marked failed.
        payment = gateway.charge_abandon(payment_id=payment.id)
    return payment


def pledge_charge_outcome(
    *,
    pledge_id: int,
    payment_intent: Payment,
    backer_present: bool = False,
    now: datetime | None = None,
) -> Pledge:
    """Record what Stripe says of the pledge's charge: paid (and its order), failed, or pending."""
    now = now or timezone.now()
    with transaction.atomic():
        pledge = _locked(pledge_id)
        if pledge.status != Pledge.Status.CHARGING or pledge.payment_intent_id != payment_intent.id:
            return pledge  # recorded already, by whoever got here first
        if payment_intent.is_paid:
            order = _order_from_pledge(pledge, payment_intent)
            _move(
                pledge,
                Pledge.Status.PAID,
                gettext_noop("Paid: order %(number)s"),
                {"number": str(order.number)},
                order=order,
                paid_at=now,
                charging_until=None,
                next_retry_at=None,
                failure_code="",
                failure_message="",
            )
            return pledge
        if payment_intent.needs_authentication and backer_present:
            return pledge  # the backer is about to pass their bank's 3-D Secure challenge
        if payment_intent.status in ("processing", "requires_capture"):
            return pledge  # not final: the lease runs out and a later run looks again
        _failed(pledge, payment_intent, now)
    return pledge


def _failed(pledge: Pledge, payment: Payment, now: datetime) -> None:
    # Kept in English, the message's msgid, on the pledge and as its event's note: the pledge page
    # and the e-mails, read days later and perhaps in another language than this run's, say it in
    # their reader's language.
    with translation.override(None):
        code, message = payment_gateway().failure(payment)
    first_failed_at = pledge.first_failed_at or now
    retries = [first_failed_at + timedelta(days=days) for days in RETRY_DAYS]
    next_retry_at = next((moment for moment in retries if moment > now), None)
    if next_retry_at is None:
        _release_units(pledge)
        _move(
            pledge,
            Pledge.Status.DROPPED,
            message,  # its status says it was the last retry; its code is kept below
            charging_until=None,
            next_retry_at=None,
            failure_code=code,
            failure_message=message[:255],
        )
        task_queue_on_commit(pledge_email_send, pledge.pk, "dropped")
        return
    status = Pledge.Status.FAILED if pledge.first_failed_at is None else Pledge.Status.RETRYING
    _move(
        pledge,
        status,
        message,
        first_failed_at=first_failed_at,
        next_retry_at=next_retry_at,
        charging_until=None,
        failure_code=code,
        failure_message=message[:255],
    )
    task_queue_on_commit(pledge_email_send, pledge.pk, "failed")


def _order_from_pledge(pledge: Pledge, payment: Payment) -> "Order":
    """The Oscar order of a paid pledge, at the prices and shipping the backer agreed to."""
    strategy = Selector().strategy()
    lines = list(pledge.lines.select_related("terms__product").order_by("terms_id"))
    oscar_basket = oscar_basket_priced(
        [(line.terms.product, line.quantity, line.unit_price) for line in lines], strategy=strategy
    )
    shipping = FixedPrice(pledge.shipping_charge, pledge.shipping_charge)
    shipping.name = _("Shipping")
    charge = shipping.calculate(oscar_basket)
    quote = Quote(
        basket=oscar_basket,
        shipping_method=shipping,
        shipping_charge=charge,
        total=OrderTotalCalculator().calculate(oscar_basket, charge),
    )
    return order_place(
        quote=quote,
        details=ShopperDetails(email=pledge.email, **pledge.shipping),
        popup=pledge.popup,
        payment=payment,
        paid=True,
        basket=pledge.basket if pledge.basket_id else None,
    )


# The backer's recovery link: pay now, on session ------------------------------------------------


def pledge_pay(*, pledge: Pledge) -> tuple[Pledge, Payment | None]:
    """Charge a failed pledge's card now, with the backer there to pass 3-D Secure if asked.

    Returns the pledge and, while it is being charged, its PaymentIntent (requires_action: the
    browser runs the bank's challenge, then calls pledge_pay_complete).
    """
    if not pledge.needs_backer:
        raise CheckoutRefused(_("This pledge has nothing to pay."), code="done")
    pledge = pledge_charge(pledge_id=pledge.pk, backer_present=True)
    if pledge.status != Pledge.Status.CHARGING or not pledge.payment_intent_id:
        return pledge, None
    return pledge, payment_gateway().retrieve(payment_id=pledge.payment_intent_id)


def pledge_pay_complete(*, pledge: Pledge, payment_intent_id: str) -> Pledge:
    """After the bank's challenge: what Stripe says of the PaymentIntent, never what the browser says."""
    intent = payment_gateway().retrieve(payment_id=payment_intent_id)
    if intent.metadata.get("popup_pledge") != str(pledge.pk):
        raise CheckoutRefused(_("We could not find this payment."), code="unknown")
    return pledge_charge_outcome(pledge_id=pledge.pk, payment_intent=intent, backer_present=True)


def pledge_charge_reported(*, pledge_id: int, payment_intent_id: str) -> Pledge | None:
    """Stripe's webhook says a pledge's charge went through or failed: record it now if nobody has.

    Spares the wait for a lease when the worker (or the backer's browser) that charged it is gone.
    Only a final answer from Stripe is recorded, and only for the PaymentIntent the pledge is on.
    """
    intent = payment_gateway().retrieve(payment_id=payment_intent_id)
    if intent.metadata.get("popup_pledge") != str(pledge_id):
        return None
    if not (intent.is_paid or intent.has_failed):
        return None
    return pledge_charge_outcome(pledge_id=pledge_id, payment_intent=intent)
