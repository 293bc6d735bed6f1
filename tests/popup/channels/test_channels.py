"""Channels: placements with short links and first-party attribution, ambassadors with codes,
discounts and commissions, unlock codes for event-only pop-ups and prices, shipping countries,
message and share links."""

import json
import threading
from decimal import Decimal
from urllib.parse import quote_plus

import pytest
from django.core import mail
from django.db import connection
from oscar.core.loading import get_model

from integrations.stripe import client as stripe_client
from integrations.stripe import facade
from popup.analytics.stats import stats_flush
from popup.channels.placements import (
    ambassador_invite,
    basket_attribute,
    basket_checkout_mark,
    commissions_mark_paid,
    placement_create,
)
from popup.channels.selectors import channel_figures
from popup.checkout.services import CheckoutRefused, checkout_pay
from popup.core.holds import hold_set
from popup.feedback.shopper_input import Refused
from popup.models import Ambassador, Commission, Placement, PopUpBasket, PopUpDayStats
from tests.integrations.stripe.support import THREE_D_SECURE, card_token
from tests.popup.checkout.support import SHOPPER, basket_holding, live

OrderNote = get_model("order", "OrderNote")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("stripe_settings"),
    pytest.mark.usefixtures("france"),
]


def new_basket(client, popup, **body) -> PopUpBasket:
    response = client.post(
        f"/popup/{popup.slug}/basket/new/", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    return PopUpBasket.objects.get(token=response.json()["basket"]["token"])


def test_a_short_link_counts_the_click_and_lands_on_the_pop_up_with_its_placement(client):
    popup = basket_holding().popup
    placement = placement_create(popup=popup, name="Instagram bio")

    response = client.get(f"/popup/p/{placement.code}/?utm_source=instagram&pl=forged")

    assert response.status_code == 302
    assert response["Location"] == (
        f"/popup/{popup.slug}/?utm_source=instagram&pl={placement.code}"
    )
    landing = client.get(response["Location"])
    assert landing.status_code == 200
    assert placement.code not in landing.content.decode()  # the page is the same for everyone
    # Its script asks the live call with the page's own query: that counts the view, once.
    arrival = live(client, popup, response["Location"].split("?")[1]).json()["arrival"]
    assert arrival["placement"] == placement.code
    assert arrival["utm"] == {"source": "instagram"}  # for basket.js
    # Shared onwards, the link still carries the placement.
    assert arrival["links"]["share"] == f"http://testserver/popup/p/{placement.code}/"
    assert arrival["landing_query"] == f"?utm_source=instagram&pl={placement.code}"
    live(client, popup, response["Location"].split("?")[1], view="")  # a later poll: not a view
    stats_flush()
    placement.refresh_from_db()
    assert (placement.clicks, placement.views) == (1, 1)


def test_a_short_link_switched_off_still_opens_its_pop_up_but_attributes_nothing(client):
    popup = basket_holding().popup
    placement = placement_create(popup=popup, name="Old flyer")
    Placement.objects.filter(pk=placement.pk).update(is_active=False)

    response = client.get(f"/popup/p/{placement.code}/")

    assert response["Location"] == f"/popup/{popup.slug}/"
    stats_flush()
    placement.refresh_from_db()
    assert placement.clicks == 0
    assert client.get("/popup/p/nosuchcode/").status_code == 404


def test_a_short_link_to_a_draft_is_a_404(client):
    popup = basket_holding().popup
    placement = placement_create(popup=popup, name="Teaser")
    popup.is_published = False
    popup.save()
    assert client.get(f"/popup/p/{placement.code}/").status_code == 404


def test_the_placement_and_utm_travel_into_stripe_and_onto_the_order(localstripe, client):
    held = basket_holding(units=5, quantity=2)
    popup = held.popup
    placement = placement_create(popup=popup, name="Facebook post 12 May")
    basket = new_basket(
        client,
        popup,
        placement=placement.code,
        utm={"source": "facebook", "campaign": "may", "evil": "x", "medium": 3},
    )
    assert basket.placement == placement
    assert basket.utm == {"source": "facebook", "campaign": "may"}  # unknown keys, non-text dropped
    hold_set(basket=basket, product_id=held.holds.get().terms.product_id, quantity=1)

    step = checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe))

    intent = stripe_client.payment_intent_retrieve(payment_intent_id=step.payment_intent_id)
    assert intent.metadata["popup_placement"] == placement.code
    assert intent.metadata["popup_placement_name"] == "Facebook post 12 May"
    assert intent.metadata["utm_source"] == "facebook"
    note = OrderNote.objects.get(order=step.order).message
    assert f"Placement: Facebook post 12 May ({placement.code})." in note
    assert "utm_campaign=may, utm_source=facebook" in note
    figures = channel_figures(by="placement", ids=[placement.pk])[placement.pk]
    assert (figures.baskets, figures.orders, figures.units) == (1, 1, 1)
    assert figures.revenue == Decimal("25.00")


def test_a_returning_basket_follows_the_last_placement_until_its_checkout_starts(client):
    basket = basket_holding()
    first = placement_create(popup=basket.popup, name="Newsletter")
    second = placement_create(popup=basket.popup, name="Story")

    assert basket_attribute(basket=basket, placement_code=first.code)
    assert basket_attribute(basket=basket, placement_code=second.code)
    assert basket_checkout_mark(basket=basket)
    assert not basket_attribute(basket=basket, placement_code=first.code)
    basket.refresh_from_db()
    assert basket.placement == second
    # Another pop-up's placement, or a made-up code, changes nothing.
    other = placement_create(popup=basket_holding().popup, name="Elsewhere")
    fresh = basket_holding()
    assert not basket_attribute(basket=fresh, placement_code=other.code)
    assert not basket_attribute(basket=fresh, placement_code="x" * 500)


def test_a_checkout_page_reloaded_counts_one_checkout(client):
    basket = basket_holding()
    placement = placement_create(popup=basket.popup, name="Bio")
    basket_attribute(basket=basket, placement_code=placement.code)

    for _ in range(3):
        assert client.get(f"/popup/checkout/{basket.token}/").status_code == 200

    stats_flush()
    assert PopUpDayStats.objects.get(popup=basket.popup).checkouts == 1
    assert channel_figures(by="placement", ids=[placement.pk])[placement.pk].checkouts == 1


def test_paying_through_the_api_alone_freezes_the_attribution_and_counts_the_checkout(localstripe):
    basket = basket_holding()
    first = placement_create(popup=basket.popup, name="Newsletter")
    second = placement_create(popup=basket.popup, name="Story")
    basket_attribute(basket=basket, placement_code=first.code)

    # The card waits for 3-D Secure: the payment has started, no checkout page was ever loaded.
    checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe, THREE_D_SECURE))

    assert not basket_attribute(basket=basket, placement_code=second.code)
    basket.refresh_from_db()
    assert basket.placement == first and basket.checkout_at is not None
    stats_flush()
    assert PopUpDayStats.objects.get(popup=basket.popup).checkouts == 1


def test_checkouts_marked_from_many_threads_at_once_count_once():
    basket = basket_holding()
    start = threading.Barrier(8)
    firsts = []

    def mark():
        start.wait()
        try:
            firsts.append(basket_checkout_mark(basket=PopUpBasket.objects.get(pk=basket.pk)))
        finally:
            connection.close()

    threads = [threading.Thread(target=mark) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(firsts) == [False] * 7 + [True]


def test_an_invited_ambassador_gets_a_link_a_code_and_a_private_page(client, admin_client):
    popup = basket_holding().popup

    placement = ambassador_invite(
        popup=popup,
        name="Sophie Martin",
        email="sophie@example.com",
        kind=Ambassador.Kind.RESELLER,
        discount_percent=Decimal("10"),
        commission_percent=Decimal("12.5"),
    )

    ambassador = placement.ambassador
    assert ambassador.code == "SOPHIEMARTIN"
    [message] = mail.outbox
    assert message.to == ["sophie@example.com"]
    assert f"/popup/p/{placement.code}/" in message.body
    assert f"/popup/ambassador/{ambassador.token}/" in message.body
    assert "SOPHIEMARTIN" in message.body and "10% off" in message.body
    page = client.get(f"/popup/ambassador/{ambassador.token}/")
    assert page.status_code == 200
    assert page["Referrer-Policy"] == "no-referrer"
    assert f"data-placement=&quot;{placement.code}&quot;" in page.content.decode()  # the snippet
    wrong = ambassador.token[:-1] + ("A" if ambassador.token[-1] != "A" else "B")
    assert client.get(f"/popup/ambassador/{wrong}/").status_code == 404
    assert client.get("/popup/ambassador/x/").status_code == 404
    # Invited again, for the same pop-up: the same placement, still one ambassador.
    again = ambassador_invite(popup=popup, name="Sophie", email="SOPHIE@example.com")
    assert again == placement and Ambassador.objects.count() == 1
    with pytest.raises(Refused):
        ambassador_invite(popup=popup, name="Other", email="other@example.com", code="SOPHIEMARTIN")
    with pytest.raises(Refused):
        ambassador_invite(popup=popup, name="Bad", email="not an address")


def test_an_ambassador_code_discounts_the_basket_and_earns_commission(localstripe, client):
    held = basket_holding(units=5, quantity=1, price=Decimal("25.00"))
    popup = held.popup
    placement = ambassador_invite(
        popup=popup,
        name="Leo",
        email="leo@example.com",
        code="LEO10",
        discount_percent=Decimal("10"),
        commission_percent=Decimal("20"),
    )
    arrival = live(client, popup, "code=leo10").json()["arrival"]
    assert arrival["notices"] == ["Leo's code LEO10: 10% off, applied in your basket."]
    assert arrival["placement"] == placement.code
    basket = new_basket(client, popup, placement=placement.code)
    hold_set(basket=basket, product_id=held.holds.get().terms.product_id, quantity=3)
    detail = client.get(f"/popup/{popup.slug}/basket/", HTTP_X_POPUP_BASKET=basket.token).json()[
        "basket"
    ]
    assert (detail["lines"][0]["unit_price"], detail["total"]) == ("22.50", "67.50")

    order = checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe)).order

    assert order.total_incl_tax == Decimal("67.50")
    commission = Commission.objects.get(order=order)
    assert (commission.ambassador, commission.basis) == (placement.ambassador, Decimal("67.50"))
    assert commission.amount == Decimal("13.50")
    page = client.get(placement.ambassador.get_absolute_url()).content.decode()
    assert "<td data-orders>1</td>" in page and "<td data-due>€13.50</td>" in page
    # One of the three scarves comes back: its commission is withdrawn, once, however it is told.
    facade.payment_refund(order=order, amount=Decimal("22.50"), refund_key="one-scarf")
    facade.payment_refund(order=order, amount=Decimal("22.50"), refund_key="one-scarf")
    commission.refresh_from_db()
    assert (commission.refunded, commission.earned) == (Decimal("4.50"), Decimal("9.00"))
    assert commissions_mark_paid(ambassador=placement.ambassador, reference="SEPA 42") == (
        1,
        Decimal("9.00"),
    )
    assert commissions_mark_paid(ambassador=placement.ambassador) == (0, Decimal("0"))
    figures = channel_figures(by="ambassador", ids=[placement.ambassador_id])
    assert figures[placement.ambassador_id].commission_paid == Decimal("9.00")
    assert figures[placement.ambassador_id].commission_due == Decimal("0.00")
    # A refund after the payout leaves the paid commission as it was.
    facade.payment_refund(order=order, refund_key="the-rest")
    assert Commission.objects.get(order=order).refunded == Decimal("4.50")


def test_the_dashboard_lists_ambassadors_with_their_csv_and_marks_them_paid(
    localstripe, admin_client
):
    held = basket_holding(units=5, quantity=2, price=Decimal("25.00"))
    placement = ambassador_invite(popup=held.popup, name="Ana", email="ana@example.com", code="ANA")
    basket_attribute(basket=held, placement_code=placement.code)
    checkout_pay(basket=held, details=SHOPPER, card_token=card_token(localstripe))

    page = admin_client.get("/dashboard/popups/ambassadors/").content.decode()
    assert "Ana" in page and "5.00" in page  # 10% of 50.00, due
    csv = b"".join(admin_client.get("/dashboard/popups/ambassadors/?format=csv").streaming_content)
    header, row = csv.decode("utf-8-sig").splitlines()  # a BOM first, for Excel
    assert header.startswith("ambassador,email,kind,code")
    assert row.split(",")[:4] == ["Ana", "ana@example.com", "fan", "ANA"]
    assert row.split(",")[10:16] == ["1", "2", "50.00", "5.00", "0.00", "5.00"]

    response = admin_client.post(
        f"/dashboard/popups/ambassadors/{placement.ambassador_id}/paid/", {"reference": "TX1"}
    )
    assert response.status_code == 302
    assert Commission.objects.get().paid_reference == "TX1"


def test_a_placement_may_say_where_it_sits_for_the_way_back_after_paying(admin_client):
    popup = basket_holding().popup
    url = f"/dashboard/popups/{popup.pk}/placements/"
    admin_client.post(url, {"name": "Bio", "landing_url": "www.instagram.com/atelier.nord"})
    assert Placement.objects.get().landing_url == "https://www.instagram.com/atelier.nord"
    page = admin_client.get(f"/dashboard/popups/{popup.pk}/").content.decode()
    assert 'href="https://www.instagram.com/atelier.nord"' in page

    refused = admin_client.post(url, {"name": "Post", "landing_url": "not an address"}, follow=True)
    assert "must be a whole web address" in refused.content.decode()
    assert Placement.objects.count() == 1


def test_the_dashboard_makes_placements_and_shows_their_figures(admin_client):
    popup = basket_holding().popup
    response = admin_client.post(f"/dashboard/popups/{popup.pk}/placements/", {"name": "Bio"})
    assert response.status_code == 302
    placement = Placement.objects.get(popup=popup)
    page = admin_client.get(f"/dashboard/popups/{popup.pk}/").content.decode()
    assert f'data-placement="{placement.code}"' in page
    assert f"http://testserver/popup/p/{placement.code}/" in page
    csv = admin_client.get(f"/dashboard/popups/{popup.pk}/placements.csv")
    header, row = b"".join(csv.streaming_content).decode("utf-8-sig").splitlines()
    assert header.startswith("placement,code,short_link,ambassador,active,clicks")
    assert row.startswith(f"Bio,{placement.code},http://testserver/popup/p/{placement.code}/,,yes,")
    admin_client.post(f"/dashboard/popups/{popup.pk}/placements/{placement.pk}/toggle/")
    placement.refresh_from_db()
    assert not placement.is_active
    invite = admin_client.post(
        f"/dashboard/popups/{popup.pk}/ambassadors/invite/",
        {
            "name": "Zoe",
            "email": "zoe@example.com",
            "kind": "fan",
            "code": "",
            "discount_percent": "5",
            "commission_percent": "10",
        },
    )
    assert invite.status_code == 302
    assert Ambassador.objects.get().code == "ZOE"


def test_an_event_only_pop_up_opens_with_its_code_and_sells_at_event_prices(client):
    held = basket_holding(units=5, quantity=1, price=Decimal("25.00"))
    popup = held.popup
    popup.unlock_code = "GALA2026"
    popup.event_only = True
    popup.save()
    popup.product_terms.update(event_price=Decimal("19.00"))

    locked = client.get(f"/popup/{popup.slug}/")
    assert locked.status_code == 200
    assert "opens with a code" in locked.content.decode()
    assert popup.title not in locked.content.decode()
    assert client.get(f"/popup/{popup.slug}/?code=WRONG").status_code == 403
    assert client.post(f"/popup/{popup.slug}/basket/new/").status_code == 404
    assert client.get(f"/popup/{popup.slug}/share.png").status_code == 404

    page = client.get(f"/popup/{popup.slug}/?code=gala2026")
    assert "19.00" in page.content.decode() and page["Cache-Control"] == "no-cache"
    assert live(client, popup).status_code == 404  # the figures too are for code holders
    arrival = live(client, popup, "code=gala2026").json()["arrival"]
    assert arrival["notices"] == ["Event prices unlocked."]
    assert arrival["prices"] == {
        str(held.holds.get().terms.product_id): {"price": "€19.00", "label": "Event price"}
    }
    basket = new_basket(client, popup, unlock="gala2026")
    assert basket.unlocked
    hold_set(basket=basket, product_id=held.holds.get().terms.product_id, quantity=2)
    detail = client.get(f"/popup/{popup.slug}/basket/", HTTP_X_POPUP_BASKET=basket.token)
    assert detail.json()["basket"]["total"] == "38.00"
    # A basket made without the code cannot be used in the event-only pop-up.
    PopUpBasket.objects.filter(pk=basket.pk).update(unlocked=False)
    assert (
        client.get(f"/popup/{popup.slug}/basket/", HTTP_X_POPUP_BASKET=basket.token).status_code
        == 404
    )


def test_guessing_unlock_codes_is_cut_off_but_a_crowd_with_the_right_code_is_not(client):
    popup = basket_holding().popup
    popup.unlock_code = "SECRET"
    popup.event_only = True
    popup.save()
    for _guest in range(40):  # one event's Wi-Fi, one address: right codes are never counted
        assert client.get(f"/popup/{popup.slug}/?code=secret").status_code == 200
    for attempt in range(15):
        assert client.get(f"/popup/{popup.slug}/?code=GUESS{attempt}").status_code == 403
    for attempt in range(15):  # the API's wrong codes count too
        response = client.post(
            f"/popup/{popup.slug}/basket/new/",
            json.dumps({"unlock": f"API{attempt}"}),
            content_type="application/json",
        )
        assert response.status_code == 404
    # Past 30 wrong codes in the hour, even the right one is refused from that address.
    assert client.get(f"/popup/{popup.slug}/?code=SECRET").status_code == 403
    assert (
        client.post(
            f"/popup/{popup.slug}/basket/new/",
            json.dumps({"unlock": "SECRET"}),
            content_type="application/json",
        ).status_code
        == 404
    )
    elsewhere = client.get(f"/popup/{popup.slug}/?code=SECRET", REMOTE_ADDR="198.51.100.7")
    assert elsewhere.status_code == 200


def test_one_wrong_code_reloaded_is_one_try_and_a_code_beyond_ascii_no_error(client):
    popup = basket_holding().popup
    popup.unlock_code = "SECRET"
    popup.event_only = True
    popup.save()
    for _reload in range(35):  # a shopper reloading the page their typo is in
        assert client.get(f"/popup/{popup.slug}/?code=SECERT").status_code == 403
    assert client.get(f"/popup/{popup.slug}/?code=%C3%89T%C3%89").status_code == 403
    assert client.get(f"/popup/{popup.slug}/?code=SECRET").status_code == 200


def test_ambassador_codes_are_not_counted_as_wrong_unlock_codes(client):
    popup = basket_holding().popup
    popup.unlock_code = "SECRET"
    popup.save()
    ambassador_invite(popup=popup, name="Ivy", email="ivy@example.com", code="IVY")
    for _fan in range(35):  # a fan crowd on one address, all with the ambassador's code
        assert not live(client, popup, "code=IVY").json()["arrival"]["code_refused"]
    assert live(client, popup, "code=SECRET").json()["arrival"]["notices"] == [
        "Event prices unlocked."
    ]


def test_a_switched_off_ambassador_placement_gives_no_discount(client):
    popup = basket_holding().popup
    placement = ambassador_invite(
        popup=popup, name="Max", email="max@example.com", code="MAX", discount_percent=10
    )
    Placement.objects.filter(pk=placement.pk).update(is_active=False)
    arrival = live(client, popup, "code=MAX").json()["arrival"]
    assert arrival["notices"] == [] and arrival["code_refused"]


def test_a_pop_up_sold_only_to_some_countries_refuses_other_addresses(localstripe, client):
    basket = basket_holding()
    basket.popup.ship_to_countries = "be, lu"
    basket.popup.save()
    with pytest.raises(CheckoutRefused) as refused:
        checkout_pay(basket=basket, details=SHOPPER, card_token=card_token(localstripe))
    assert refused.value.code == "country"
    assert "ships only to" in str(refused.value)
    assert basket.holds.exists()  # nothing lost: the shopper can fix the address
    page = client.get(f"/popup/checkout/{basket.token}/").content.decode()
    assert '<option value="FR"' not in page


def test_message_and_share_links_name_the_pop_up_and_carry_the_placement(client):
    popup = basket_holding().popup
    popup.whatsapp_number = "+33612345678"
    popup.messenger_username = "maison.indigo"
    popup.save()
    placement = placement_create(popup=popup, name="Story")

    links = live(client, popup, f"pl={placement.code}").json()["arrival"]["links"]
    page = " ".join(links.values())

    short = f"http%3A%2F%2Ftestserver%2Fpopup%2Fp%2F{placement.code}%2F"
    assert (
        f"https://wa.me/33612345678?text=Hi%21+A+question+about+{quote_plus(popup.title)}" in page
    )
    product = quote_plus(f"Indigo scarf in {popup.title}")
    assert f"https://wa.me/33612345678?text=Hi%21+A+question+about+{product}" in page
    assert f"https://m.me/maison.indigo?ref=popup-{popup.slug}-{placement.code}" in page
    assert f"https://www.facebook.com/sharer/sharer.php?u={short}" in page
    assert "https://x.com/intent/post?text=" in page and short in page
    assert links["share"] == f"http://testserver/popup/p/{placement.code}/"
    # The page itself (the same for everyone) has the same links, without the placement.
    shell = client.get(f"/popup/{popup.slug}/?pl={placement.code}").content.decode()
    assert placement.code not in shell
    assert f"https://m.me/maison.indigo?ref=popup-{popup.slug}" in shell
    for name in [*links, "share"]:
        if name != "share":
            assert f'data-arrival-link="{name}"' in shell  # where live.js puts them
