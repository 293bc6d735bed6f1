import json
import threading
import urllib.error
import urllib.request
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db.models import Sum
from django.utils import timezone

from popup.channels.placements import ambassador_invite
from popup.conf import popup_settings
from popup.core.holds import HoldRefused, basket_create, hold_set, holds_delete_expired
from popup.core.selectors import popup_storefront
from popup.models import Hold, PopUp, PopUpBasket, PopUpProduct
from tests.factories import PopUpFactory, create_product
from tests.popup.checkout.support import live

pytestmark = pytest.mark.django_db


def popup_selling(units=3, stock=50, **popup_kwargs):
    popup = PopUpFactory(**popup_kwargs)
    product = create_product(title="Indigo scarf", stock=stock)
    popup.range.add_product(product)
    PopUpProduct.objects.create(popup=popup, product=product, units_offered=units)
    return popup, product


def units_left(popup, **kwargs):
    return popup_storefront(popup=popup, **kwargs).items[0].units_left


class TestHoldRules:
    def test_held_units_are_taken_out_of_what_others_see(self):
        popup, scarf = popup_selling(units=3)
        hold_set(basket=basket_create(popup=popup), product_id=scarf.pk, quantity=2)
        assert units_left(popup) == 1

    def test_nobody_can_hold_units_held_by_someone_else(self):
        popup, scarf = popup_selling(units=3)
        hold_set(basket=basket_create(popup=popup), product_id=scarf.pk, quantity=2)
        with pytest.raises(HoldRefused, match="Only 1 left") as refusal:
            hold_set(basket=basket_create(popup=popup), product_id=scarf.pk, quantity=2)
        assert refusal.value.available == 1

    def test_the_last_unit_in_another_basket_is_not_sold_out(self):
        popup, scarf = popup_selling(units=1)
        hold_set(basket=basket_create(popup=popup), product_id=scarf.pk, quantity=1)
        with pytest.raises(HoldRefused, match="All in other shoppers' baskets for now"):
            hold_set(basket=basket_create(popup=popup), product_id=scarf.pk, quantity=1)

    def test_an_expired_hold_frees_its_units_at_once_without_any_job(self):
        popup, scarf = popup_selling(units=1, hold_minutes=10)
        hold_set(basket=basket_create(popup=popup), product_id=scarf.pk, quantity=1)
        later = timezone.now() + timedelta(minutes=10, seconds=1)
        assert units_left(popup, now=later) == 1
        hold_set(basket=basket_create(popup=popup), product_id=scarf.pk, quantity=1, now=later)

    def test_changing_ones_own_hold_does_not_count_it_twice(self):
        popup, scarf = popup_selling(units=3)
        basket = basket_create(popup=popup)
        hold_set(basket=basket, product_id=scarf.pk, quantity=2)
        hold_set(basket=basket, product_id=scarf.pk, quantity=3)
        assert Hold.objects.get(basket=basket).quantity == 3
        assert units_left(popup) == 0

    def test_quantity_zero_lets_the_units_go(self):
        popup, scarf = popup_selling(units=3)
        basket = basket_create(popup=popup)
        hold_set(basket=basket, product_id=scarf.pk, quantity=2)
        hold_set(basket=basket, product_id=scarf.pk, quantity=0)
        assert not Hold.objects.filter(basket=basket).exists()
        assert units_left(popup) == 3

    def test_warehouse_stock_limits_holds_too(self):
        popup, scarf = popup_selling(units=10, stock=2)
        with pytest.raises(HoldRefused, match="Only 2 left"):
            hold_set(basket=basket_create(popup=popup), product_id=scarf.pk, quantity=3)

    def test_per_customer_limit_counts_the_whole_basket(self):
        popup, scarf = popup_selling(units=10, per_customer_limit=3)
        tote = create_product(title="Tote")
        popup.range.add_product(tote)
        basket = basket_create(popup=popup)
        hold_set(basket=basket, product_id=scarf.pk, quantity=2)
        with pytest.raises(HoldRefused, match="3 units of this pop-up in all") as refusal:
            hold_set(basket=basket, product_id=tote.pk, quantity=2)
        assert refusal.value.available == 1

    @pytest.mark.parametrize(
        ("opens_in", "closes_in", "message"),
        [
            (timedelta(days=1), timedelta(days=2), "opens on"),
            (-timedelta(days=2), -timedelta(days=1), "closed"),
        ],
    )
    def test_only_a_live_pop_up_takes_holds(self, opens_in, closes_in, message):
        now = timezone.now()
        popup, scarf = popup_selling(opens_at=now + opens_in, closes_at=now + closes_in)
        with pytest.raises(HoldRefused, match=message):
            hold_set(basket=basket_create(popup=popup), product_id=scarf.pk, quantity=1)

    def test_products_outside_the_slice_cannot_be_held(self):
        popup, _scarf = popup_selling()
        stranger = create_product(title="Not in this pop-up")
        with pytest.raises(HoldRefused, match="not sold in this pop-up"):
            hold_set(basket=basket_create(popup=popup), product_id=stranger.pk, quantity=1)

    def test_every_change_restarts_the_basket_timer(self):
        popup, scarf = popup_selling(units=5, hold_minutes=10)
        tote = create_product(title="Tote")
        popup.range.add_product(tote)
        basket = basket_create(popup=popup)
        start = timezone.now()
        hold_set(basket=basket, product_id=scarf.pk, quantity=1, now=start)
        hold_set(basket=basket, product_id=tote.pk, quantity=1, now=start + timedelta(minutes=4))
        assert {h.reserved_until for h in basket.holds.all()} == {start + timedelta(minutes=14)}

    def test_tidying_deletes_only_long_expired_rows(self):
        popup, scarf = popup_selling(units=5)
        old, fresh = basket_create(popup=popup), basket_create(popup=popup)
        hold_set(basket=old, product_id=scarf.pk, quantity=1)
        hold_set(basket=fresh, product_id=scarf.pk, quantity=1)
        Hold.objects.filter(basket=old).update(reserved_until=timezone.now() - timedelta(hours=2))
        assert holds_delete_expired() == 1
        assert list(Hold.objects.values_list("basket", flat=True)) == [fresh.pk]


def post_json(client, url, body, token=None):
    headers = {"X-Popup-Basket": token} if token else {}
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


class TestBasketApi:
    def test_a_shopper_fills_a_basket_without_any_cookie(self, client):
        popup, scarf = popup_selling(units=3)
        created = client.post(f"/popup/{popup.slug}/basket/new/")
        assert created.status_code == 201
        token = created.json()["basket"]["token"]
        assert len(token) >= 40
        assert not client.cookies.get("sessionid")

        response = post_json(
            client,
            f"/popup/{popup.slug}/basket/lines/",
            {"product": scarf.pk, "quantity": 2},
            token,
        )
        basket = response.json()["basket"]
        assert response.status_code == 200
        assert (basket["units"], basket["total"], basket["currency"]) == (2, "80.00", "EUR")
        assert 595 <= basket["seconds_left"] <= 600
        assert basket["units_left"][str(scarf.pk)] == 1

        again = client.get(f"/popup/{popup.slug}/basket/", headers={"X-Popup-Basket": token})
        assert again.json()["basket"]["lines"][0]["quantity"] == 2

    def test_a_hold_answers_with_what_changed_as_the_basket_itself_reads_it(
        self, client, django_assert_max_num_queries
    ):
        """The answer comes out of the hold (nothing is read again after it): the same lines, prices
        and timer as the basket's own call, and the units left of the product held."""
        popup, scarf = popup_selling(units=5)
        hat = create_product(title="Wool hat", stock=50)
        popup.range.add_product(hat)
        PopUpProduct.objects.create(popup=popup, product=hat, units_offered=4, price=Decimal("25"))
        zoe = ambassador_invite(
            popup=popup, name="Zoé", email="zoe@example.com", code="ZOE", discount_percent=10
        )
        new = post_json(client, f"/popup/{popup.slug}/basket/new/", {"placement": zoe.code})
        token, url = new.json()["basket"]["token"], f"/popup/{popup.slug}/basket/lines/"
        post_json(client, url, {"product": scarf.pk, "quantity": 2}, token)

        with django_assert_max_num_queries(9):  # 7 statements, and a savepoint and its release
            held = post_json(client, url, {"product": hat.pk, "quantity": 1}, token).json()
        read = client.get(f"/popup/{popup.slug}/basket/", headers={"X-Popup-Basket": token})

        held, read = held["basket"], read.json()["basket"]
        assert held.pop("units_left") == {str(hat.pk): 3}
        assert read.pop("units_left") == {str(scarf.pk): 3, str(hat.pk): 3}
        assert [line["unit_price"] for line in held["lines"]] == ["36.00", "22.50"]
        assert held["total"] == "94.50" and held["units"] == 3
        assert held.pop("seconds_left") - read.pop("seconds_left") in (0, 1)
        assert (held.pop("contested"), read.pop("contested")) == (None, False)  # see TestMoreTime
        assert held == read  # the scarf's timer restarted with the hat's

        let_go = post_json(client, url, {"product": scarf.pk, "quantity": 0}, token).json()
        assert let_go["basket"]["units_left"] == {str(scarf.pk): 5, str(hat.pk): 3}
        assert [line["product"] for line in let_go["basket"]["lines"]] == [hat.pk]

    def test_refusal_is_a_clear_409_with_what_is_left(self, client):
        popup, scarf = popup_selling(units=1)
        token = client.post(f"/popup/{popup.slug}/basket/new/").json()["basket"]["token"]
        response = post_json(
            client,
            f"/popup/{popup.slug}/basket/lines/",
            {"product": scarf.pk, "quantity": 2},
            token,
        )
        assert response.status_code == 409
        assert response.json()["error"] == "Only 1 left."
        assert response.json()["available"] == 1
        assert response.json()["basket"]["units"] == 0

    def test_units_only_in_baskets_are_not_called_sold_out(self, client):
        """While other baskets hold the last units, the shopper is told they may come back (and
        about when), not "sold out"; once they are sold, they are sold out."""
        popup, scarf = popup_selling(units=2)
        rival = basket_create(popup=popup)
        hold_set(basket=rival, product_id=scarf.pk, quantity=2)
        token = client.post(f"/popup/{popup.slug}/basket/new/").json()["basket"]["token"]
        url = f"/popup/{popup.slug}/basket/lines/"

        refused = post_json(client, url, {"product": scarf.pk, "quantity": 1}, token).json()
        assert refused["error"] == (
            "All in other shoppers' baskets for now: units they do not buy come back within "
            "10 minutes."
        )
        figures = live(client, popup, view="").json()["products"][str(scarf.pk)]
        assert figures["units_left"] == 0 and figures["back_in_minutes"] == 10

        PopUpProduct.objects.filter(popup=popup).update(units_sold=2)
        Hold.objects.all().delete()
        cache.clear()  # the live figures are kept a second
        refused = post_json(client, url, {"product": scarf.pk, "quantity": 1}, token).json()
        assert refused["error"] == "Sold out: every unit is sold."
        figures = live(client, popup, view="").json()["products"][str(scarf.pk)]
        assert figures["units_left"] == 0 and figures["back_in_minutes"] is None

    @pytest.mark.parametrize(
        "body",
        [{"product": "1", "quantity": 1}, {"quantity": 1}, {"product": 1, "quantity": 1.5}, [1, 2]],
    )
    def test_malformed_lines_are_400(self, client, body):
        popup, _scarf = popup_selling()
        token = client.post(f"/popup/{popup.slug}/basket/new/").json()["basket"]["token"]
        response = post_json(client, f"/popup/{popup.slug}/basket/lines/", body, token)
        assert response.status_code == 400
        assert response.json()["code"] == "bad_request"

    def test_negative_quantities_are_refused(self, client):
        popup, scarf = popup_selling()
        token = client.post(f"/popup/{popup.slug}/basket/new/").json()["basket"]["token"]
        response = post_json(
            client,
            f"/popup/{popup.slug}/basket/lines/",
            {"product": scarf.pk, "quantity": -5},
            token,
        )
        assert response.status_code == 409
        assert not Hold.objects.exists()

    def test_a_missing_or_foreign_token_is_404(self, client):
        popup, scarf = popup_selling()
        other_popup, _ = popup_selling()
        foreign = basket_create(popup=other_popup).token
        url = f"/popup/{popup.slug}/basket/lines/"
        assert (
            post_json(client, url, {"product": scarf.pk, "quantity": 1}, foreign).status_code == 404
        )
        assert (
            post_json(client, url, {"product": scarf.pk, "quantity": 1}, "guess").status_code == 404
        )
        assert not Hold.objects.exists()

    def test_a_basket_already_checked_out_is_gone_so_the_next_visit_starts_afresh(self, client):
        popup, scarf = popup_selling()
        basket = basket_create(popup=popup)
        PopUpBasket.objects.filter(pk=basket.pk).update(status=PopUpBasket.Status.PLEDGED)
        headers = {"X-Popup-Basket": basket.token}
        assert client.get(f"/popup/{popup.slug}/basket/", headers=headers).status_code == 404
        url = f"/popup/{popup.slug}/basket/lines/"
        line = {"product": scarf.pk, "quantity": 1}
        assert post_json(client, url, line, basket.token).status_code == 404

    def test_a_new_basket_records_where_the_shopper_came_from(self, client):
        popup, _scarf = popup_selling()
        url = f"/popup/{popup.slug}/basket/new/"
        body = json.dumps({"source": "linktr.ee\n\x00" + "x" * 200})
        assert client.post(url, body, content_type="application/json").status_code == 201
        assert client.post(url).status_code == 201  # an empty body is still a basket
        sources = sorted(PopUpBasket.objects.values_list("source", flat=True))
        assert sources == ["", "linktr.ee" + "x" * 111]

    def test_draft_pop_ups_take_no_baskets(self, client):
        popup, _scarf = popup_selling(is_published=False)
        assert client.post(f"/popup/{popup.slug}/basket/new/").status_code == 404
        assert not PopUpBasket.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_many_shoppers_racing_for_few_units_never_get_more_than_there_are(live_server):
    """10 shoppers at once over HTTP for 3 units: exactly 3 hold one. (Django's test server accepts
    10 connections at a time; bench/ races hundreds of buyers against a real WSGI server.)"""
    popup, scarf = popup_selling(units=3)
    shoppers, results = 10, []
    tokens = [basket_create(popup=popup).token for _ in range(shoppers)]
    start = threading.Barrier(shoppers)

    def buy(token):
        request = urllib.request.Request(
            f"{live_server.url}/popup/{popup.slug}/basket/lines/",
            data=json.dumps({"product": scarf.pk, "quantity": 1}).encode(),
            headers={"Content-Type": "application/json", "X-Popup-Basket": token},
        )
        start.wait()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                results.append(response.status)
        except urllib.error.HTTPError as error:
            results.append(error.code)

    threads = [threading.Thread(target=buy, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [200] * 3 + [409] * 7
    assert Hold.objects.aggregate(units=Sum("quantity"))["units"] == 3
    assert units_left(popup) == 0
    assert popup_storefront(popup=popup).state == PopUp.State.SOLD_OUT


class TestWayBack:
    """The page that embedded the pop-up, kept for the shopper's way back after paying."""

    def test_a_page_on_an_allowed_origin_is_kept_without_its_query(self, client):
        popup, scarf = popup_selling(allowed_embed_origins="https://*.atelier-nord.fr")
        back = "https://Blog.atelier-nord.fr/winter?newsletter=ada@example.com#top"
        body = {"product": scarf.pk, "quantity": 1, "back": back}
        assert post_json(client, f"/popup/{popup.slug}/basket/lines/", body).status_code == 201
        assert PopUpBasket.objects.get().return_url == "https://blog.atelier-nord.fr/winter"

    @pytest.mark.parametrize(
        "back",
        [
            "https://evil.example/atelier-nord.fr",
            "javascript:alert(1)",
            "https://atelier-nord.fr/",  # *.atelier-nord.fr is its subdomains only
            "https://atelier-nord.fr.evil.example/",
            # Python and browsers read these differently: browsers go to evil.example.
            "https://evil.example\\@blog.atelier-nord.fr/",
            "https://evil.example@blog.atelier-nord.fr/",
            "https://blog.atelier-nord.fr /",
            "http://[",  # not an address at all: never a 500
            "https://blog.atelier-nord.fr/" + "a" * 500,
        ],
    )
    def test_any_other_page_is_not(self, client, back):
        popup, scarf = popup_selling(allowed_embed_origins="https://*.atelier-nord.fr")
        body = {"product": scarf.pk, "quantity": 1, "back": back}
        assert post_json(client, f"/popup/{popup.slug}/basket/lines/", body).status_code == 201
        assert PopUpBasket.objects.get().return_url == ""


class TestMoreTime:
    """The shopper needs more time (WCAG 2.2.1): a whole hold period again, while no one else could have the
    units, at most POPUP_HOLD_EXTENSIONS times."""

    def basket_holding(self, client, popup, product, quantity):
        token = client.post(f"/popup/{popup.slug}/basket/new/").json()["basket"]["token"]
        url = f"/popup/{popup.slug}/basket/lines/"
        post_json(client, url, {"product": product.pk, "quantity": quantity}, token)
        return token

    def more_time(self, client, popup, token):
        return post_json(client, f"/popup/{popup.slug}/basket/time/", {}, token)

    def test_the_hold_starts_again_when_others_can_still_buy(self, client):
        popup, scarf = popup_selling(units=3, hold_minutes=10)
        token = self.basket_holding(client, popup, scarf, 2)
        Hold.objects.update(reserved_until=timezone.now() + timedelta(seconds=40))

        answer = self.more_time(client, popup, token)
        assert answer.status_code == 200, answer.content
        basket = answer.json()["basket"]
        assert 595 <= basket["seconds_left"] <= 600
        assert (basket["contested"], basket["extensions_left"]) == (False, 9)
        assert basket["units"] == 2 and basket["units_left"] == {str(scarf.pk): 1}
        assert Hold.objects.get().reserved_until > timezone.now() + timedelta(minutes=9)

    def test_no_more_time_while_others_wait_for_the_units(self, client):
        popup, scarf = popup_selling(units=2)
        token = self.basket_holding(client, popup, scarf, 2)  # none left for anyone else
        read = client.get(f"/popup/{popup.slug}/basket/", headers={"X-Popup-Basket": token})
        assert read.json()["basket"]["contested"] is True  # the page says so before it is asked
        until = Hold.objects.get().reserved_until

        answer = self.more_time(client, popup, token)
        assert answer.status_code == 409
        assert answer.json()["code"] == "contested"
        assert answer.json()["error"].startswith("These are the last units, so the hold cannot")
        assert Hold.objects.get().reserved_until == until
        assert PopUpBasket.objects.get().hold_extensions == 0

    def test_at_most_the_setting_s_number_of_times(self, client, settings):
        settings.POPUP_HOLD_EXTENSIONS = 2
        popup, scarf = popup_selling(units=3)
        token = self.basket_holding(client, popup, scarf, 1)
        answers = []
        for _ in range(3):  # each asked once the timer ran a little
            Hold.objects.update(reserved_until=timezone.now() + timedelta(minutes=1))
            answers.append(self.more_time(client, popup, token))
        assert [answer.status_code for answer in answers] == [200, 200, 409]
        assert answers[1].json()["basket"]["extensions_left"] == 0
        assert answers[2].json()["code"] == "extensions_used"
        assert "2 times" in answers[2].json()["error"]

    def test_the_default_gives_more_time_ten_times(self):
        assert popup_settings.POPUP_HOLD_EXTENSIONS >= 10  # WCAG 2.2.1's "at least ten times"

    def test_a_lapsed_hold_is_held_again_not_given_more_time(self, client):
        popup, scarf = popup_selling(units=3)
        token = self.basket_holding(client, popup, scarf, 1)
        Hold.objects.update(reserved_until=timezone.now() - timedelta(seconds=1))
        answer = self.more_time(client, popup, token)
        assert (answer.status_code, answer.json()["code"]) == (409, "lapsed")
        assert answer.json()["basket"]["lines"][0]["active"] is False

    def test_a_payment_under_way_keeps_its_longer_hold(self, client):
        popup, scarf = popup_selling(units=3, hold_minutes=10)
        token = self.basket_holding(client, popup, scarf, 1)
        later = timezone.now() + timedelta(minutes=30)
        Hold.objects.update(reserved_until=later)
        assert self.more_time(client, popup, token).status_code == 200
        assert Hold.objects.get().reserved_until == later
        assert PopUpBasket.objects.get().hold_extensions == 0  # no time given, none counted

    def test_another_pop_up_s_basket_gets_nothing_here(self, client):
        popup, scarf = popup_selling(units=3)
        other, hat = popup_selling(units=3)
        token = self.basket_holding(client, other, hat, 1)
        assert self.more_time(client, popup, token).status_code == 404
        assert self.more_time(client, popup, "not-a-token").status_code == 404


class TestAddressCaps:
    """A script on one connection cannot keep a first-come drop "in baskets"."""

    def test_one_address_holds_no_more_than_the_cap_whichever_baskets_hold_them(self, settings):
        settings.POPUP_UNITS_HELD_PER_ADDRESS = 3
        popup, scarf = popup_selling(units=20)
        first = basket_create(popup=popup, address="203.0.113.7")
        hold_set(basket=first, product_id=scarf.pk, quantity=2)
        second = basket_create(popup=popup, address="203.0.113.7")

        with pytest.raises(HoldRefused, match="held from your connection") as refusal:
            hold_set(basket=second, product_id=scarf.pk, quantity=2)

        assert (refusal.value.status, refusal.value.available) == (429, 1)
        hold_set(basket=second, product_id=scarf.pk, quantity=1)  # up to the cap
        hold_set(basket=first, product_id=scarf.pk, quantity=1)  # letting go is always allowed
        hold_set(basket=second, product_id=scarf.pk, quantity=2)
        # Another connection, and a basket made without an address, are not counted with it.
        hold_set(
            basket=basket_create(popup=popup, address="203.0.113.8"),
            product_id=scarf.pk,
            quantity=3,
        )
        assert units_left(popup) == 20 - 3 - 3

    def test_an_ipv6_host_counts_as_its_whole_64(self, settings):
        settings.POPUP_UNITS_HELD_PER_ADDRESS = 1
        popup, scarf = popup_selling(units=5)
        hold_set(
            basket=basket_create(popup=popup, address="2001:db8::1"),
            product_id=scarf.pk,
            quantity=1,
        )
        with pytest.raises(HoldRefused, match="held from your connection"):
            hold_set(
                basket=basket_create(popup=popup, address="2001:db8::ffff:2"),
                product_id=scarf.pk,
                quantity=1,
            )
        hold_set(
            basket=basket_create(popup=popup, address="2001:db8:0:1::1"),
            product_id=scarf.pk,
            quantity=1,
        )

    def test_no_cap_when_the_setting_says_none(self, settings):
        settings.POPUP_UNITS_HELD_PER_ADDRESS = None
        popup, scarf = popup_selling(units=50)
        for _ in range(4):
            basket = basket_create(popup=popup, address="203.0.113.7")
            hold_set(basket=basket, product_id=scarf.pk, quantity=10)
        assert units_left(popup) == 10

    def test_one_address_opens_a_limited_number_of_baskets_an_hour(self, client, settings):
        settings.POPUP_BASKETS_PER_ADDRESS_PER_HOUR = 2
        popup, _scarf = popup_selling()
        answers = [client.post(f"/popup/{popup.slug}/basket/new/") for _ in range(3)]

        assert [answer.status_code for answer in answers] == [201, 201, 429]
        assert answers[-1].json()["code"] == "rate_limited"
        assert "Too many baskets" in answers[-1].json()["error"]
        assert PopUpBasket.objects.count() == 2
        stored = set(PopUpBasket.objects.values_list("address_key", flat=True))
        assert len(stored) == 1 and "127.0.0.1" not in stored.pop()  # a keyed hash, not the address

    def test_the_basket_api_answers_the_address_cap_with_a_429(self, client, settings):
        settings.POPUP_UNITS_HELD_PER_ADDRESS = 1
        popup, scarf = popup_selling(units=5)
        tokens = [
            client.post(f"/popup/{popup.slug}/basket/new/").json()["basket"]["token"]
            for _ in range(2)
        ]
        answers = [
            client.post(
                f"/popup/{popup.slug}/basket/lines/",
                json.dumps({"product": scarf.pk, "quantity": 1}),
                content_type="application/json",
                HTTP_X_POPUP_BASKET=token,
            )
            for token in tokens
        ]

        assert [answer.status_code for answer in answers] == [200, 429]
        assert answers[1].json()["code"] == "address_limit"
        assert answers[1].json()["basket"]["units"] == 0

    def test_behind_a_proxy_the_store_did_not_list_the_caps_are_off_not_shared(
        self, client, settings
    ):
        """Every shopper would otherwise be the proxy's address, and the drop stop at 10 units."""
        settings.POPUP_BASKETS_PER_ADDRESS_PER_HOUR = 1
        settings.POPUP_TRUSTED_PROXIES = []
        popup, _scarf = popup_selling()
        answers = [
            client.post(
                f"/popup/{popup.slug}/basket/new/",
                REMOTE_ADDR="10.0.0.5",
                HTTP_X_FORWARDED_FOR=f"203.0.113.{number}",
            )
            for number in range(3)
        ]

        assert [answer.status_code for answer in answers] == [201] * 3
        assert set(PopUpBasket.objects.values_list("address_key", flat=True)) == {""}
        settings.POPUP_TRUSTED_PROXIES = ["10.0.0.0/8"]  # listed: each shopper is counted
        listed = [
            client.post(
                f"/popup/{popup.slug}/basket/new/",
                REMOTE_ADDR="10.0.0.5",
                HTTP_X_FORWARDED_FOR="203.0.113.9",
            )
            for _ in range(2)
        ]
        assert [answer.status_code for answer in listed] == [201, 429]
