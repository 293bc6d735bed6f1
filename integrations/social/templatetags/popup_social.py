import json

from django import template
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.safestring import SafeString, mark_safe

from integrations.social.feeds import checkout_link_template, checkout_url, feed_links
from integrations.social.previews import SocialPreview, social_preview_build
from popup.core.selectors import Storefront
from popup.models import PopUp

register = template.Library()

# The characters that could end a <script> element or open an HTML comment inside it, escaped
# the way Django's json_script does; JSON parsers read them back unchanged.
_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.simple_tag(takes_context=True)
def popup_social_preview(context, storefront: Storefront) -> SocialPreview:
    """The pop-up page's social tags and JSON-LD: `{% popup_social_preview storefront as preview %}`."""
    shop_name = context.get("shop_name") or settings.OSCAR_SHOP_NAME
    return social_preview_build(
        request=context["request"], storefront=storefront, shop_name=shop_name
    )


@register.inclusion_tag("popup/dashboard/partials/feed_links.html", takes_context=True)
def popup_feed_links(context, popup: PopUp | None = None) -> dict:
    """The catalogue feed URLs for Google and Meta, the pop-up's or (without one) the store's, and
    the checkout URL a Meta shop declares (with Google's template that the feeds carry)."""
    request = context.get("request")
    checkout = checkout_url(request=request)
    return {
        "popup": popup,
        "feed_links": feed_links(popup=popup, request=request),
        "checkout_url": checkout,
        "checkout_link_template": checkout_link_template(checkout_url=checkout),
    }


@register.filter
def ld_json(value) -> SafeString:
    """JSON safe to put inside <script type="application/ld+json"> (no way out of the element)."""
    text = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))
    return mark_safe(text.translate(_SCRIPT_ESCAPES))
