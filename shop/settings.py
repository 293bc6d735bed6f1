"""Settings of the reference store. Everything that varies between machines comes from the environment."""

import os
import warnings
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _
from oscar.defaults import *  # noqa: F403

from popup.schedule import POPUP_BEAT_SCHEDULE

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("POPUP_VAR_DIR", BASE_DIR / "var"))

env = os.environ.get

DEBUG = env("DJANGO_DEBUG", "1") == "1"
SECRET_KEY = env("DJANGO_SECRET_KEY", "demo-only-insecure-key" if DEBUG else "")
if not SECRET_KEY:
    raise RuntimeError("Set DJANGO_SECRET_KEY when DJANGO_DEBUG=0.")
ALLOWED_HOSTS = env("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=60,
        # A kept connection is checked before a request uses it: after PostgreSQL restarts, the
        # first request reconnects instead of failing on a dead connection.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo's SQLite: take the write lock when a transaction starts and wait for it, so a webhook
    # arriving during a checkout queues instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"  # Oscar's migrations read it.

REDIS_URL = env("REDIS_URL", "")
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that is down must not hold a page: give up on it within half a second.
            "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.flatpages",
    "oscar.config.Shop",
    "oscar.apps.analytics.apps.AnalyticsConfig",
    "oscar.apps.checkout.apps.CheckoutConfig",
    "oscar.apps.address.apps.AddressConfig",
    "oscar.apps.shipping.apps.ShippingConfig",
    "oscar.apps.catalogue.apps.CatalogueConfig",
    "oscar.apps.catalogue.reviews.apps.CatalogueReviewsConfig",
    "oscar.apps.communication.apps.CommunicationConfig",
    "oscar.apps.partner.apps.PartnerConfig",
    "oscar.apps.basket.apps.BasketConfig",
    "oscar.apps.payment.apps.PaymentConfig",
    "oscar.apps.offer.apps.OfferConfig",
    "oscar.apps.order.apps.OrderConfig",
    "oscar.apps.customer.apps.CustomerConfig",
    "oscar.apps.search.apps.SearchConfig",
    "oscar.apps.voucher.apps.VoucherConfig",
    "oscar.apps.wishlists.apps.WishlistsConfig",
    "oscar.apps.dashboard.apps.DashboardConfig",
    "oscar.apps.dashboard.reports.apps.ReportsDashboardConfig",
    "oscar.apps.dashboard.users.apps.UsersDashboardConfig",
    "oscar.apps.dashboard.orders.apps.OrdersDashboardConfig",
    "oscar.apps.dashboard.catalogue.apps.CatalogueDashboardConfig",
    "oscar.apps.dashboard.offers.apps.OffersDashboardConfig",
    "oscar.apps.dashboard.partners.apps.PartnersDashboardConfig",
    "oscar.apps.dashboard.pages.apps.PagesDashboardConfig",
    "oscar.apps.dashboard.ranges.apps.RangesDashboardConfig",
    "oscar.apps.dashboard.reviews.apps.ReviewsDashboardConfig",
    "oscar.apps.dashboard.vouchers.apps.VouchersDashboardConfig",
    "oscar.apps.dashboard.communications.apps.CommunicationsDashboardConfig",
    "oscar.apps.dashboard.shipping.apps.ShippingDashboardConfig",
    "widget_tweaks",
    "haystack",
    "treebeard",
    "sorl.thumbnail",
    "django_tables2",
    "shop.apps.ShopConfig",
    # The plugin.
    "popup.apps.PopUpConfig",
    "popup.dashboard.apps.PopUpDashboardConfig",
    "integrations.social.apps.SocialConfig",
    "integrations.stripe.apps.StripeConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The store's pages and Oscar's dashboard in each visitor's language; pop-ups choose their own.
    "popup.http.locale.StoreLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "oscar.apps.basket.middleware.BasketMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
]
X_FRAME_OPTIONS = "DENY"
if env("DJANGO_BEHIND_TLS_PROXY") == "1":  # absolute URLs in share tags and oEmbed must say https
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

ROOT_URLCONF = "shop.urls"
WSGI_APPLICATION = "shop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.template.context_processors.i18n",
                "django.contrib.messages.context_processors.messages",
                "oscar.apps.search.context_processors.search_form",
                "oscar.apps.checkout.context_processors.checkout",
                "oscar.core.context_processors.metadata",
                "oscar.apps.communication.notifications.context_processors.notifications",
            ],
        },
    }
]

AUTHENTICATION_BACKENDS = [
    "oscar.apps.customer.auth_backends.EmailBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_REDIRECT_URL = "/"

HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}

LANGUAGE_CODE = "en-gb"
# The languages of the store and of its pop-ups (each pop-up may choose its default among them).
LANGUAGES = [("en-gb", "English"), ("fr", "Français")]
TIME_ZONE = env("DJANGO_TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True
SITE_ID = 1

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Media (product images, catalogue feeds) on an S3-compatible object store, so that several web
# nodes keep nothing on their own disks: S3_BUCKET names the bucket, S3_ENDPOINT_URL a store other
# than AWS (MinIO, Scaleway, OVHcloud…), S3_CUSTOM_DOMAIN the public address media are served from
# (a CDN); the keys come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, as boto3 reads them.
if env("S3_BUCKET", ""):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("S3_BUCKET"),
            "endpoint_url": env("S3_ENDPOINT_URL", "") or None,
            "region_name": env("S3_REGION", "") or None,
            "custom_domain": env("S3_CUSTOM_DOMAIN", "") or False,
            "querystring_auth": False,  # public media: product images, feeds behind their token
            "file_overwrite": True,  # a feed is replaced in one upload (integrations.social)
        },
    }

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "shop@example.com")
OSCAR_FROM_EMAIL = DEFAULT_FROM_EMAIL  # Oscar's dispatcher sends the plugin's e-mails too

OSCAR_SHOP_NAME = env("OSCAR_SHOP_NAME", "Atelier Nord")
OSCAR_SHOP_TAGLINE = "Small-batch goods"
OSCAR_DEFAULT_CURRENCY = "EUR"
# Guests buy without an account (Oscar's own checkout; bench/flash_sale.py goes through it).
OSCAR_ALLOW_ANON_CHECKOUT = env("OSCAR_ALLOW_ANON_CHECKOUT", "1") == "1"
OSCAR_INITIAL_ORDER_STATUS = "Pending"
OSCAR_INITIAL_LINE_STATUS = "Pending"
OSCAR_ORDER_STATUS_PIPELINE = {
    "Pending": ("Being processed", "Cancelled"),
    "Being processed": ("Shipped", "Cancelled"),
    "Shipped": (),
    "Cancelled": (),
}
# Back-in-stock alerts go through Celery (popup.receivers) instead of every StockRecord save.
OSCAR_EAGER_ALERTS = False
# The labels are the titles of the plugin's dashboard pages: its catalogue translates them.
OSCAR_DASHBOARD_NAVIGATION = [
    *OSCAR_DASHBOARD_NAVIGATION,  # noqa: F405
    {
        "label": _("Pop-ups"),
        "icon": "fas fa-store",
        "children": [
            {"label": _("Pop-ups"), "url_name": "popup-dashboard:popup-list"},
            {"label": _("Shoppers' questions"), "url_name": "popup-dashboard:question-list"},
            {"label": _("Ideas"), "url_name": "popup-dashboard:idea-list"},
            {"label": _("Polls"), "url_name": "popup-dashboard:poll-list"},
            {"label": _("Ambassadors"), "url_name": "popup-dashboard:ambassador-list"},
            {"label": _("Shoppers' data"), "url_name": "popup-dashboard:shopper-data"},
        ],
    },
]

# Celery: Redis in production and CI; without a broker the demo runs tasks in-process.
CELERY_TASK_ALWAYS_EAGER = not env("CELERY_BROKER_URL")
CELERY_BROKER_URL = env("CELERY_BROKER_URL") or "memory://"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
# A broker that restarts or stays down a while must not end the worker: retry for ever.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {**POPUP_BEAT_SCHEDULE}

# Days between a pop-up order and the e-mail asking the buyer to review what they bought.
POPUP_REVIEW_REQUEST_DAYS = int(env("POPUP_REVIEW_REQUEST_DAYS", "7"))

# The store's address as backers see it, for the links in e-mails sent by background tasks.
POPUP_SITE_URL = env("POPUP_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# The proxies whose X-Forwarded-For names the shopper, for per-address limits (default: none).
POPUP_TRUSTED_PROXIES = [proxy for proxy in env("POPUP_TRUSTED_PROXIES", "").split(",") if proxy]

# Where pages hear their live figures pushed: the stream process (uvicorn popup.stream:application),
# e.g. "/popup/stream/" when a proxy sends that path to it (README: production). Empty: pages poll.
POPUP_STREAM_URL = env("POPUP_STREAM_URL", "")

# The secret catalogue feed URLs are derived from (default: SECRET_KEY); change it to revoke them all.
POPUP_FEED_SECRET = env("POPUP_FEED_SECRET", "")

# The country of the Stripe account, which Apple Pay and Google Pay sheets need.
POPUP_WALLET_COUNTRY = env("POPUP_WALLET_COUNTRY", "FR")

# The terms of sale and who shoppers write to to withdraw from a purchase (EU Directive 2011/83/EU);
# the postal address's lines separated by "|".
POPUP_TERMS_URL = env("POPUP_TERMS_URL", "")
POPUP_MERCHANT_NAME = env("POPUP_MERCHANT_NAME", "")
POPUP_MERCHANT_ADDRESS = "\n".join(
    line.strip() for line in env("POPUP_MERCHANT_ADDRESS", "").split("|") if line.strip()
)
POPUP_MERCHANT_EMAIL = env("POPUP_MERCHANT_EMAIL", "")
POPUP_MERCHANT_PHONE = env("POPUP_MERCHANT_PHONE", "")

# Stripe: real Stripe when STRIPE_SECRET_KEY is set; otherwise localstripe on 127.0.0.1 (test/demo
# stand-in, run it with `python -m shop.localstripe_run`) with its fake Stripe.js and demo keys.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", "")
if STRIPE_SECRET_KEY:
    STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", "")
    STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", "")
    STRIPE_API_BASE = None
    STRIPE_JS_URL = "https://js.stripe.com/v3/"
else:
    if not DEBUG and not env("LOCALSTRIPE_URL"):
        # A production store without keys would take "payments" on a fake: refuse to start instead.
        raise RuntimeError(
            "Set STRIPE_SECRET_KEY (or LOCALSTRIPE_URL for a test stack) when DJANGO_DEBUG=0."
        )
    LOCALSTRIPE_URL = env("LOCALSTRIPE_URL", "http://127.0.0.1:8420").rstrip("/")
    STRIPE_SECRET_KEY = "sk_test_localstripe"
    STRIPE_PUBLISHABLE_KEY = "pk_test_localstripe"
    STRIPE_WEBHOOK_SECRET = "whsec_localstripe_demo"
    STRIPE_API_BASE = LOCALSTRIPE_URL
    STRIPE_JS_URL = f"{LOCALSTRIPE_URL}/js.stripe.com/v3/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"popup": {"handlers": ["console"], "level": "INFO"}},
}

# Haystack's simple backend (Oscar's default search) warns on every product save; it has no index to update.
warnings.filterwarnings("ignore", "update is not implemented in this backend", UserWarning)
