import uuid

from django import template

from integrations.stripe.facade import SOURCE_TYPE_NAME

register = template.Library()


@register.inclusion_tag("popup_stripe/dashboard/refund_form.html")
def stripe_refund_form(order) -> dict:
    """A refund form for Oscar's dashboard order page; each rendering carries a fresh refund key."""
    source = order.sources.filter(source_type__name=SOURCE_TYPE_NAME).first()
    return {
        "order": order,
        "source": source,
        "available": source.amount_available_for_refund if source else None,
        "refund_key": uuid.uuid4().hex,
    }
