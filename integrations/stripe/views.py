import uuid
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import UserPassesTestMixin
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.generic import FormView
from oscar.core.loading import get_class, get_model
from oscar.templatetags.currency_filters import currency

from integrations.stripe import client, facade, tasks, webhooks

Order = get_model("order", "Order")
PaymentError = get_class("payment.exceptions", "PaymentError")
UnableToTakePayment = get_class("payment.exceptions", "UnableToTakePayment")

PAYMENT_UNAVAILABLE = gettext_noop(
    "Payment is unavailable right now. Nothing was charged: please try again."
)


def card_authorisation_response(
    *, intent: client.PaymentIntent | None = None, error: Exception | None = None
) -> JsonResponse:
    """The answer card.js expects from the view that called facade.payment_authorise.

    {payment_intent, status, client_secret} when authorised or waiting for 3-D Secure; with HTTP 402,
    {error} carrying UnableToTakePayment's message for the shopper (a PaymentError's details are
    for the logs, so the shopper gets a generic message).
    """
    if error is not None:
        message = str(error) if isinstance(error, UnableToTakePayment) else _(PAYMENT_UNAVAILABLE)
        return JsonResponse({"error": message}, status=402)
    assert intent is not None
    return JsonResponse(
        {
            "payment_intent": intent.id,
            "status": intent.status,
            "client_secret": intent.client_secret,
        }
    )


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's webhook: verify the signature, store the event once, queue its processing."""
    try:
        event = client.webhook_event_construct(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
    except client.WebhookSignatureError:
        return HttpResponseBadRequest("Invalid Stripe signature.")
    except client.WebhookPayloadError as error:
        return HttpResponseBadRequest(f"Not a Stripe event: {error}")
    with transaction.atomic():
        row, _created = webhooks.stripe_event_record(event=event)
        if row.processed_at is None:
            event_id = row.pk

            def queue_processing() -> None:
                tasks.stripe_event_process.delay(event_id)

            # robust: the event is stored either way; a failed run is recorded on the row and retried
            # (by Celery, and by the next delivery of the event).
            transaction.on_commit(queue_processing, robust=True)
    return HttpResponse("ok")


class RefundForm(forms.Form):
    amount = forms.DecimalField(min_value=Decimal("0.01"), decimal_places=2, max_digits=12)
    refund_key = forms.CharField(max_length=64, widget=forms.HiddenInput)


class OrderRefundView(UserPassesTestMixin, FormView):
    """Staff refund of a Stripe-paid order, reached from Oscar's order page (see the refund_form tag)."""

    form_class = RefundForm
    template_name = "popup_stripe/dashboard/order_refund.html"

    def test_func(self) -> bool:
        # Like Oscar's own order page, and a refund changes the order.
        user = self.request.user
        return user.is_active and user.is_staff and user.has_perm("order.change_order")

    def dispatch(self, request, *args, **kwargs):
        self.order = get_object_or_404(Order, number=kwargs["number"])
        # Under the pop-ups' prefix, which StoreLocaleMiddleware leaves to the pop-ups: this staff
        # page and its message speak the merchant's language, as the rest of the dashboard does.
        with translation.override(translation.get_language_from_request(request)):
            response = super().dispatch(request, *args, **kwargs)
            if callable(getattr(response, "render", None)) and not response.is_rendered:
                response.render()
        patch_vary_headers(response, ("Accept-Language",))
        return response

    def get_initial(self):
        source = self.order.sources.filter(source_type__name=facade.SOURCE_TYPE_NAME).first()
        available = source.amount_available_for_refund if source else Decimal("0.00")
        return {"amount": available, "refund_key": uuid.uuid4().hex}

    def get_context_data(self, **kwargs):
        return super().get_context_data(order=self.order, **kwargs)

    def form_valid(self, form):
        try:
            facade.payment_refund(
                order=self.order,
                amount=form.cleaned_data["amount"],
                refund_key=form.cleaned_data["refund_key"],
                user=self.request.user,
            )
        except (PaymentError, InvalidOperation) as error:
            messages.error(self.request, _("Refund failed: %(error)s") % {"error": error})
        else:
            amount = currency(form.cleaned_data["amount"], self.order.currency)
            messages.success(
                self.request, _("Refunded %(amount)s through Stripe.") % {"amount": amount}
            )
        return redirect(reverse("dashboard:order-detail", kwargs={"number": self.order.number}))
