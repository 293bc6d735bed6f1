from django.contrib import admin

from .models import PopUp, PopUpProduct


class PopUpProductInline(admin.TabularInline):
    model = PopUpProduct
    extra = 0
    raw_id_fields = ["product"]
    readonly_fields = ["units_sold"]


@admin.register(PopUp)
class PopUpAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "kind", "is_published", "opens_at", "closes_at"]
    list_filter = ["kind", "is_published"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    raw_id_fields = ["range"]
    inlines = [PopUpProductInline]
