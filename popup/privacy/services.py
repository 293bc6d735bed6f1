"""Erasing a shopper's data (GDPR art. 17): everything the plugin holds about an e-mail address is
deleted or made anonymous, in one transaction, except what the law or a contract under way needs.

What goes, what stays, and why:

- **Baskets** stay (the funnel and the placements' figures are read from them), without their
  address, its customer key, the shipping details and the client address's hash. Their units
  held, campaign and payment reference say nothing about anyone once nothing names the buyer.
- **Orders** placed through the plugin stay: accounting law keeps the sale for years (in France
  ten, Code de commerce art. L123-22). What an accountant or a tax return needs stays: the number,
  date, lines, prices, totals, tax, currency, payment references, status, and the country (and
  state) of the shipping address, which decides the VAT of a sale at a distance. What names or
  locates the buyer goes: the e-mail (replaced by an address of the reserved `.invalid` domain,
  as Oscar needs one to tell a guest's order from a deleted customer's, and which no mail server
  delivers), the names, street lines, city, postcode, phone and delivery notes, and the address
  wherever an order note quotes it. Invoices a store issues with the buyer's name are kept by its
  accounting, not here. The placeholder is the same for all the orders of one erasure, so a
  pre-sale still counts its backers right, and is random, so nothing leads back to the address.
- **Orders still in progress** (Oscar's OSCAR_ORDER_STATUS_PIPELINE lets their status move on) are
  a contract being performed: their address is needed to deliver them. The erasure is refused,
  naming them, until they are shipped or cancelled.
- **Pledges** not charged yet are withdrawn through `pledge_cancel`, as the backer could from their
  pledge page (someone who wants their data gone does not expect a card charged in a month for
  goods sent to an address the shop no longer has). A pledge being charged, waiting for a retry,
  or in a funded pre-sale is a purchase under way: the erasure is refused, naming it, until it is
  paid (then its order is minimised as above) or dropped. Pledges that ended stay, for the money
  audit and the pre-sale's figures, anonymous: no address, shipping details nor card label; their
  history (every step, for the audit) names nobody: its notes keep their figures, products and
  order numbers, not the card ("Card changed to …") nor any other text of the backer's.
- A **checkout paid minutes ago** may still become an order (a webhook, the settle task): while one
  of the address's baskets has a payment younger than the settle delay and the audit's margin,
  the erasure is refused.
- **Waitlist sign-ups** (Oscar's ProductAlerts), **votes** for ideas and in polls, unanswered
  **questions**, ideas and reviews that were never shown (hidden, spam, awaiting moderation),
  rate-limit counters, the consents recorded for them (nothing is done on them any more) and the
  records of e-mails' recipients are deleted (the e-mail records keep their message and date, so
  nothing is sent twice). Vote counts and the day's statistics stay:
  they count, they name nobody.
- What was **published** (answered questions, ideas on the board, approved reviews) stays on the
  pop-up, its author anonymous: no name, no address, and the address wherever the text quotes it.
- An **ambassador** who earned commission is a business partner whose payments accounting keeps:
  switched off, and kept. Any other ambassador is anonymised and switched off (their code and
  private link stop working).
- The payment provider's **webhook messages** about the address's payments are cut down to their
  id and type once processed. What the provider itself holds (customers, payments) is the
  store's to erase there: the export lists its references.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from popup.analytics.counters import redis_call
from popup.audit.checks import AUDIT_MARGIN
from popup.channels.placements import order_note_without_ad_click
from popup.checkout.services import settle_after
from popup.errors import Refusal
from popup.models import (
    Ambassador,
    Idea,
    Pledge,
    PledgeEvent,
    PopUpBasket,
    Question,
    new_ambassador_token,
)
from popup.presales.pledges import pledge_cancel
from popup.privacy.addresses import ERASED_TEXT, erased_address, text_without
from popup.privacy.selectors import ProductReview, ShopperRows, shopper_rows

# The kinds an erasure reports, in the order they are shown.
KINDS = (
    "baskets",
    "orders",
    "pledges",
    "pledges_cancelled",
    "waitlists",
    "questions",
    "ideas",
    "idea_votes",
    "poll_votes",
    "reviews",
    "ambassador",
    "consents",
    "emails_sent",
    "rate_limits",
    "payment_messages",
)


class ErasureRefused(Refusal):
    """The address's data are still needed for a purchase under way: nothing was erased."""

    status = 409

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(" ".join(reasons), "in_progress")
        self.reasons = reasons


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure did (or, `dry_run`, would do): rows deleted or anonymised, per kind, and
    rows kept because the law needs them (`kept`: an ambassador's paid commissions)."""

    email: str
    erased: dict[str, int]
    kept: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def total(self) -> int:
        return sum(self.erased.values())


def _still_needed(
    rows: ShopperRows, baskets: list[PopUpBasket], pledges: list[Pledge]
) -> list[str]:
    """Why the address's data cannot go yet, one sentence per purchase under way ([] if none)."""
    reasons = []
    for order in rows.orders:
        if order.available_statuses():
            reasons.append(
                _(
                    "Order %(number)s is still in progress (%(status)s): its address is needed "
                    "to deliver it. Erase once it is shipped or cancelled."
                )
                % {"number": order.number, "status": order.status}
            )
    for pledge in pledges:
        if pledge.is_active and not pledge.can_be_changed:
            reasons.append(
                _(
                    "The pledge %(pledge)s in “%(popup)s” is a purchase under way (%(status)s): "
                    "erase once it is paid or dropped."
                )
                % {
                    "pledge": pledge.pk,
                    "popup": pledge.popup.title,
                    "status": pledge.get_status_display(),
                }
            )
    paid_lately = timezone.now() - settle_after() - AUDIT_MARGIN
    for basket in baskets:
        if (
            basket.status == PopUpBasket.Status.OPEN
            and basket.payment_intent_id
            and basket.updated_at > paid_lately
        ):
            reasons.append(
                _("A payment in “%(popup)s” may still become an order: erase after %(time)s.")
                % {
                    "popup": basket.popup.title,
                    "time": timezone.localtime(
                        basket.updated_at + settle_after() + AUDIT_MARGIN
                    ).strftime("%H:%M"),
                }
            )
    if rows.payment_messages is not None:
        from integrations.stripe.webhooks import MAX_ATTEMPTS

        waiting = rows.payment_messages.filter(processed_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
        if waiting.exists():
            reasons.append(
                _(
                    "Messages from the payment provider about this address are still being "
                    "processed: try again in a few minutes."
                )
            )
    return reasons


def _orders_minimise(rows: ShopperRows, placeholder: str) -> int:
    """The shopper's orders keep their lines and totals, and name nobody: addresses emptied, the
    e-mail a placeholder, and notes without the shopper's addresses or ad click ids."""
    orders = list(rows.orders.select_related("shipping_address", "billing_address"))
    for order in orders:
        for address in (order.shipping_address, order.billing_address):
            if address is None:
                continue
            for name in ("title", "first_name", "last_name", "line1", "line2", "line3", "line4"):
                setattr(address, name, "")
            address.postcode = ""
            if hasattr(address, "phone_number"):
                address.phone_number = ""
            if hasattr(address, "notes"):
                address.notes = ""
            address.save()  # Oscar rebuilds its search text from what is left
        order.guest_email = placeholder
        order.save(update_fields=["guest_email"])
        for note in order.notes.all():
            message = order_note_without_ad_click(text_without(note.message, set(rows.addresses)))
            if message != note.message:
                note.message = message
                note.save(update_fields=["message", "date_updated"])
    return len(orders)


# The figures of a pledge's history that name nobody: its product, an order kept for the accounts.
# Any other text in it (the card: "Card changed to Visa •••• 4242") is the backer's, and goes.
PLEDGE_NOTE_ARGS_KEPT = frozenset({"title", "number"})


def pledge_history_scrub(*, pledges: QuerySet, addresses: set[str] = frozenset()) -> None:
    """The history of `pledges` keeps its steps and figures, and names nobody: texts other than a
    product or an order number become "…", and `addresses` go wherever a note quotes them."""

    def scrubbed(name: str, value):
        if not isinstance(value, str):
            return value  # a count: it names nobody
        return text_without(value, addresses) if name in PLEDGE_NOTE_ARGS_KEPT else ERASED_TEXT

    events = PledgeEvent.objects.filter(pledge__in=pledges.values("pk")).order_by("pk")
    for event in events:
        args = {name: scrubbed(name, value) for name, value in event.note_args.items()}
        note = text_without(event.note, addresses)
        if (args, note) != (event.note_args, event.note):
            event.note_args, event.note = args, note
            event.save(update_fields=["note_args", "note"])


def _published_keep(queryset, published, *, text_fields: tuple[str, ...], addresses) -> int:
    """Delete the unpublished rows; strip the author from the published ones."""
    count = queryset.exclude(published).count()
    queryset.exclude(published).delete()
    for row in queryset.filter(published):
        row.name, row.email = "", ""
        for name in text_fields:
            setattr(row, name, text_without(getattr(row, name), addresses))
        row.save(update_fields=["name", "email", *text_fields])
        count += 1
    return count


def _reviews_erase(rows: ShopperRows) -> int:
    count = 0
    with translation.override(settings.LANGUAGE_CODE):
        anonymous = _("A buyer")
    for review in rows.reviews:
        count += 1
        if review.status != ProductReview.APPROVED:
            review.delete()  # Oscar's delete: the product's rating follows
            continue
        review.name, review.email = anonymous, ""
        review.title = text_without(review.title, set(rows.addresses))
        review.body = text_without(review.body, set(rows.addresses))
        review.save()
    return count


def _ambassadors_erase(rows: ShopperRows) -> tuple[int, int]:
    """(anonymised, kept): one who earned commission is kept, switched off."""
    erased = kept = 0
    for ambassador in rows.ambassadors.select_for_update():
        if ambassador.commissions.exists():
            Ambassador.objects.filter(pk=ambassador.pk).update(is_active=False)
            kept += 1
            continue
        pseudonym = f"#{ambassador.pk}"
        for placement in ambassador.placements.all():
            placement.name = placement.name.replace(ambassador.name, pseudonym)[:80]
            placement.save(update_fields=["name"])
        Ambassador.objects.filter(pk=ambassador.pk).update(
            name=pseudonym,
            email=erased_address(),
            code=f"ERASED{ambassador.pk}",
            is_active=False,
            token=new_ambassador_token(),
        )
        erased += 1
    return erased, kept


def _payment_messages_cut(rows: ShopperRows) -> int:
    if rows.payment_messages is None:
        return 0
    count = 0
    for event in rows.payment_messages.select_for_update():
        thing = event.data_object
        event.payload = {
            "id": event.stripe_id,
            "type": event.type,
            "data": {"object": {"id": thing.get("id", ""), "object": thing.get("object", "")}},
            "erased": True,
        }
        event.last_error = ""
        event.save(update_fields=["payload", "last_error"])
        count += 1
    return count


def _erase(rows: ShopperRows) -> tuple[dict[str, int], dict[str, int]]:
    # Locked as checkout and pledges lock them (a basket before its pledge, each in key order), so
    # a checkout under way waits for the erasure, and the erasure for it.
    baskets = list(
        PopUpBasket.objects.select_for_update(of=("self",))
        .select_related("popup")
        .filter(pk__in=rows.baskets.values("pk"))
        .order_by("pk")
    )
    pledges = list(
        Pledge.objects.select_for_update(of=("self",))
        .select_related("popup")
        .filter(pk__in=rows.pledges.values("pk"))
        .order_by("pk")
    )
    reasons = _still_needed(rows, baskets, pledges)
    if reasons:
        raise ErasureRefused(reasons)
    addresses = set(rows.addresses)
    placeholder = erased_address()
    erased = dict.fromkeys(KINDS, 0)

    for pledge in pledges:
        if pledge.is_active:  # not charged yet: _still_needed refused every other
            pledge_cancel(pledge=pledge)
            erased["pledges_cancelled"] += 1
    erased["pledges"] = rows.pledges.update(
        email=placeholder, email_key="", shipping={}, card_label=""
    )
    pledge_history_scrub(pledges=rows.pledges, addresses=addresses)
    erased["baskets"] = rows.baskets.update(
        email="", email_key="", shipping={}, address_key="", ad_click={}
    )
    erased["orders"] = _orders_minimise(rows, placeholder)
    erased["waitlists"] = rows.alerts.count()
    rows.alerts.delete()  # their language beside them goes too (CASCADE)
    erased["questions"] = _published_keep(
        rows.questions,
        Q(status=Question.Status.PUBLISHED),
        text_fields=("body", "answer"),
        addresses=addresses,
    )
    erased["ideas"] = _published_keep(
        rows.ideas, Q(status__in=Idea.SHOWN), text_fields=("title", "body"), addresses=addresses
    )
    erased["idea_votes"], _kinds = rows.idea_votes.delete()
    erased["poll_votes"], _kinds = rows.poll_votes.delete()
    erased["reviews"] = _reviews_erase(rows)
    erased["ambassador"], kept_ambassadors = _ambassadors_erase(rows)
    erased["consents"], _kinds = rows.consents.delete()
    erased["emails_sent"] = rows.emails.update(to="", last_error="")
    erased["rate_limits"], _kinds = rows.rate_counters.delete()
    erased["rate_limits"] += len(rows.redis_keys)
    erased["payment_messages"] = _payment_messages_cut(rows)
    return erased, {"ambassador": kept_ambassadors} if kept_ambassadors else {}


def personal_data_erase(*, email: str, dry_run: bool = False) -> ErasureReport:
    """Delete or anonymise everything the plugin holds about `email`'s mailbox, in one transaction,
    keeping only what the law needs (see the module's docstring); safe to run again (then it
    erases nothing). Raises ErasureRefused, having changed nothing, while a purchase is under way.
    `dry_run` reports what it would erase and changes nothing."""
    with transaction.atomic():
        rows = shopper_rows(email=email)
        erased, kept = _erase(rows)
        if dry_run:
            transaction.set_rollback(True)
    if rows.redis_keys and not dry_run:
        redis_call(lambda connection: connection.delete(*rows.redis_keys))
    return ErasureReport(email=rows.email, erased=erased, kept=kept, dry_run=dry_run)
