from django import forms
from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_model

Country = get_model("address", "Country")


class CheckoutForm(forms.Form):
    """Who pays and where it ships. The card itself never reaches us: Stripe.js sends it to Stripe."""

    email = forms.EmailField(label=_("Email"), max_length=254)
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
        self.fields["country"].choices = [("", "")] + [
            (country.iso_3166_1_a2, country.printable_name)
            for country in offered.order_by("display_order", "printable_name")
        ]
        self.requires_shipping = requires_shipping
        if not requires_shipping:
            for name in ("line1", "line2", "city", "postcode", "country"):
                self.fields[name].required = False

    def clean(self):
        data = super().clean()
        if self.card_needed and not data.get("card_token") and not data.get("payment_method"):
            raise forms.ValidationError(_("Please enter your card details."), code="no_card")
        return data
