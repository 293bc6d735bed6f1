"""Waitlists on Oscar's product alerts: "notify me" on coming-soon drops and sold-out products,
confirmed by e-mail, announced once when the drop opens; bots and floods get nothing."""

import json
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone
from oscar.core.loading import get_model

from popup.feedback.waitlist import popup_openings_announce
from popup.models import PopUp, PopUpProduct
from tests.factories import popup_with_products

ProductAlert = get_model("customer", "ProductAlert")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()


def coming_soon(**kwargs):
    return popup_with_products(
        2, opens_at=timezone.now() + timedelta(days=1), closes_at=timezone.now() + timedelta(days=3)
    )


def join(client, popup, product_id, email="ada@example.com", **extra):
    body = {"product": product_id, "email": email, **extra}
    response = client.post(
        f"/popup/{popup.slug}/waitlist/", json.dumps(body), content_type="application/json"
    )
    return response, response.json()


def confirm(client, email) -> None:
    """Follow the confirmation link of the last e-mail, as the shopper does."""
    body = mail.outbox[-1].body
    path = re.search(r"https?://[^/\s]+(/accounts/alerts/confirm/\S+)", body).group(1)
    assert client.get(path).status_code in (200, 302)


def product_of(popup, number=0):
    return PopUpProduct.objects.filter(popup=popup).order_by("display_order")[number].product


def test_notify_me_on_a_coming_soon_drop_confirms_then_announces_the_opening_once(client):
    popup = coming_soon()
    product = product_of(popup)
    html = client.get(f"/popup/{popup.slug}/embed/").content.decode()
    assert "data-notify" in html and "Notify me" in html

    response, answer = join(client, popup, product.pk)
    assert response.status_code == 202
    assert "confirm your address" in answer["message"]
    alert = ProductAlert.objects.get()
    assert (alert.email, alert.product, alert.status) == ("ada@example.com", product, "Unconfirmed")
    (confirmation,) = mail.outbox
    assert product.get_title() in confirmation.subject
    assert popup.title in confirmation.body

    join(client, popup, product.pk)  # again: the same alert, no second e-mail
    assert ProductAlert.objects.count() == 1 and len(mail.outbox) == 1
    assert popup_openings_announce() == 0  # not open yet

    confirm(client, "ada@example.com")
    alert.refresh_from_db()
    assert alert.status == ProductAlert.ACTIVE
    PopUp.objects.filter(pk=popup.pk).update(opens_at=timezone.now() - timedelta(minutes=1))
    mail.outbox.clear()

    assert popup_openings_announce() == 1
    assert popup_openings_announce() == 0  # each pop-up is announced once
    (opened,) = mail.outbox
    assert opened.to == ["ada@example.com"]
    assert f"{popup.title} is open" in opened.subject
    assert f"/popup/{popup.slug}/" in opened.body
    alert.refresh_from_db()
    assert alert.status == ProductAlert.CLOSED


def test_an_unconfirmed_address_is_never_announced_to(client):
    popup = coming_soon()
    join(client, popup, product_of(popup).pk, email="victim@example.com")
    PopUp.objects.filter(pk=popup.pk).update(opens_at=timezone.now() - timedelta(minutes=1))
    mail.outbox.clear()
    assert popup_openings_announce() == 0
    assert mail.outbox == []


def test_notify_me_on_a_sold_out_product_of_a_live_drop_only(client):
    popup = popup_with_products(2, units_offered=1)
    sold_out, available = product_of(popup, 0), product_of(popup, 1)
    PopUpProduct.objects.filter(popup=popup, product=sold_out).update(units_sold=1)

    html = client.get(f"/popup/{popup.slug}/").content.decode()
    # Every card has the form, hidden: the scripts show it where nothing can be bought now (the
    # card marked out, from the live figures as they change).
    assert html.count('class="notify" data-notify hidden') == 2
    assert html.count('class="product product--out"') == 1
    assert f'class="product product--out" data-product="{sold_out.pk}"' in html
    response, _answer = join(client, popup, sold_out.pk)
    assert response.status_code == 202
    response, answer = join(client, popup, available.pk)
    assert response.status_code == 400 and "can be bought now" in answer["error"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"email": "not-an-email"}, 400, "valid e-mail address"),
        ({"email": "a" * 250 + "@example.com"}, 400, "valid e-mail address"),
        ({"email": None}, 400, "enter your e-mail address"),
        ({"product": "1"}, 400, "whole number"),
        ({"product": 999999}, 404, "not in this pop-up"),
    ],
)
def test_bad_sign_ups_get_a_clear_error_and_store_nothing(client, body, status, message):
    popup = coming_soon()
    response, answer = join(client, popup, **{"product_id": product_of(popup).pk, **body})
    assert response.status_code == status
    assert message in answer["error"]
    assert not ProductAlert.objects.exists()


def test_a_bot_filling_the_hidden_field_is_thanked_and_ignored(client):
    popup = coming_soon()
    response, answer = join(client, popup, product_of(popup).pk, website="http://spam.example")
    assert response.status_code == 202 and "confirm" in answer["message"]
    assert not ProductAlert.objects.exists() and mail.outbox == []


def test_a_flood_of_sign_ups_is_slowed_down(client):
    popup = coming_soon()
    product = product_of(popup)
    statuses = [
        join(client, popup, product.pk, email=f"x{n}@example.com")[0].status_code for n in range(12)
    ]
    assert statuses == [202] * 10 + [429] * 2  # per client address
    _response, answer = join(client, popup, product.pk, email="late@example.com")
    assert "try again in an hour" in answer["error"]
    assert ProductAlert.objects.count() == 10


def test_shopper_text_in_a_sign_up_never_reaches_a_page_as_markup(client, admin_client):
    popup = coming_soon()
    sly = '"<script>alert(1)</script>"@example.com'  # a valid address, quoted local part
    response, _answer = join(client, popup, product_of(popup).pk, email=sly)
    assert response.status_code == 202
    staff_page = admin_client.get("/dashboard/users/alerts/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in staff_page
    assert "<script>alert(1)</script>" not in staff_page
