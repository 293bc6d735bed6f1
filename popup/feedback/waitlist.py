"""Waitlists: a shopper asks to be told when a drop opens, or when a sold-out product is back.

Built on Oscar's ProductAlert, so the store's own back-in-stock e-mails (sent when a stock record
gets units again, see popup.receivers), Oscar's confirm and unsubscribe pages and its dashboard all
work with them. An address is confirmed before anything else is sent to it (double opt-in, as Oscar
does for anonymous alerts): nobody can sign someone else up for mail.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from popup.core.selectors import popup_storefront
from popup.feedback.shopper_input import Refused, email_or_none, ip_key, over_limit
from popup.models import AlertLanguage, Consent, PopUp, PopUpProduct
from popup.notifications.tasks import waitlist_confirmation_email_send, waitlist_opening_email_send
from popup.privacy.consent import consent_record
from popup.queueing import task_queue_on_commit

ProductAlert = get_model("customer", "ProductAlert")

# Sign-ups per client address and per e-mail address in a window: enough for a family sharing a
# connection, far too few for a script filling someone's inbox with confirmation requests.
SIGNUPS_PER_IP = 10
SIGNUPS_PER_EMAIL = 5


def waitlist_join(
    *, popup: PopUp, product_id: int, email: str, client_ip: str, now: datetime | None = None
) -> ProductAlert:
    """Put `email` on the waitlist of a product of the pop-up that cannot be bought yet or any more.

    The alert waits unconfirmed until the shopper follows the link in the confirmation e-mail.
    Signing up again returns the same alert and sends nothing. Raises Refused.
    """
    email = email_or_none(email)
    if email is None:
        raise Refused(_("Please enter a valid e-mail address."), code="email")
    terms = PopUpProduct.objects.filter(popup=popup, product_id=product_id).first()
    if terms is None:
        raise Refused(_("This product is not in this pop-up."), code="product", status=404)
    storefront = popup_storefront(popup=popup, now=now, priced=False)
    item = next((item for item in storefront.items if item.product.pk == product_id), None)
    waiting = storefront.state == PopUp.State.COMING_SOON or (
        storefront.state in (PopUp.State.LIVE, PopUp.State.SOLD_OUT)
        and item is not None
        and not item.is_available
    )
    if not waiting:
        raise Refused(
            _("This product can be bought now: no need to wait for it."), code="available"
        )
    if over_limit(f"popup-waitlist:ip:{ip_key(client_ip)}", SIGNUPS_PER_IP) or over_limit(
        f"popup-waitlist:email:{email.lower()}", SIGNUPS_PER_EMAIL
    ):
        raise Refused(
            _("Too many sign-ups from here. Please try again in an hour."),
            code="rate_limited",
            status=429,
        )
    with transaction.atomic():
        existing = (
            ProductAlert.objects.select_for_update()
            .filter(
                product_id=product_id,
                email__iexact=email,
                status__in=(ProductAlert.UNCONFIRMED, ProductAlert.ACTIVE),
            )
            .first()
        )
        if existing is not None:
            return existing
        alert = ProductAlert.objects.create(
            product_id=product_id, email=email, status=ProductAlert.UNCONFIRMED
        )
        AlertLanguage.objects.create(alert=alert)  # the one this sign-up is answered in
        consent_record(
            email=email,
            purpose=Consent.Purpose.WAITLIST,
            popup=popup,
            wording=_("E-mail me when it's available"),
            reference=f"productalert:{alert.pk}",
        )
        task_queue_on_commit(waitlist_confirmation_email_send, alert.pk)
    return alert


def popup_openings_announce(*, now: datetime | None = None) -> int:
    """Tell the waitlists of every pop-up that has opened since the last run; each pop-up once.

    Returns how many e-mails were queued. Each confirmed alert of the pop-up's products gets one,
    and is then closed, as Oscar closes a back-in-stock alert once it has been sent.
    """
    now = now or timezone.now()
    opened = PopUp.objects.filter(
        is_published=True, opens_at__lte=now, closes_at__gt=now, opening_announced_at__isnull=True
    )
    queued = 0
    for popup_id in opened.values_list("pk", flat=True):
        with transaction.atomic():
            popup = (
                PopUp.objects.select_for_update(skip_locked=True)
                .filter(pk=popup_id, opening_announced_at__isnull=True)
                .first()
            )
            if popup is None:
                continue  # another run has it
            popup.opening_announced_at = now
            popup.save(update_fields=["opening_announced_at", "updated_at"])
            alerts = ProductAlert.objects.filter(
                product__popup_terms__popup=popup, status=ProductAlert.ACTIVE
            ).values_list("pk", flat=True)
            for alert_id in alerts:
                task_queue_on_commit(waitlist_opening_email_send, alert_id, popup_id)
                queued += 1
    return queued
