from django.contrib import admin

from integrations.stripe.models import StripeEvent


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ["stripe_id", "type", "received_at", "processed_at", "attempts", "livemode"]
    list_filter = ["type", "livemode"]
    search_fields = ["stripe_id"]
    readonly_fields = [field.name for field in StripeEvent._meta.fields]
