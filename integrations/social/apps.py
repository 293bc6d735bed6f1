from django.apps import AppConfig


class SocialConfig(AppConfig):
    name = "integrations.social"
    label = "popup_social"
    verbose_name = "Pop-up social previews"

    def ready(self):
        from . import receivers  # noqa: F401
