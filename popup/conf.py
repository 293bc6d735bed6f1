"""Every setting the plugin reads, with its default (as `oscar.defaults` does for Oscar).

A store sets only what it wants to change, in its own settings module. The plugin reads them through
`popup_settings`, never `django.conf.settings` directly, so a setting a store left out is its
default here and never an AttributeError at request time. `popup.checks` says at start-up which of
them a production store must set.
"""

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # The store's address, e.g. "https://shop.example.com", for links in e-mails sent by background
    # tasks and in catalogue feeds. Empty: https:// and the domain of the current Site.
    "POPUP_SITE_URL": "",
    # Whether the pop-up page and embed are shells shared by every shopper (popup.core.shells):
    # None decides by the partner strategy (Oscar's own Selector prices every request alike); set
    # True when your own Selector's prices do not depend on the request either, False to never share.
    "POPUP_SHARED_PAGES": None,
    # Announced reductions (a struck-through price, feeds' sale_price, posters) compare with the
    # lowest price the product was offered at in the POPUP_PRIOR_PRICE_DAYS before the reduction
    # started, as the EU's Price Indication Directive (98/6/EC art. 6a) asks; False, for a store
    # outside the EU: with the regular price as it stands.
    "POPUP_PRIOR_PRICE_RULE": True,
    "POPUP_PRIOR_PRICE_DAYS": 30,
    # Days shoppers' personal data is kept, per kind (popup.privacy.retention says what each
    # covers); a store sets only the kinds it changes, None keeps that kind. The beat enforces it.
    "POPUP_RETENTION_DAYS": {},
    # Seconds a shared page shell is kept before it is rendered again (its feedback sections, and
    # changes made without Django's signals, are never older than this); figures come live.
    "POPUP_PAGE_SHELL_SECONDS": 60,
    # Redis for the plugin's counters, rate limits and live figures, e.g. "redis://redis:6379/2".
    # None: the store's default cache's Redis when that cache is a Redis cache; else no Redis, and
    # counters and rate limits go to the database. A Redis that is down never breaks a page.
    "POPUP_REDIS_URL": None,
    # Where pages open their stream of live figures (popup.stream, an ASGI process beside the
    # store's WSGI server), e.g. "/popup/stream/" behind the same proxy, or "https://live.example.com
    # /popup/stream/"; a pop-up's stream is this followed by its id. Empty: pages poll the live call.
    "POPUP_STREAM_URL": "",
    # The proxies in front of the store whose X-Forwarded-For is believed, as addresses or networks
    # ("10.0.0.0/8"). Empty (the default): the shopper's address is REMOTE_ADDR, whatever the headers.
    "POPUP_TRUSTED_PROXIES": (),
    # The class that takes payments (popup.payments.PaymentGateway), as a dotted path.
    "POPUP_PAYMENT_GATEWAY": "integrations.stripe.gateway.StripeGateway",
    # Stripe. Without the secret and publishable keys the checkout says payments are not configured.
    "STRIPE_SECRET_KEY": "",
    "STRIPE_PUBLISHABLE_KEY": "",
    "STRIPE_WEBHOOK_SECRET": "",
    # A Stripe stand-in's address (localstripe in tests and the demo); None: Stripe itself.
    "STRIPE_API_BASE": None,
    "STRIPE_JS_URL": "https://js.stripe.com/v3/",
    # Seconds a Stripe request may take, each of its two tries: 2 × 8 s and the pause between them
    # end well before a web worker's usual 30 s, so the shopper gets the checkout's own message.
    "STRIPE_TIMEOUT": 8,
    # The store's country (its Stripe account's), which Apple Pay and Google Pay sheets need; the
    # checkout offers it first, chosen.
    "POPUP_WALLET_COUNTRY": "FR",
    # Days between a pop-up order and the e-mail asking the buyer to review what they bought.
    "POPUP_REVIEW_REQUEST_DAYS": 7,
    # Minutes a card authorisation may wait for its shopper (3-D Secure, a slow network) before the
    # settle task turns it into its order or cancels it. The money audit allows this plus 40.
    "POPUP_SETTLE_AFTER_MINUTES": 20,
    # What the catalogue feeds' URL tokens are derived from (empty: SECRET_KEY). Change it to revoke
    # every feed URL.
    "POPUP_FEED_SECRET": "",
    # Against hoarding a first-come drop from one connection: units held at once, all baskets
    # together, from one client address (an IPv6 /64) per pop-up, and baskets it may open per pop-up
    # and hour. None: no cap. Mobile carriers put many phones behind one IPv4 address, so keep them
    # well above what one fan buys.
    "POPUP_UNITS_HELD_PER_ADDRESS": 10,
    "POPUP_BASKETS_PER_ADDRESS_PER_HOUR": 30,
    # Times a shopper may ask for more time on a hold ("I need more time"), each a full hold period
    # again, while no one else could have the units. WCAG 2.2.1 asks for at least 10.
    "POPUP_HOLD_EXTENSIONS": 10,
    # The languages pop-ups are offered in, as codes, the store's default first, e.g. ("fr", "en").
    # Empty: the store's LANGUAGE_CODE, and the other languages of its LANGUAGES the plugin has a
    # catalogue for (English, French). A language added here needs the plugin's strings translated.
    "POPUP_LANGUAGES": (),
    # Seconds after which a catalogue feed file is rewritten even if nothing changed.
    "POPUP_FEED_MAX_AGE": 900,
    # What the EU's Consumer Rights Directive (2011/83/EU, art. 6 and 8) has the checkout and the
    # order confirmation tell the shopper (popup.checkout.withdrawal). The merchant's terms of sale:
    # a URL (a path is on the store's site), or one per language code, e.g.
    # {"fr": "/cgv/", "en": "/terms/"}; empty: the checkout links no terms (a check warns).
    "POPUP_TERMS_URL": "",
    # Who the shopper writes to to withdraw from a purchase (the withdrawal information and its model
    # form): the trader's legal name (empty: OSCAR_SHOP_NAME), postal address (lines separated by
    # newlines), e-mail address and telephone number (optional). A check warns without the address
    # or the e-mail address.
    "POPUP_MERCHANT_NAME": "",
    "POPUP_MERCHANT_ADDRESS": "",
    "POPUP_MERCHANT_EMAIL": "",
    "POPUP_MERCHANT_PHONE": "",
    # Who pays for sending goods back after a withdrawal: "shopper" (the direct cost of returning
    # them, as the withdrawal information then says) or "merchant".
    "POPUP_RETURN_COSTS": "shopper",
    # The code of a yes/no Oscar product attribute that marks a product made to the shopper's
    # specifications or personalised, to which the right of withdrawal does not apply (art. 16(c)):
    # the checkout and the confirmation name such products. A product class without it: none is.
    "POPUP_MADE_TO_ORDER_ATTRIBUTE": "made_to_order",
}


class PopUpSettings:
    """The store's value of a plugin setting, else its default from DEFAULTS."""

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"{name} is not a setting of django-oscar-popup")
        return getattr(settings, name, DEFAULTS[name])


popup_settings = PopUpSettings()


def payments_configured() -> bool:
    """Whether the store has Stripe keys (real ones, or a stand-in's): without them nobody can pay."""
    return bool(popup_settings.STRIPE_SECRET_KEY and popup_settings.STRIPE_PUBLISHABLE_KEY)


def site_url() -> str:
    """The store's address without a trailing slash: POPUP_SITE_URL, else the current Site's."""
    configured = popup_settings.POPUP_SITE_URL
    if configured:
        return configured.rstrip("/")
    from django.contrib.sites.models import Site

    return f"https://{Site.objects.get_current().domain}"
