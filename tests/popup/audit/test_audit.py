"""manage.py popup_audit: each promise about units, orders and payments, broken on purpose, is found."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model

from integrations.stripe import client as stripe_client
from popup.audit.checks import popup_audit
from popup.audit.runs import audit_run
from popup.checkout.services import checkout_pay
from popup.models import AuditRun, Pledge, PopUp, PopUpProduct
from popup.payments import payment_gateway
from tests.integrations.stripe.support import card_token
from tests.localstripe_server import localstripe_alone  # noqa: F401 - its own Stripe
from tests.popup.checkout.support import SHOPPER, basket_holding
from tests.popup.presales.support import all_or_nothing, pledge

Source = get_model("payment", "Source")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("stripe_settings", "france"),
]

LATER = timedelta(hours=1)


def bought(localstripe, **kwargs):
    basket = basket_holding(**kwargs)
    return checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe)).order


def authorised(localstripe, metadata):
    return payment_gateway().authorise(
        amount=Decimal("25.00"),
        currency="EUR",
        idempotency_key=f"audit-test-{metadata}",
        card_token=card_token(localstripe),
        metadata=metadata,
    )


def checks(report) -> list[str]:
    return [finding.check for finding in report.breaches]


def test_a_store_that_sold_correctly_passes_and_the_command_says_so(localstripe, capsys):
    bought(localstripe)
    call_command("popup_audit", "--grace-minutes", "0")
    assert "0 breaches, 0 notices, 1 payments checked." in capsys.readouterr().out
    assert AuditRun.objects.get().ok


def test_units_counted_sold_that_no_order_holds_fail_the_command(localstripe, capsys):
    order = bought(localstripe)
    PopUpProduct.objects.update(units_sold=3)  # 2 in the order

    with pytest.raises(CommandError) as failure:
        call_command("popup_audit")

    assert failure.value.returncode == 1
    assert "BREACH  units:" in capsys.readouterr().out
    assert "3 units counted sold, 2 in orders and pledges" in popup_audit().breaches[0].message
    assert order.lines.get().quantity == 2


def test_an_authorisation_neither_captured_nor_cancelled_is_found_once_its_grace_is_over(
    localstripe,
):
    basket = basket_holding()
    payment = authorised(localstripe, {"popup_basket": str(basket.pk)})

    assert checks(popup_audit()) == []  # it may still become an order
    later = popup_audit(now=timezone.now() + LATER)
    assert checks(later) == ["authorisation_hanging"]
    assert payment.id in later.breaches[0].message


def test_a_captured_payment_no_order_records_is_found(localstripe):
    basket = basket_holding()
    payment = authorised(localstripe, {"popup_basket": str(basket.pk)})
    stripe_client.payment_intent_capture(payment_intent_id=payment.id, idempotency_key="t-capture")

    assert checks(popup_audit()) == []  # its order may be on its way (a pledge's lease, say)
    assert checks(popup_audit(now=timezone.now() + LATER)) == ["paid_without_order"]


def test_an_order_whose_payment_was_never_captured_is_found(localstripe):
    order = bought(localstripe)
    Source.objects.filter(order=order).update(amount_debited=0)

    assert checks(popup_audit(now=timezone.now() + LATER)) == ["order_unpaid"]


def test_one_payment_recorded_on_two_orders_is_found(localstripe):
    first, second = bought(localstripe), bought(localstripe)
    Source.objects.filter(order=second).update(reference=first.sources.get().reference)

    assert "payment_shared" in checks(popup_audit())


def test_a_payment_of_another_part_of_the_store_is_not_the_audit_s_business(localstripe):
    authorised(localstripe, {"subscription": "42"})
    report = popup_audit(now=timezone.now() + LATER)
    assert (checks(report), report.payments_checked) == ([], 0)


def test_a_pledge_still_pledged_after_its_pre_sale_settled_is_found(localstripe):
    popup, candle = all_or_nothing()
    backer = pledge(popup, candle, localstripe)
    PopUp.objects.filter(pk=popup.pk).update(
        presale_outcome=PopUp.Outcome.FUNDED, presale_settled_at=timezone.now()
    )

    assert checks(popup_audit()) == []
    report = popup_audit(now=timezone.now() + LATER)
    assert checks(report) == ["pledge_unsettled"]
    assert f"Pledge {backer.pk} is still pledged" in report.breaches[0].message


def test_a_pledge_charged_twice_is_found(localstripe):
    popup, candle = all_or_nothing()
    backer = pledge(popup, candle, localstripe)
    for attempt in (1, 2):
        payment = authorised(localstripe, {"popup_pledge": str(backer.pk), "attempt": attempt})
        stripe_client.payment_intent_capture(
            payment_intent_id=payment.id, idempotency_key=f"t-capture-{attempt}"
        )

    assert "pledge_charged_twice" in checks(popup_audit())
    assert Pledge.objects.get().status == Pledge.Status.PLEDGED


def test_the_hourly_run_tells_the_admins_once_and_the_dashboard_until_a_clean_run(
    localstripe, settings, admin_client
):
    settings.ADMINS = [("Ops", "ops@example.com")]
    bought(localstripe)
    PopUpProduct.objects.update(units_sold=3)
    list_url = reverse("popup-dashboard:popup-list")

    audit_run()
    audit_run()  # the same problem an hour later: the banner stays, nobody is e-mailed again

    to_admins = [email for email in mail.outbox if email.to == ["ops@example.com"]]
    assert len(to_admins) == 1
    assert "3 units counted sold, 2 in orders and pledges" in to_admins[0].body
    page = admin_client.get(list_url).content.decode()
    assert 'id="popup_audit_banner"' in page
    assert "3 units counted sold" in page

    PopUpProduct.objects.update(units_sold=2)
    assert audit_run().ok
    assert 'id="popup_audit_banner"' not in admin_client.get(list_url).content.decode()


def test_an_audit_that_cannot_reach_the_payment_provider_says_so(settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    settings.ADMINS = [("Ops", "ops@example.com")]

    run = audit_run()

    assert not run.ok and run.error
    assert [email.to for email in mail.outbox] == [["ops@example.com"]]
    with pytest.raises(CommandError, match="could not run"):
        call_command("popup_audit")
