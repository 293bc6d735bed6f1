"""Dashboard forms: the pop-up, its per-product terms, graduating a pre-sale, the list filters."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.validators import MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from oscar.core.loading import get_class, get_model

from popup.core.popups import (
    HERO_IMAGE_FORMATS,
    popup_hero_image_prepare,
    popup_schedule_conflicts,
    popup_slug_suggest,
)
from popup.models import Ambassador, Pledge, PopUp, PopUpProduct

Product = get_model("catalogue", "Product")
Range = get_model("offer", "Range")
ProductSelectMultiple = get_class("dashboard.catalogue.widgets", "ProductSelectMultiple")


class StoreDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class StoreDateTimeField(forms.DateTimeField):
    """A date and time typed in the store's time zone (TIME_ZONE), whatever zone is active."""

    widget = StoreDateTimeInput

    def to_python(self, value):
        with timezone.override(settings.TIME_ZONE):
            return super().to_python(value)

    def prepare_value(self, value):
        with timezone.override(settings.TIME_ZONE):
            return super().prepare_value(value)


class HeroImageField(forms.ImageField):
    """An image upload checked by Pillow: format, weight and size; too wide ones are downscaled."""

    def to_python(self, data):
        upload = forms.FileField.to_python(self, data)
        if upload is None:
            return None
        return popup_hero_image_prepare(image=upload)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs["accept"] = ",".join(f"image/{name.lower()}" for name in HERO_IMAGE_FORMATS)
        return attrs


class PopUpForm(forms.ModelForm):
    products = forms.ModelMultipleChoiceField(
        label=_("…or a new range of these products"),
        queryset=Product.objects.browsable_dashboard(),
        required=False,
        widget=ProductSelectMultiple(attrs={"class": "select2"}),
        help_text=_("A new range is created for the pop-up with exactly these products."),
    )

    # Tabs of the form, as (id, label, fields).
    SECTIONS = [
        ("popup_details", _("Details"), ["title", "slug", "tagline", "description", "kind"]),
        ("popup_look", _("Look"), ["hero_image", "accent_colour"]),
        ("popup_products", _("Products"), ["range", "products"]),
        (
            "popup_schedule",
            _("Schedule and publishing"),
            ["opens_at", "closes_at", "is_published", "per_customer_limit"],
        ),
        (
            "popup_presale",
            _("Pre-sale"),
            [
                "presale_goal_units",
                "presale_goal_amount",
                "presale_ships_on",
                "presale_funding",
                "presale_charge_when",
            ],
        ),
        (
            "popup_sharing",
            _("Embedding and contact"),
            [
                "allowed_embed_origins",
                "messenger_username",
                "whatsapp_number",
                "instagram_username",
            ],
        ),
        (
            "popup_events",
            _("Events and countries"),
            ["unlock_code", "event_only", "ship_to_countries"],
        ),
    ]

    class Meta:
        model = PopUp
        fields = [
            "title",
            "slug",
            "tagline",
            "description",
            "kind",
            "hero_image",
            "accent_colour",
            "range",
            "opens_at",
            "closes_at",
            "is_published",
            "per_customer_limit",
            "presale_goal_units",
            "presale_goal_amount",
            "presale_ships_on",
            "presale_funding",
            "presale_charge_when",
            "allowed_embed_origins",
            "messenger_username",
            "whatsapp_number",
            "instagram_username",
            "unlock_code",
            "event_only",
            "ship_to_countries",
        ]
        field_classes = {
            "opens_at": StoreDateTimeField,
            "closes_at": StoreDateTimeField,
            "hero_image": HeroImageField,
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 5}),
            "accent_colour": forms.TextInput(attrs={"type": "color", "style": "max-width: 6rem"}),
            "allowed_embed_origins": forms.Textarea(attrs={"rows": 3}),
            "presale_ships_on": forms.DateInput(attrs={"type": "date"}),
            "presale_funding": forms.RadioSelect,
            "presale_charge_when": forms.RadioSelect,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.fields["slug"].help_text = _(
            "The pop-up's address: /popup/<slug>/. Leave empty to make one from the title."
        )
        self.fields["range"].required = False
        self.fields["range"].queryset = Range.objects.order_by("name")
        self.fields["range"].label = _("An existing range")
        self.fields["range"].empty_label = _("— none: make a new range —")
        self.fields["range"].help_text = _(
            "The slice of the catalogue to sell. Ranges can also select whole categories or "
            "product types; edit them under Catalogue › Ranges."
        )
        self.fields["hero_image"].help_text = _(
            "JPEG, PNG or WebP, at most 8 MB, at least 600×315 px. Wider than 2400 px is "
            "scaled down. Also used for the share image."
        )
        self.fields["presale_goal_units"].help_text = _(
            "Pre-sales only: the units to sell by the closing date, e.g. 200. Or a goal in money."
        )
        self.fields["presale_goal_amount"].help_text = _(
            "Or the money to raise by the closing date."
        )
        # Radio buttons always send a value; a post without one keeps what is stored.
        self.fields["presale_funding"].required = False
        self.fields["presale_funding"].help_text = _(
            "Flexible: backers keep their order whether or not the goal is reached. All or "
            "nothing: backers save a card and are charged only if the goal is met; if it is "
            "missed, nobody pays. It cannot change once the pre-sale has pledges."
        )
        self.fields["presale_charge_when"].required = False
        self.fields["presale_charge_when"].help_text = _(
            "All or nothing only: charge the saved cards as soon as the goal is reached, or when "
            "the pop-up closes (backers can change or cancel their pledge until then)."
        )
        zone = _("Store time (%(zone)s).") % {"zone": settings.TIME_ZONE}
        self.fields["opens_at"].help_text = zone
        self.fields["closes_at"].help_text = zone

    def sections(self) -> list[dict]:
        """The tabs with their bound fields; the first one with errors is opened."""
        sections = []
        for section_id, label, names in self.SECTIONS:
            fields = [self[name] for name in names]
            errors = any(field.errors for field in fields)
            sections.append({"id": section_id, "label": label, "fields": fields, "errors": errors})
        active = next((section for section in sections if section["errors"]), sections[0])
        active["active"] = True
        return sections

    def clean(self):
        data = super().clean()
        if not data.get("slug") and data.get("title") and not self.has_error("slug"):
            data["slug"] = popup_slug_suggest(title=data["title"], exclude_pk=self.instance.pk)

        chosen_range, products = data.get("range"), data.get("products")
        if chosen_range and products:
            self.add_error(
                "products",
                _("Pick an existing range or products for a new range, not both."),
            )
        elif not (
            chosen_range or products or self.has_error("range") or self.has_error("products")
        ):
            self.add_error("range", _("Choose a range, or pick products for a new one."))

        opens, closes = data.get("opens_at"), data.get("closes_at")
        schedule_valid = opens and closes and closes > opens
        slice_valid = not (self.has_error("range") or self.has_error("products"))
        if data.get("is_published") and schedule_valid and slice_valid:
            candidate = PopUp(pk=self.instance.pk, opens_at=opens, closes_at=closes)
            if chosen_range:
                candidate.range = chosen_range
                product_ids = None
            else:
                product_ids = [product.pk for product in products]
            for conflict in popup_schedule_conflicts(popup=candidate, product_ids=product_ids):
                self.add_error(None, conflict.message)

        self._clean_funding(data)
        return data

    def clean_presale_funding(self):
        return self.cleaned_data["presale_funding"] or self.instance.presale_funding

    def clean_presale_charge_when(self):
        return self.cleaned_data["presale_charge_when"] or self.instance.presale_charge_when

    def _clean_funding(self, data) -> None:
        # self.instance still holds the stored values here: the form copies its data onto it
        # only after clean().
        kind, funding = data.get("kind"), data.get("presale_funding")
        stored = self.instance
        if funding == PopUp.Funding.ALL_OR_NOTHING and kind and kind != PopUp.Kind.PRESALE:
            self.add_error(
                "presale_funding",
                _(
                    "All or nothing is for pre-sales only: make this pop-up a pre-sale, or "
                    "choose flexible."
                ),
            )
        if funding != PopUp.Funding.ALL_OR_NOTHING:
            # When to charge pledges means nothing without pledges: keep what is stored.
            data["presale_charge_when"] = stored.presale_charge_when
        changes_funding = funding and funding != stored.presale_funding
        leaves_presales = kind and kind != stored.kind and stored.kind == PopUp.Kind.PRESALE
        if not stored.pk or not (changes_funding or leaves_presales):
            return
        pledges = Pledge.objects.filter(popup=stored).count()
        if not pledges:
            return
        if changes_funding:
            self.add_error(
                "presale_funding",
                ngettext(
                    "This pre-sale already has %(count)d pledge: its funding can no longer "
                    "change, backers saved their cards on these terms.",
                    "This pre-sale already has %(count)d pledges: its funding can no longer "
                    "change, backers saved their cards on these terms.",
                    pledges,
                )
                % {"count": pledges},
            )
        if leaves_presales:
            self.add_error(
                "kind", _("This pre-sale has pledges: it can no longer become another kind.")
            )

    @property
    def new_range_products(self) -> list:
        """The products to make a new range of, when no existing range was chosen."""
        if self.cleaned_data.get("range"):
            return []
        return list(self.cleaned_data.get("products") or [])


class PopUpProductTermsForm(forms.ModelForm):
    class Meta:
        model = PopUpProduct
        fields = ["units_offered", "price", "event_price", "display_order"]
        widgets = {
            "units_offered": forms.NumberInput(attrs={"min": 0}),
            "price": forms.NumberInput(attrs={"min": 0, "step": "0.01"}),
            "event_price": forms.NumberInput(attrs={"min": 0, "step": "0.01"}),
            "display_order": forms.NumberInput(attrs={"min": 0}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.help_text = ""  # explained once under the table, not on every row
        # The database refuses a negative price too; the form says it in words first.
        for name in ("price", "event_price"):
            price = self.fields[name]
            price.min_value = Decimal("0")
            price.validators.append(MinValueValidator(Decimal("0")))


class BasePopUpProductTermsFormSet(forms.BaseModelFormSet):
    def clean(self):
        super().clean()
        # A row outside the queryset (its product left the range since the page was shown)
        # would be ignored silently by edit_only; say so instead.
        if any(form.instance._state.adding for form in self.forms):
            raise forms.ValidationError(
                _("Products of this pop-up changed meanwhile: reload the page and try again.")
            )


PopUpProductTermsFormSet = forms.modelformset_factory(
    PopUpProduct,
    form=PopUpProductTermsForm,
    formset=BasePopUpProductTermsFormSet,
    extra=0,
    can_delete=False,
    edit_only=True,
)


class PresaleGraduateForm(forms.Form):
    stock = forms.IntegerField(
        label=_("Units for sale in the shop, per product"),
        required=False,
        min_value=0,
        help_text=_(
            "Leave empty to keep the stock records as they are. Otherwise each product's stock "
            "record offers this many units to new customers, on top of the units already "
            "allocated to orders (the pre-sale's among them)."
        ),
    )


class PopUpSearchForm(forms.Form):
    q = forms.CharField(label=_("Title or slug"), required=False)
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("Any state")), *PopUp.State.choices]
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("Any kind")), *PopUp.Kind.choices]
    )


class PollForm(forms.Form):
    """A new poll: the pop-up, the question, and its choices one per line (2 to 8)."""

    popup = forms.ModelChoiceField(queryset=PopUp.objects.order_by("-opens_at"), label=_("Pop-up"))
    question = forms.CharField(max_length=200, label=_("Question"))
    options = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        label=_("Choices"),
        help_text=_("One per line, 2 to 8."),
    )

    def clean_options(self) -> list[str]:
        labels = [
            line.strip() for line in self.cleaned_data["options"].splitlines() if line.strip()
        ]
        if not 2 <= len(labels) <= 8:
            raise forms.ValidationError(_("Give between 2 and 8 choices, one per line."))
        if any(len(label) > 120 for label in labels):
            raise forms.ValidationError(_("Keep each choice under 120 characters."))
        if len({label.lower() for label in labels}) != len(labels):
            raise forms.ValidationError(_("Each choice must be different."))
        return labels


class PlacementForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=80,
        help_text=_("Where it goes, e.g. Instagram bio, Facebook post 12 May, newsletter."),
    )


class AmbassadorInviteForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    kind = forms.ChoiceField(label=_("Kind"), choices=Ambassador.Kind.choices)
    code = forms.RegexField(
        r"^[A-Za-z0-9]{1,20}$",
        label=_("Code"),
        max_length=20,
        required=False,
        help_text=_("Letters and digits; empty: made from the name. Kept for a known ambassador."),
    )
    discount_percent = forms.DecimalField(
        label=_("Discount for their audience (%)"),
        min_value=0,
        max_value=90,
        decimal_places=2,
        initial=0,
    )
    commission_percent = forms.DecimalField(
        label=_("Commission (%)"), min_value=0, max_value=100, decimal_places=2, initial=10
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control"


class CommissionPaidForm(forms.Form):
    reference = forms.CharField(
        label=_("Payment reference"),
        max_length=120,
        required=False,
        help_text=_("e.g. the bank transfer's reference."),
    )
