"""The shopper's address behind proxies: X-Forwarded-For believed only as far as trusted proxies go."""

import pytest
from django.test import RequestFactory

from popup.http.client_ip import client_ip
from tests.popup.checkout.support import basket_holding

PROXY = "10.0.0.2"

pytestmark = pytest.mark.django_db


def _ip(settings, *, remote: str, forwarded: str | None = None, trusted=()) -> str:
    settings.POPUP_TRUSTED_PROXIES = trusted
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **headers))


def test_no_proxy_is_trusted_by_default_so_a_forged_header_changes_nothing(settings):
    assert _ip(settings, remote="203.0.113.9", forwarded="198.51.100.1") == "203.0.113.9"


def test_behind_a_trusted_proxy_the_client_is_the_last_untrusted_address(settings):
    trusted = ["10.0.0.0/8"]
    assert _ip(settings, remote=PROXY, forwarded="198.51.100.7", trusted=trusted) == "198.51.100.7"
    # A shopper forging the header: the proxy appends the address it saw, which is the one read.
    forged = "6.6.6.6, 198.51.100.7"
    assert _ip(settings, remote=PROXY, forwarded=forged, trusted=trusted) == "198.51.100.7"
    # Two proxies of ours in a row (a CDN, then the load balancer).
    chained = "198.51.100.7, 10.1.2.3"
    assert _ip(settings, remote=PROXY, forwarded=chained, trusted=trusted) == "198.51.100.7"


def test_a_request_not_from_a_trusted_proxy_is_not_believed(settings):
    trusted = ["10.0.0.0/8"]
    assert _ip(settings, remote="203.0.113.9", forwarded="1.2.3.4", trusted=trusted) == (
        "203.0.113.9"
    )


@pytest.mark.parametrize(
    "forwarded, expected",
    [
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("198.51.100.7:51234", "198.51.100.7"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("not an address", PROXY),
        ("", PROXY),
    ],
)
def test_ports_brackets_mapped_and_garbled_entries(settings, forwarded, expected):
    assert _ip(settings, remote=PROXY, forwarded=forwarded, trusted=[PROXY]) == expected


def test_behind_the_proxy_each_shopper_has_their_own_wrong_code_limit(client, settings):
    settings.POPUP_TRUSTED_PROXIES = ["10.0.0.0/8"]
    popup = basket_holding().popup
    popup.unlock_code = "SECRET"
    popup.event_only = True
    popup.save()
    page = f"/popup/{popup.slug}/"
    for attempt in range(31):  # one guesser, through the proxy
        client.get(f"{page}?code=GUESS{attempt}", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="6.6.6.6")
    guesser = client.get(f"{page}?code=SECRET", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert guesser.status_code == 403
    # Another shopper behind the same proxy is not locked out with them.
    shopper = client.get(
        f"{page}?code=SECRET", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7"
    )
    assert shopper.status_code == 200


def test_without_trusted_proxies_rotating_the_header_does_not_escape_the_limit(client):
    popup = basket_holding().popup
    popup.unlock_code = "SECRET"
    popup.event_only = True
    popup.save()
    page = f"/popup/{popup.slug}/"
    for attempt in range(31):
        client.get(f"{page}?code=GUESS{attempt}", HTTP_X_FORWARDED_FOR=f"198.51.100.{attempt}")
    refused = client.get(f"{page}?code=SECRET", HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert refused.status_code == 403
