"""Verified reviews: a pop-up order's buyer is invited by e-mail after POPUP_REVIEW_REQUEST_DAYS,
reviews through the link (Oscar's own reviews and moderation), and the pop-up shows them."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from oscar.core.loading import get_model

from popup.checkout.services import checkout_pay
from popup.models import ReviewInvite, VerifiedReview
from popup.tasks import review_invites_send
from tests.integrations.stripe.support import card_token
from tests.popup.checkout.support import SHOPPER, basket_holding

Order = get_model("order", "Order")
ProductReview = get_model("reviews", "ProductReview")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("stripe_settings"),
    pytest.mark.usefixtures("france"),
]


def bought(localstripe, *, days_ago: float):
    basket = basket_holding(quantity=1)
    order = checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe)).order
    Order.objects.filter(pk=order.pk).update(date_placed=timezone.now() - timedelta(days=days_ago))
    mail.outbox.clear()
    return basket.popup, order


def review_link(email) -> str:
    return re.search(r"https?://[^/\s]+(/popup/review/\S+/)", email.body).group(1)


def test_a_buyer_is_invited_once_after_the_delay_and_reviews_as_a_verified_buyer(
    localstripe, client, settings
):
    settings.POPUP_REVIEW_REQUEST_DAYS = 7
    popup, order = bought(localstripe, days_ago=6)
    assert review_invites_send.delay().result == 0  # too early

    Order.objects.filter(pk=order.pk).update(
        date_placed=timezone.now() - timedelta(days=7, hours=1)
    )
    assert review_invites_send.delay().result == 1
    assert review_invites_send.delay().result == 0  # once
    (invitation,) = mail.outbox
    assert invitation.to == ["ada@example.com"] and popup.title in invitation.subject
    line = order.lines.get()

    link = review_link(invitation)
    page = client.get(link)
    assert page.status_code == 200 and line.title in page.content.decode()
    response = client.post(
        f"{link}{line.product_id}/",
        {"score": "5", "title": "Warm & soft", "body": "<b>Love</b> it", "name": "Ada"},
    )
    assert response.status_code == 302
    review = ProductReview.objects.get()
    assert (review.score, review.email, review.product_id) == (
        5,
        "ada@example.com",
        line.product_id,
    )
    assert VerifiedReview.objects.get().review == review
    assert "Thank you! You gave it 5 stars" in client.get(link).content.decode()

    again = client.post(f"{link}{line.product_id}/", {"score": "1", "title": "x", "body": "y"})
    assert again.status_code == 400 and "already reviewed" in again.content.decode()

    html = client.get(f"/popup/{popup.slug}/").content.decode()
    assert "What buyers say" in html and "Verified buyer" in html
    assert "Warm &amp; soft" in html and "&lt;b&gt;Love&lt;/b&gt; it" in html
    assert "★ 5.0" in html  # Oscar's own rating of the product


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"score": "6", "title": "t", "body": "b"}, "from 1 to 5 stars"),
        ({"score": "x", "title": "t", "body": "b"}, "from 1 to 5 stars"),
        ({"score": "4", "title": " ", "body": "b"}, "a title and a few words"),
        ({"score": "4", "title": "t" * 256, "body": "b"}, "shorten your review"),
        ({"score": "4", "title": "t", "body": "b", "aspect-quality": "9"}, "each aspect from 1"),
        ({"score": "4", "title": "t", "body": "b", "aspect-value": "x"}, "each aspect from 1"),
    ],
)
def test_bad_reviews_get_a_clear_error_and_store_nothing(localstripe, client, form, message):
    popup, order = bought(localstripe, days_ago=8)
    invite = ReviewInvite.objects.create(order=order, popup=popup)
    response = client.post(f"/popup/review/{invite.token}/{order.lines.get().product_id}/", form)
    assert response.status_code == 400 and message in response.content.decode()
    assert not ProductReview.objects.exists()


def test_a_refused_review_keeps_what_was_typed_and_says_why_beside_the_field(localstripe, client):
    popup, order = bought(localstripe, days_ago=8)
    invite = ReviewInvite.objects.create(order=order, popup=popup)
    form = {
        "score": "4",
        "title": "t" * 256,
        "body": "Soft & warm",
        "name": "Ada",
        "aspect-quality": "5",
    }
    response = client.post(f"/popup/review/{invite.token}/{order.lines.get().product_id}/", form)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'value="4" required checked' in html and '<option value="5" selected>' in html
    assert ">Soft &amp; warm</textarea>" in html and 'value="Ada"' in html
    title = html[html.index('name="title"') :].split(">")[0]
    assert 'aria-invalid="true"' in title and "autofocus" in title
    error_id = re.search(r'aria-describedby="([^"]+)"', title).group(1)
    assert f'id="{error_id}">Please shorten your review: up to 255 characters here.' in html


def test_only_products_of_the_order_can_be_reviewed_and_links_cannot_be_guessed(
    localstripe, client
):
    popup, order = bought(localstripe, days_ago=8)
    _other_popup, other_order = bought(localstripe, days_ago=8)
    invite = ReviewInvite.objects.create(order=order, popup=popup)
    stranger = other_order.lines.get().product_id
    response = client.post(
        f"/popup/review/{invite.token}/{stranger}/", {"score": "1", "title": "t", "body": "b"}
    )
    assert response.status_code == 400 and "not in your order" in response.content.decode()
    assert client.get("/popup/review/guess/").status_code == 404


def test_old_orders_are_not_invited_when_the_feature_arrives(localstripe, settings):
    settings.POPUP_REVIEW_REQUEST_DAYS = 7
    bought(localstripe, days_ago=90)
    assert review_invites_send.delay().result == 0


def test_aspects_are_optional_and_a_review_with_links_waits_for_moderation(
    localstripe, client, admin_client, settings
):
    settings.OSCAR_MODERATE_REVIEWS = False
    popup, order = bought(localstripe, days_ago=8)
    invite = ReviewInvite.objects.create(order=order, popup=popup)
    link = f"/popup/review/{invite.token}/"
    assert 'name="aspect-as_described"' in client.get(link).content.decode()
    product_id = order.lines.get().product_id
    form = {"score": "5", "title": "Great", "body": "Buy at http://a.example and www.b.example"}
    client.post(f"{link}{product_id}/", {**form, "aspect-quality": "4", "aspect-value": ""})

    verified = VerifiedReview.objects.select_related("review").get()
    assert (verified.quality, verified.value, verified.as_described) == (4, None, None)
    assert verified.review.status == ProductReview.FOR_MODERATION
    assert "Great" not in client.get(f"/popup/{popup.slug}/").content.decode()
    queue = admin_client.get("/dashboard/popups/questions/").content.decode()
    assert "1 verified review waits for moderation" in queue
    assert "/dashboard/reviews/?status=0" in queue
