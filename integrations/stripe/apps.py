from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StripeConfig(AppConfig):
    name = "integrations.stripe"
    label = "popup_stripe"
    verbose_name = _("Stripe payments")
    default_auto_field = "django.db.models.AutoField"
    # Served under the plugin's URLs (popup.urls includes it).
    popup_urls = "integrations.stripe.urls"

    def ready(self):
        from integrations.stripe import receivers  # noqa: F401
