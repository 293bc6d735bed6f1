"""Dashboard forms: the pop-up, its per-product terms, graduating a pre-sale, the list filters,
a shopper's address for their data."""

from decimal import Decimal

from babel import Locale, UnknownLocaleError
from django import forms
from django.conf import settings
from django.core.validators import MinValueValidator
from django.db.models import Count
from django.forms.utils import ErrorDict
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.translation import get_language_info, ngettext
from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_class, get_model

from popup.core.languages import language_match, languages_offered
from popup.core.popups import (
    HERO_IMAGE_FORMATS,
    ProductTerms,
    popup_hero_image_prepare,
    popup_schedule_conflicts,
    popup_slug_suggest,
)
from popup.dashboard.selectors import ARCHIVED
from popup.models import Ambassador, Pledge, PopUp, PopUpProduct
from popup.models.core import origin_cut, parse_origins
from popup.privacy.addresses import mailbox_key

Product = get_model("catalogue", "Product")
Range = get_model("offer", "Range")
ProductSelect = get_class("dashboard.catalogue.widgets", "ProductSelect")
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


def language_name(code: str, *, regional: bool = False) -> str:
    """A language named in itself, capitalised: "Français"; `regional`, with its region too
    ("Français (Suisse)"), for a store offering several of one language."""
    name = code
    try:
        if regional and "-" in code:
            name = Locale.parse(code, sep="-").get_display_name() or code
        else:
            name = get_language_info(code.split("-")[0])["name_local"]
    except (KeyError, ValueError, UnknownLocaleError):  # a language unknown to Django or Babel
        pass
    return name[:1].upper() + name[1:]


def language_choices() -> list[tuple[str, str]]:
    """The pop-up's default language, as the form offers it: blank for the store's, then each
    language the store offers, named in itself."""
    offered = languages_offered()
    primaries = [code.split("-")[0] for code in offered]
    names = {
        code: language_name(code, regional=primaries.count(code.split("-")[0]) > 1)
        for code in offered
    }
    default = _("The store's default (%(language)s)") % {"language": names[offered[0]]}
    return [("", default), *names.items()]


class PopUpForm(forms.ModelForm):
    products = forms.ModelMultipleChoiceField(
        label=_("…or a new range of these products"),
        queryset=Product.objects.browsable_dashboard(),
        required=False,
        widget=ProductSelectMultiple(attrs={"class": "select2"}),
        help_text=_("A new range is created for the pop-up with exactly these products."),
    )

    # Sections of the form, as (id, label, fields, optional): one after another, the optional ones
    # folded on the create page until opened or in error. Fields not in the form are left out.
    SECTIONS = [
        (
            "popup_details",
            _("Details"),
            ["title", "slug", "tagline", "description", "language", "kind"],
            False,
        ),
        ("popup_products", _("Products"), ["range", "products"], False),
        (
            "popup_schedule",
            _("Schedule and publishing"),
            ["opens_at", "closes_at", "publishing", "is_published", "per_customer_limit"],
            False,
        ),
        ("popup_look", _("Look"), ["hero_image", "accent_colour"], True),
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
            True,
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
            True,
        ),
        (
            "popup_events",
            _("Events and countries"),
            ["unlock_code", "event_only", "ship_to_countries"],
            True,
        ),
    ]

    class Meta:
        model = PopUp
        fields = [
            "title",
            "slug",
            "tagline",
            "description",
            "language",
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

    def clean_allowed_embed_origins(self) -> str:
        """A page's address pasted from the browser counts as its origin, one per line."""
        text = self.cleaned_data["allowed_embed_origins"]
        return "\n".join(origin_cut(origin) for origin in parse_origins(text))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        # Escaped here: Oscar's form template shows help texts as HTML.
        self.fields["slug"].help_text = conditional_escape(
            _("The pop-up's address: /popup/<slug>/. Leave empty to make one from the title.")
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
        for field in self.fields.values():
            if isinstance(field.widget, forms.RadioSelect):  # drawn one by one, in a fieldset
                field.widget.attrs["class"] = "form-check-input"
        zone = _("Store time (%(zone)s).") % {"zone": settings.TIME_ZONE}
        self.fields["opens_at"].help_text = zone
        self.fields["closes_at"].help_text = zone
        self._language_field()

    def _language_field(self) -> None:
        """The default language as a list of the store's languages; no field for a store with one
        (the stored value is kept)."""
        if "language" not in self.fields:
            return
        if len(languages_offered()) < 2:
            del self.fields["language"]
            return
        stored = self.fields["language"]
        self.fields["language"] = forms.ChoiceField(
            label=stored.label,
            help_text=stored.help_text,
            choices=language_choices(),
            required=False,
        )
        # A code the store offers in another form ("fr-FR" for "fr") shows as the one it means.
        if self.instance.language:
            self.initial["language"] = language_match(self.instance.language) or ""

    def sections(self) -> list[dict]:
        """The sections with their bound fields; optional ones are open when editing or in error."""
        sections = []
        for section_id, label, names, optional in self.SECTIONS:
            fields = [self[name] for name in names if name in self.fields]
            errors = any(field.errors for field in fields)
            if section_id == "popup_products":
                errors = errors or self.product_rows_errors()
            sections.append(
                {
                    "id": section_id,
                    "label": label,
                    "fields": fields,
                    "errors": errors,
                    "optional": optional,
                    "open": errors or not optional or self.instance.pk is not None,
                }
            )
        return sections

    def product_rows_errors(self) -> bool:
        return False

    def clean(self):
        data = super().clean()
        if not data.get("slug") and data.get("title") and not self.has_error("slug"):
            data["slug"] = popup_slug_suggest(title=data["title"], exclude_pk=self.instance.pk)
        self._clean_publishing(data)
        product_ids = self._clean_slice(data)
        opens, closes = data.get("opens_at"), data.get("closes_at")
        schedule_valid = opens and closes and closes > opens
        if data.get("is_published") and schedule_valid and self._slice_valid():
            candidate = PopUp(pk=self.instance.pk, opens_at=opens, closes_at=closes)
            if product_ids is None:
                candidate.range = data["range"]
            self._conflicts_add(popup_schedule_conflicts(popup=candidate, product_ids=product_ids))
        self._clean_funding(data)
        return data

    def _clean_publishing(self, data) -> None:
        """The edit form publishes with its is_published box: nothing to do."""

    def _clean_slice(self, data) -> list[int] | None:
        """Checks the range or products chosen; the ids of the products for a new range, or None
        for an existing range."""
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
        if chosen_range:
            return None
        return [product.pk for product in products or []]

    def _slice_valid(self) -> bool:
        return not (self.has_error("range") or self.has_error("products"))

    def _conflicts_add(self, conflicts: list) -> None:
        for conflict in conflicts:
            self.add_error(None, conflict.message)

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


# The create page: the pop-up, its products with their caps and prices, and publishing, in one save.

# A catalogue larger than this gets Oscar's search-as-you-type product picker in each row instead
# of a plain list (a list of every product in each row would weigh too much).
PRODUCT_CHOICES_MAX = 500
PRODUCT_ROWS_BLANK = 5  # the blank rows of a new form; "More product rows" adds as many again
PRODUCT_ROWS_MAX = 50


def product_choice_label(product) -> str:
    """How a product reads in a row's list: its title, its UPC, how many variants it stands for."""
    label = product.get_title()
    if product.upc:
        label = f"{label} ({product.upc})"
    variants = getattr(product, "variants", 0)
    if variants:
        label += " — " + ngettext("%(count)d variant", "%(count)d variants", variants) % {
            "count": variants
        }
    return label


class ProductChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return product_choice_label(obj)


class ProductRowForm(forms.ModelForm):
    """One product of a new pop-up with its cap and pop-up price; a blank row is skipped."""

    product = ProductChoiceField(
        queryset=Product.objects.none(),
        error_messages={"required": _("Choose the product these units and price are for.")},
    )

    class Meta:
        model = PopUpProduct
        fields = ["product", "units_offered", "price"]
        widgets = {
            "units_offered": forms.NumberInput(attrs={"min": 0, "inputmode": "numeric"}),
            "price": forms.NumberInput(attrs={"min": 0, "step": "0.01", "inputmode": "decimal"}),
        }

    def __init__(self, *args, row: int | None = None, quiet: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.row, self.quiet = row, quiet
        number = row if row is not None else "__num__"
        # Each input's own label names its row: the page shows the column's name once.
        self.fields["product"].label = _("Product %(row)s") % {"row": number}
        self.fields["units_offered"].label = _("Units offered")
        self.fields["price"].label = _("Pop-up price")
        self.row_label = _("product %(row)s") % {"row": number}
        for field in self.fields.values():
            field.help_text = ""  # explained once under the rows
        price = self.fields["price"]
        price.min_value = Decimal("0")
        price.validators.append(MinValueValidator(Decimal("0")))

    def full_clean(self):
        if self.quiet:  # shown again with more rows, not submitted: no errors yet
            self._errors, self.cleaned_data = ErrorDict(), {}
            return
        super().full_clean()

    def terms(self) -> ProductTerms | None:
        product = self.cleaned_data.get("product") if self.is_valid() else None
        if product is None:
            return None
        return ProductTerms(
            product=product,
            units_offered=self.cleaned_data.get("units_offered"),
            price=self.cleaned_data.get("price"),
        )


class BaseProductRowFormSet(forms.BaseModelFormSet):
    def __init__(self, *args, quiet: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.quiet = quiet
        products = Product.objects.browsable_dashboard()
        self.product_choices = None
        if products.count() <= PRODUCT_CHOICES_MAX:
            listed = products.annotate(variants=Count("children")).order_by("title", "pk")
            self.product_choices = [("", _("— choose a product —"))] + [
                (product.pk, product_choice_label(product)) for product in listed
            ]

    def get_form_kwargs(self, index):
        return {"row": None if index is None else index + 1, "quiet": self.quiet}

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        self._product_field_set(form)
        return form

    @property
    def empty_form(self):
        form = super().empty_form
        self._product_field_set(form)
        return form

    def _product_field_set(self, form) -> None:
        field = form.fields["product"]
        field.queryset = Product.objects.browsable_dashboard()
        if self.product_choices is None:
            field.widget = ProductSelect()
        else:
            field.choices = self.product_choices  # worked out once for every row

    def full_clean(self):
        if self.quiet:
            self._errors, self._non_form_errors = [], self.error_class()
            return
        super().full_clean()

    def clean(self):
        super().clean()
        rows_of = {}
        for form in self.forms:
            product = form.cleaned_data.get("product") if form.is_valid() else None
            if product is None:
                continue
            if product.pk in rows_of:
                form.add_error(
                    "product",
                    _("Already in row %(row)s: one row per product.")
                    % {"row": rows_of[product.pk]},
                )
            else:
                rows_of[product.pk] = form.row

    def filled(self) -> list:
        """The rows the merchant typed or chose something in."""
        return [form for form in self.forms if form.has_changed()]

    def chosen(self) -> list[ProductTerms]:
        """The valid rows' products and terms, in the rows' order."""
        return [terms for form in self.forms if (terms := form.terms()) is not None]

    def products(self) -> list:
        """The products chosen in the rows, whether or not their other fields are valid."""
        self.is_valid()
        return [
            product
            for form in self.forms
            if (product := form.cleaned_data.get("product")) is not None
        ]

    def rows_selling(self, products) -> list:
        """The rows whose product is one of `products` or the parent of one."""
        ids = {product.pk for product in products} | {product.parent_id for product in products}
        return [
            form
            for form in self.forms
            if form.cleaned_data.get("product") is not None
            and form.cleaned_data["product"].pk in ids
        ]


ProductRowFormSet = forms.modelformset_factory(
    PopUpProduct,
    form=ProductRowForm,
    formset=BaseProductRowFormSet,
    extra=PRODUCT_ROWS_BLANK,
    max_num=PRODUCT_ROWS_MAX,
    validate_max=True,
    can_delete=False,
)


class PopUpCreateForm(PopUpForm):
    """From nothing to a published pop-up in one save: its products with their caps and pop-up
    prices in rows (or an existing range), and whether it is published, at once or as scheduled."""

    DRAFT, SCHEDULED, NOW = "draft", "scheduled", "now"

    products = None  # the rows stand for it
    publishing = forms.ChoiceField(
        label=_("Publishing"),
        choices=[
            (DRAFT, _("Save as a draft: only staff can see it")),
            (SCHEDULED, _("Publish: shoppers can buy from the opening time above")),
            (NOW, _("Publish and open now")),
        ],
        initial=DRAFT,
        required=False,  # radio buttons always send one; a post without any makes a draft
        widget=forms.RadioSelect,
    )

    class Meta(PopUpForm.Meta):
        fields = [name for name in PopUpForm.Meta.fields if name != "is_published"]

    def __init__(self, *args, quiet: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.quiet = quiet
        rows_data = None
        if self.is_bound:
            rows_data = self.data
            if "rows-TOTAL_FORMS" not in rows_data:  # posted without rows (a script, say)
                rows_data = rows_data.copy()
                rows_data.update({"rows-TOTAL_FORMS": "0", "rows-INITIAL_FORMS": "0"})
        self.rows = ProductRowFormSet(
            rows_data,
            prefix="rows",
            queryset=PopUpProduct.objects.none(),
            quiet=quiet,
        )
        self.fields["range"].label = _("Or sell an existing range")
        self.fields["range"].empty_label = _("— none: the products above —")

    def full_clean(self):
        if self.quiet:
            self._errors, self.cleaned_data = ErrorDict(), {}
            return
        super().full_clean()

    def is_valid(self) -> bool:
        return super().is_valid() and self.rows.is_valid()

    def product_rows_errors(self) -> bool:
        return self.is_bound and not self.rows.is_valid()

    def _clean_publishing(self, data) -> None:
        publishing = data.get("publishing") or self.DRAFT
        self.instance.is_published = publishing in (self.SCHEDULED, self.NOW)
        data["is_published"] = self.instance.is_published
        if publishing == self.NOW:
            data["opens_at"] = timezone.now()
            if data.get("closes_at") and data["closes_at"] <= data["opens_at"]:
                self.add_error("closes_at", _("To open now, the pop-up must close later than now."))

    def _clean_slice(self, data) -> list[int] | None:
        self.rows.is_valid()
        chosen_range, filled = data.get("range"), self.rows.filled()
        if chosen_range and filled:
            self.add_error(
                "range", _("Pick an existing range or products for a new range, not both.")
            )
        elif not (chosen_range or filled or self.has_error("range")):
            message = _("Pick the pop-up's products here, or choose an existing range.")
            if self.rows.forms:
                self.rows.forms[0].add_error("product", message)
            else:
                self.add_error("range", message)
        if chosen_range:
            return None
        return [product.pk for product in self.rows.products()]

    def _slice_valid(self) -> bool:
        # Rows with another error are checked too: every error shows at the first save.
        return not self.has_error("range")

    def _conflicts_add(self, conflicts: list) -> None:
        # Next to the product that another published pop-up already sells at the same time.
        for conflict in conflicts:
            rows = self.rows.rows_selling(conflict.products)
            if not rows:
                self.add_error(None, conflict.message)
            for form in rows:
                form.add_error("product", conflict.message)

    @property
    def terms(self) -> list[ProductTerms]:
        """The products for the new range with their terms, when no existing range was chosen."""
        if self.cleaned_data.get("range"):
            return []
        return self.rows.chosen()

    def more_rows(self) -> "PopUpCreateForm":
        """This form as posted, with PRODUCT_ROWS_BLANK more blank rows (PRODUCT_ROWS_MAX in all
        at most), shown without errors."""
        data = self.data.copy()
        # The count as the formset's management form validated it: one that is not a whole number
        # of rows (a tampered post) counts as none, and the blank rows come back.
        shown = max(self.rows.total_form_count(), 0)
        data["rows-TOTAL_FORMS"] = str(min(shown + PRODUCT_ROWS_BLANK, PRODUCT_ROWS_MAX))
        data["rows-INITIAL_FORMS"] = "0"  # a new pop-up has no saved rows
        return type(self)(data, instance=PopUp(), quiet=True)


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
        label=_("State"),
        required=False,
        choices=[("", _("Any state")), *PopUp.State.choices, (ARCHIVED, _("Archived"))],
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
    landing_url = forms.URLField(
        label=_("Its address"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=_("Shoppers who pay inside an app's browser get a link back to it."),
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


class ShopperDataForm(forms.Form):
    """The address whose data the "Shoppers' data" page exports or erases."""

    email = forms.EmailField(
        label=_("Shopper's e-mail address"),
        max_length=254,
        error_messages={"invalid": _("Enter a valid e-mail address.")},  # the glossary's word
        help_text=_(
            "Found as its mailbox receives it: whatever the letter case, with or without a +tag "
            "at the providers that ignore them, with or without dots at Gmail."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs.update(
            {"class": "form-control", "autocomplete": "off", "spellcheck": "false"}
        )


class ErasureConfirmForm(forms.Form):
    """The address typed again: an erasure cannot be undone."""

    confirmation = forms.CharField(label=_("To confirm, type the address again"), max_length=254)

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email
        self.fields["confirmation"].widget.attrs.update(
            {"class": "form-control", "autocomplete": "off", "spellcheck": "false"}
        )

    def clean_confirmation(self) -> str:
        confirmation = self.cleaned_data["confirmation"]
        # The same mailbox, as the erasure reads it: another spelling of it erases the same rows.
        if mailbox_key(confirmation) != mailbox_key(self.email):
            raise forms.ValidationError(
                _("This is not the address above: nothing was erased."), code="mismatch"
            )
        return confirmation
