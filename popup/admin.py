from django import forms
from django.contrib import admin

from popup.core.popups import popup_schedule_conflicts
from popup.models import OutgoingEmail, Pledge, PledgeEvent, PledgeLine, PopUp, PopUpProduct


class PopUpAdminForm(forms.ModelForm):
    """The admin refuses overlapping published pop-ups too (the model is given by the admin)."""

    def clean(self):
        data = super().clean()
        opens, closes, product_range = (
            data.get("opens_at"),
            data.get("closes_at"),
            data.get("range"),
        )
        if data.get("is_published") and product_range and opens and closes and closes > opens:
            candidate = PopUp(pk=self.instance.pk, opens_at=opens, closes_at=closes)
            candidate.range = product_range
            conflicts = popup_schedule_conflicts(popup=candidate)
            if conflicts:
                raise forms.ValidationError([conflict.message for conflict in conflicts])
        return data


class PopUpProductInline(admin.TabularInline):
    model = PopUpProduct
    extra = 0
    raw_id_fields = ["product"]
    readonly_fields = ["units_sold"]


@admin.register(PopUp)
class PopUpAdmin(admin.ModelAdmin):
    form = PopUpAdminForm
    list_display = ["title", "slug", "kind", "is_published", "opens_at", "closes_at"]
    list_filter = ["kind", "is_published"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    raw_id_fields = ["range"]
    inlines = [PopUpProductInline]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PledgeLineInline(ReadOnlyInline):
    model = PledgeLine
    fields = readonly_fields = ["terms", "quantity", "unit_price"]


class PledgeEventInline(ReadOnlyInline):
    model = PledgeEvent
    fields = readonly_fields = [
        "created_at",
        "status_from",
        "status_to",
        "note",
        "payment_intent_id",
    ]


@admin.register(Pledge)
class PledgeAdmin(admin.ModelAdmin):
    """Read-only: pledges only move through popup.presales.pledges, which keeps their history."""

    list_display = [
        "id",
        "popup",
        "email",
        "status",
        "amount",
        "currency",
        "attempts",
        "next_retry_at",
        "created_at",
        "paid_at",
    ]
    list_filter = ["status", "popup"]
    list_select_related = ["popup"]
    search_fields = ["email", "payment_intent_id", "setup_intent_id", "order__number"]
    date_hierarchy = "created_at"
    inlines = [PledgeLineInline, PledgeEventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    """Read-only: the record of each e-mail sent (or still being retried) by popup.notifications.emails."""

    list_display = ["key", "code", "to", "language", "created_at", "sent_at", "attempts"]
    list_filter = ["code", "language", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["key", "to"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
