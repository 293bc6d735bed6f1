"""The shopper's address, which every per-address limit counts against.

Behind a TLS proxy or a load balancer, REMOTE_ADDR is the proxy's address: every shopper would share
one bucket. X-Forwarded-For names the real client, but anyone can send that header, so it is believed
only as far as POPUP_TRUSTED_PROXIES says: read from the right (each proxy appends the address it
received the request from), skipping trusted proxies, the first address that is not one is the client.
With no trusted proxies (the default) the header is ignored.
"""

import hmac
import ipaddress
import logging
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

from popup.conf import popup_settings

logger = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=4)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in trusted)


def trusted_proxies() -> tuple[Network, ...]:
    """POPUP_TRUSTED_PROXIES as networks (a single address is a /32 or /128)."""
    return _networks(tuple(popup_settings.POPUP_TRUSTED_PROXIES))


def _address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.9:51234"
        text = text.split(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _is_trusted(address: Address, proxies: tuple[Network, ...]) -> bool:
    return any(address in network for network in proxies)


def address_key(address: str) -> str:
    """What identifies a client address in the database without storing it: a keyed hash of the
    IPv4 address, or of the IPv6 /64 (one host often has a whole /64 to pick from). "" for none."""
    parsed = _address(address)
    if parsed is None:
        return ""
    if parsed.version == 6:
        parsed = ipaddress.ip_network(f"{parsed}/64", strict=False).network_address
    digest = hmac.new(settings.SECRET_KEY.encode(), f"popup-address:{parsed}".encode(), "sha256")
    return digest.hexdigest()[:32]


def shopper_ip(request: HttpRequest) -> str:
    """client_ip when it names the shopper; "" when it is most likely a proxy of the store's that
    POPUP_TRUSTED_PROXIES does not list (a private or loopback peer forwarding for someone), so
    that caps counted per address do not count every shopper of the store as one."""
    peer = _address(request.META.get("REMOTE_ADDR", ""))
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    proxies = trusted_proxies()
    if (
        peer is not None
        and forwarded
        and (peer.is_private or peer.is_loopback)
        and not _is_trusted(peer, proxies)
    ):
        global _unlisted_proxy_logged
        if not _unlisted_proxy_logged:
            _unlisted_proxy_logged = True
            logger.warning(
                "Requests come through %s, which POPUP_TRUSTED_PROXIES does not list: the "
                "per-address caps on holds and baskets are off until it does.",
                peer,
            )
        return ""
    return client_ip(request)


_unlisted_proxy_logged = False


def client_ip(request: HttpRequest) -> str:
    """The address of the client that sent `request`, believing only trusted proxies' headers."""
    peer = _address(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return ""
    proxies = trusted_proxies()
    if not proxies or not _is_trusted(peer, proxies):
        return str(peer)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    client = peer
    for entry in reversed(forwarded.split(",")):
        address = _address(entry)
        if address is None:
            break  # a garbled entry: nothing left of it can be believed
        client = address
        if not _is_trusted(address, proxies):
            break
    return str(client)
