"""Social surfaces of a pop-up: its share image, the oEmbed provider and the catalogue feeds.
Parse, call, respond."""

from django.conf import settings
from django.http import FileResponse, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils import translation
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from integrations.social.feed_files import feed_file_open
from integrations.social.feeds import feed_scope_resolve
from integrations.social.oembed import (
    CACHE_AGE,
    OEmbedRequestError,
    oembed_dimension,
    oembed_payload_build,
    oembed_popup_resolve,
)
from integrations.social.previews import share_image_get
from integrations.social.share_image import WIDTH
from popup.core.languages import language_asked, language_default
from popup.core.selectors import popup_get_visible, popup_storefront

SHARE_IMAGE_MAX_AGE = 300


@require_safe
def share_image(request, slug: str) -> HttpResponse:
    popup = popup_get_visible(slug=slug, user=request.user)
    width = request.GET.get("width", "")
    storefront = popup_storefront(popup=popup, strategy=request.strategy)
    # One image per language: its status and price in the words of the page that links to it.
    with translation.override(language_asked(request) or language_default(popup)):
        png = share_image_get(
            storefront=storefront,
            shop_name=settings.OSCAR_SHOP_NAME,
            width=int(width) if width.isdecimal() else WIDTH,
        )
    # Drafts are staff previews: no shared cache may keep them.
    cache_control = (
        f"public, max-age={SHARE_IMAGE_MAX_AGE}" if popup.is_published else "private, no-cache"
    )
    not_modified = get_conditional_response(request, etag=png.etag)
    response = not_modified or HttpResponse(png.content, content_type="image/png")
    response["ETag"] = png.etag
    response["Cache-Control"] = cache_control
    return response


@require_safe
def oembed(request) -> HttpResponse:
    url = request.GET.get("url", "").strip()
    if not url:
        return HttpResponseBadRequest(
            "Missing the url parameter: the address of a pop-up page on this site.",
            content_type="text/plain; charset=utf-8",
        )
    if request.GET.get("format", "json") != "json":
        return HttpResponse(
            "Only format=json is provided.", status=501, content_type="text/plain; charset=utf-8"
        )
    try:
        maxwidth = oembed_dimension(request.GET.get("maxwidth"), name="maxwidth")
        maxheight = oembed_dimension(request.GET.get("maxheight"), name="maxheight")
    except OEmbedRequestError as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    popup = oembed_popup_resolve(url=url, host=request.get_host())
    payload = oembed_payload_build(
        request=request,
        popup=popup,
        shop_name=settings.OSCAR_SHOP_NAME,
        maxwidth=maxwidth,
        maxheight=maxheight,
    )
    response = JsonResponse(payload)
    response["Cache-Control"] = f"public, max-age={CACHE_AGE}"
    response["Access-Control-Allow-Origin"] = "*"  # consumers may fetch it from the browser
    return response


@require_safe
def feed(request, token: str, platform: str, fmt: str, slug: str | None = None) -> HttpResponse:
    popup = feed_scope_resolve(token=token, slug=slug)
    feed_file = feed_file_open(popup=popup, platform=platform, fmt=fmt)
    last_modified = int(feed_file.generated_at.timestamp())
    not_modified = get_conditional_response(request, last_modified=last_modified)
    if not_modified is not None:
        feed_file.file.close()
        response = not_modified
    else:
        response = FileResponse(
            feed_file.file, content_type=feed_file.content_type, filename=f"{platform}.{fmt}"
        )
    response["Last-Modified"] = http_date(last_modified)
    # Fetchers ask again each time (cheap: 304 until it changes); no shared cache keeps it.
    response["Cache-Control"] = "private, no-cache"
    response["X-Robots-Tag"] = "noindex"
    return response
