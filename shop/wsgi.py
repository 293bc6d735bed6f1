import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
application = get_wsgi_application()

# Pop-up pages served as stored shells, before Django's middleware (README: drop day).
from popup.core.shells import PageShells  # noqa: E402 - needs the settings above

application = PageShells(application)
