"""System checks: what a store must set for the plugin to work, said at start-up with the setting's
name (`manage.py check --deploy` runs them too), never discovered as an error at request time."""

import ipaddress

from django.conf import settings
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.checks import Error, Tags, Warning, register

from popup.conf import payments_configured, popup_settings
from popup.schedule import POPUP_BEAT_SCHEDULE


@register(Tags.compatibility)
def stripe_check(app_configs, **kwargs) -> list:
    """Stripe keys outside DEBUG, a webhook secret with them, no stand-in in production."""
    problems = []
    if not payments_configured() and not settings.DEBUG:
        problems.append(
            Warning(
                "Payments are not configured: pop-up checkouts tell shoppers so and take no payment.",
                hint="Set STRIPE_SECRET_KEY and STRIPE_PUBLISHABLE_KEY (from the environment).",
                id="popup.W001",
            )
        )
    if payments_configured() and not popup_settings.STRIPE_WEBHOOK_SECRET:
        problems.append(
            Warning(
                "STRIPE_WEBHOOK_SECRET is not set: every Stripe webhook is refused, so a payment "
                "whose shopper closed the page before it finished never becomes an order.",
                hint="Set STRIPE_WEBHOOK_SECRET to the signing secret of the endpoint "
                "/popup/stripe/webhook/ in Stripe's dashboard.",
                id="popup.W002",
            )
        )
    if popup_settings.STRIPE_API_BASE and not settings.DEBUG:
        problems.append(
            Warning(
                f"STRIPE_API_BASE sends payments to {popup_settings.STRIPE_API_BASE}, not Stripe.",
                hint="Leave STRIPE_API_BASE unset in production; it is for a test stand-in.",
                id="popup.W003",
            )
        )
    return problems


@register(Tags.compatibility)
def celery_check(app_configs, **kwargs) -> list:
    """A broker that a worker reads (or eager mode), and the beat entries the plugin needs."""
    from celery import current_app

    conf = current_app.conf
    problems = []
    if not conf.task_always_eager and not conf.broker_url:
        problems.append(
            Warning(
                "Celery has no broker configured: the plugin's tasks (order e-mails, webhooks, "
                "pre-sale settlement) would wait in a queue that no worker reads.",
                hint="Create the store's Celery app and set CELERY_BROKER_URL (README: Celery), "
                "or CELERY_TASK_ALWAYS_EAGER = True to run tasks in-process while trying the plugin.",
                id="popup.W010",
            )
        )
    scheduled = {entry.get("task") for entry in (conf.beat_schedule or {}).values()}
    missing = sorted({entry["task"] for entry in POPUP_BEAT_SCHEDULE.values()} - scheduled)
    if missing:
        problems.append(
            Warning(
                "Celery beat does not schedule " + ", ".join(missing) + ": without them no "
                "pre-sale is settled at its deadline and counters and feeds are never refreshed.",
                hint="from popup.schedule import POPUP_BEAT_SCHEDULE, then "
                "CELERY_BEAT_SCHEDULE = {**POPUP_BEAT_SCHEDULE}, and run celery beat.",
                id="popup.W011",
            )
        )
    return problems


@register(Tags.caches)
def cache_check(app_configs, **kwargs) -> list:
    """A cache shared by every process in production."""
    from django.core.cache import caches

    if settings.DEBUG or popup_settings.POPUP_REDIS_URL:
        return []
    if isinstance(caches["default"], LocMemCache | DummyCache):
        return [
            Warning(
                "The default cache is not shared between processes: each one draws its own share "
                "images, and catalogue feed rewrites are not debounced across processes.",
                hint="Use Redis in production: CACHES['default'] with RedisCache, or "
                "POPUP_REDIS_URL for the plugin alone.",
                id="popup.W020",
            )
        ]
    return []


@register(Tags.compatibility)
def site_check(app_configs, **kwargs) -> list:
    """Links in e-mails and feeds need the store's address; proxies must be real networks."""
    problems = []
    if not settings.DEBUG and not popup_settings.POPUP_SITE_URL:
        problems.append(
            Warning(
                "POPUP_SITE_URL is not set: links in e-mails sent by background tasks and in "
                "catalogue feeds use https:// and the current Site's domain.",
                hint='Set POPUP_SITE_URL, e.g. "https://shop.example.com".',
                id="popup.W030",
            )
        )
    if getattr(settings, "OSCAR_EAGER_ALERTS", True):
        problems.append(
            Warning(
                "OSCAR_EAGER_ALERTS is on: every stock change of a drop e-mails waiting shoppers "
                "inside the request that changed it.",
                hint="Set OSCAR_EAGER_ALERTS = False: the plugin sends them from Celery.",
                id="popup.W040",
            )
        )
    for entry in popup_settings.POPUP_TRUSTED_PROXIES:
        try:
            ipaddress.ip_network(str(entry).strip(), strict=False)
        except ValueError:
            problems.append(
                Error(
                    f"POPUP_TRUSTED_PROXIES holds {entry!r}, which is not an address or network.",
                    hint='Write addresses or networks, e.g. ["10.0.0.0/8", "192.0.2.7"].',
                    id="popup.E050",
                )
            )
    return problems


@register(Tags.compatibility)
def shared_pages_check(app_configs, **kwargs) -> list:
    """Pop-up pages are shared shells only when prices are the same for every request."""
    from popup.core.shells import Selector

    if popup_settings.POPUP_SHARED_PAGES is not None or Selector.__module__.startswith(
        "oscar.apps.partner"
    ):
        return []
    return [
        Warning(
            f"The partner strategy's Selector is the store's own ({Selector.__module__}): each "
            "pop-up page is rendered for each visit, in case its prices depend on the request, "
            "which a drop's opening crowd will feel.",
            hint="Set POPUP_SHARED_PAGES = True if its prices are the same for every request "
            "(not per user, session or country), or False to keep pages per visit silently.",
            id="popup.W060",
        )
    ]


@register(Tags.compatibility)
def consumer_rights_check(app_configs, **kwargs) -> list:
    """What the EU has a checkout link and a confirmation say (Directive 2011/83/EU): the terms
    of sale, and where a shopper sends their withdrawal."""
    if settings.DEBUG:
        return []
    problems = []
    if not popup_settings.POPUP_TERMS_URL:
        problems.append(
            Warning(
                "POPUP_TERMS_URL is not set: the checkout links no terms of sale before the "
                "shopper pays, and the order confirmation carries none.",
                hint='Set POPUP_TERMS_URL to your terms of sale page, e.g. "/terms/", or one per '
                'language: {"fr": "/cgv/", "en": "/terms/"}.',
                id="popup.W070",
            )
        )
    missing = [
        name
        for name in ("POPUP_MERCHANT_ADDRESS", "POPUP_MERCHANT_EMAIL")
        if not getattr(popup_settings, name)
    ]
    if missing:
        problems.append(
            Warning(
                f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: the "
                "withdrawal information and its model form "
                "do not say where shoppers send their withdrawal.",
                hint="Set POPUP_MERCHANT_ADDRESS (your postal address, one line per line) and "
                "POPUP_MERCHANT_EMAIL (where withdrawals are read).",
                id="popup.W071",
            )
        )
    return problems
