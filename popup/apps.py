from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PopUpConfig(AppConfig):
    name = "popup"
    label = "popup"
    verbose_name = _("Pop-up shops")
    default_auto_field = "django.db.models.AutoField"

    def ready(self):
        from popup import checks, receivers  # noqa: F401
