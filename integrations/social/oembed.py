"""The oEmbed provider (https://oembed.com): a pop-up page's URL in, a "rich" iframe embed out."""

from urllib.parse import urlsplit

from django.http import Http404, HttpRequest
from django.urls import Resolver404, get_script_prefix, resolve
from django.utils.html import format_html

from integrations.social.previews import share_card_build, share_image_url
from integrations.social.share_image import HEIGHT, WIDTH, share_image_height, share_image_width
from popup.core.selectors import popup_get_visible, popup_storefront
from popup.models import PopUp

# The embed is a phone-sized storefront; consumers may ask for less with maxwidth/maxheight.
EMBED_WIDTH, EMBED_HEIGHT = 420, 720
CACHE_AGE = 300  # seconds: units left and the state change while a pop-up runs
POPUP_VIEWS = frozenset({"popup:detail", "popup:embed"})
DEFAULT_PORTS = {"http": "80", "https": "443"}


class OEmbedRequestError(ValueError):
    """The consumer's request is malformed (answered with 400)."""


def oembed_popup_resolve(*, url: str, host: str) -> PopUp:
    """The published pop-up whose page or embed page `url` is, on `host`; Http404 for anything else."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise Http404("Not a pop-up URL of this site.") from None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise Http404("Not a pop-up URL of this site.")
    if _normal_host(parts.netloc, parts.scheme) != _normal_host(host, parts.scheme):
        raise Http404("Not a pop-up URL of this site.")
    prefix = get_script_prefix()
    path = parts.path or "/"
    if not path.startswith(prefix):
        raise Http404("Not a pop-up URL of this site.")
    try:
        match = resolve("/" + path.removeprefix(prefix))
    except Resolver404:
        raise Http404("Not a pop-up URL of this site.") from None
    if match.view_name not in POPUP_VIEWS:
        raise Http404("Not a pop-up URL of this site.")
    # Drafts are previews for staff, never embeddable, whoever asks.
    return popup_get_visible(slug=match.kwargs["slug"], user=None)


def oembed_dimension(value: str | None, *, name: str) -> int | None:
    """A maxwidth/maxheight parameter as a positive int, None when absent; OEmbedRequestError if bad."""
    if value in (None, ""):
        return None
    if not value.isdecimal() or int(value) == 0:
        raise OEmbedRequestError(f"{name} must be a positive whole number of pixels.")
    return int(value)


def oembed_payload_build(
    *,
    request: HttpRequest,
    popup: PopUp,
    shop_name: str,
    maxwidth: int | None = None,
    maxheight: int | None = None,
) -> dict:
    """The oEmbed 1.0 "rich" response for the pop-up, with sizes within maxwidth and maxheight."""
    width = min(EMBED_WIDTH, maxwidth or EMBED_WIDTH)
    height = min(EMBED_HEIGHT, maxheight or EMBED_HEIGHT)
    title = f"{popup.title} · {shop_name}"
    html = format_html(
        '<iframe src="{}" width="{}" height="{}" title="{}" loading="lazy" '
        'style="border:0;max-width:100%"></iframe>',
        request.build_absolute_uri(popup.get_embed_url()),
        width,
        height,
        title,
    )
    payload = {
        "type": "rich",
        "version": "1.0",
        "title": popup.title,
        "provider_name": shop_name,
        "provider_url": request.build_absolute_uri(get_script_prefix()),
        "html": str(html),
        "width": width,
        "height": height,
        "cache_age": CACHE_AGE,
    }
    # The spec wants the thumbnail within maxwidth/maxheight too: scale it down, keeping 1.91:1.
    limit = min(WIDTH, maxwidth or WIDTH, (maxheight or HEIGHT) * WIDTH // HEIGHT)
    thumb_width = share_image_width(limit)
    if thumb_width <= limit:
        storefront = popup_storefront(popup=popup, strategy=getattr(request, "strategy", None))
        card = share_card_build(storefront=storefront, shop_name=shop_name)
        url = share_image_url(request=request, popup=popup, card=card)
        if thumb_width < WIDTH:
            url += f"&width={thumb_width}"
        payload |= {
            "thumbnail_url": url,
            "thumbnail_width": thumb_width,
            "thumbnail_height": share_image_height(thumb_width),
        }
    return payload


def _normal_host(netloc: str, scheme: str) -> str:
    """host[:port] lower-cased, without userinfo and without the scheme's default port."""
    netloc = netloc.rpartition("@")[2].lower()
    host, _colon, port = netloc.rpartition(":") if not netloc.endswith("]") else (netloc, "", "")
    if not host:  # no port at all
        return netloc
    return host if port in ("", DEFAULT_PORTS.get(scheme)) else netloc
