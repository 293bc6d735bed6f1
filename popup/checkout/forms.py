import unicodedata

from babel import Locale, UnknownLocaleError
from django import forms
from django.utils.translation import get_language, pgettext_lazy, to_locale
from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_model

from popup.conf import popup_settings

Country = get_model("address", "Country")


def _alphabetical(name: str) -> str:
    """A name as a dictionary sorts it, accents aside: "États-Unis" among the E."""
    letters = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in letters if not unicodedata.combining(ch)).casefold()


def country_choices(countries: dict[str, tuple[str, int]]) -> tuple[list[tuple[str, str]], str]:
    """The countries (ISO code: the store's name for it and its display order) named in the page's
    language, as Unicode's CLDR writes them (Babel): the store's country (POPUP_WALLET_COUNTRY)
    first, then those the merchant ranked higher (Oscar's display order), then the rest in the
    language's alphabetical order; with the code to preselect, the store's ("" if not offered)."""
    try:
        territories = Locale.parse(to_locale(get_language() or "")).territories
    except (UnknownLocaleError, ValueError):
        territories = {}
    store = popup_settings.POPUP_WALLET_COUNTRY.upper()
    named = sorted(
        ((code, territories.get(code, name), order) for code, (name, order) in countries.items()),
        key=lambda choice: (choice[0] != store, -choice[2], _alphabetical(choice[1])),
    )
    return [(code, name) for code, name, _order in named], store if store in countries else ""


class CheckoutForm(forms.Form):
    """Who pays and where it ships. The card itself never reaches us: Stripe.js sends it to Stripe."""

    # Contexts keep the plugin's words where Django or Oscar translate the same English otherwise.
    email = forms.EmailField(label=pgettext_lazy("shopper's address", "Email"), max_length=254)
    first_name = forms.CharField(label=_("First name"), max_length=255)
    last_name = forms.CharField(label=_("Last name"), max_length=255)
    line1 = forms.CharField(label=_("Address"), max_length=255)
    line2 = forms.CharField(label=_("Address, line 2"), max_length=255, required=False)
    city = forms.CharField(label=_("City"), max_length=255)
    postcode = forms.CharField(label=_("Postcode"), max_length=64)
    country = forms.ChoiceField(label=_("Country"))
    card_token = forms.CharField(max_length=255, required=False, widget=forms.HiddenInput)
    payment_method = forms.RegexField(
        r"^pm_\w+$", max_length=255, required=False, widget=forms.HiddenInput
    )

    def __init__(
        self,
        *args,
        requires_shipping: bool = True,
        card_needed: bool = True,
        countries: list[str] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        # A pledge saves the card after the details are checked, so it arrives later.
        self.card_needed = card_needed
        offered = Country.objects.filter(is_shipping_country=True)
        if countries:  # the pop-up ships only there
            offered = offered.filter(iso_3166_1_a2__in=countries)
        rows = offered.values_list("iso_3166_1_a2", "printable_name", "display_order")
        choices, first = country_choices({code: (name, order) for code, name, order in rows})
        self.fields["country"].choices = choices if first else [("", ""), *choices]
        self.fields["country"].initial = first
        self.requires_shipping = requires_shipping
        if not requires_shipping:
            for name in ("line1", "line2", "city", "postcode", "country"):
                self.fields[name].required = False

    def clean(self):
        data = super().clean()
        if self.card_needed and not data.get("card_token") and not data.get("payment_method"):
            raise forms.ValidationError(_("Please enter your card details."), code="no_card")
        return data
