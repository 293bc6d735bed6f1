"""Run localstripe, the offline stand-in for Stripe, on 127.0.0.1 for the demo store and the tests.

    python -m shop.localstripe_run [--port 8420] [--webhook-url http://127.0.0.1:8000/popup/stripe/webhook/]

localstripe (GPL-3.0) is a demo and test dependency of the reference store only: the plugin (popup/,
integrations/) never imports it. Its own `localstripe` command binds every interface and reloads a
state file shared by every instance (/tmp/localstripe.pickle); this one listens on 127.0.0.1 only,
starts from scratch and keeps its state in memory only. Webhook registrations live in memory too, so
--webhook-url (signed with the demo secret) is registered at each start.
"""

import argparse
import logging
import os


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--webhook-url", default="", help="the store's /popup/stripe/webhook/")
    parser.add_argument(
        "--webhook-secret",
        default=os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_localstripe_demo"),
        help="the store's STRIPE_WEBHOOK_SECRET (the demo settings' one by default)",
    )
    args = parser.parse_args()

    from aiohttp import web
    from localstripe import resources, server, webhooks

    # localstripe pickles its whole state to a file after every write, to reload it at the next
    # start. Each run here starts from scratch, so nothing reads it back: skip the write, which
    # grows with every object stored (the settlement benchmark spent 90% of its time there).
    resources.Store.dump_to_disk = lambda store: None

    # Stripe's list endpoints filter on created[gte]; localstripe refuses the parameter.
    list_all = resources.StripeObject._api_list_all.__func__

    def listed_since(cls, url, limit=None, starting_after=None, created=None, **kwargs):
        listing = list_all(cls, url, limit=limit, starting_after=starting_after, **kwargs)
        since = int((created or {}).get("gte", 0))
        listing._list = [obj for obj in listing._list if getattr(obj, "created", 0) >= since]
        return listing

    resources.StripeObject._api_list_all = classmethod(listed_since)

    if args.webhook_url:
        webhooks.register_webhook("store", args.webhook_url, args.webhook_secret, None)

    logger = logging.getLogger("aiohttp.access")
    logger.setLevel(logging.INFO)
    logger.addHandler(logging.StreamHandler())
    web.run_app(
        server.app,
        host="127.0.0.1",
        port=args.port,
        access_log=logger,
        # The Idempotency-Key and Stripe-Version are logged: the tests check what the SDK really sent.
        access_log_format=(
            '"%r" %s idempotency-key="%{Idempotency-Key}i" stripe-version="%{Stripe-Version}i"'
        ),
        print=lambda message: logger.info(message),
    )


if __name__ == "__main__":
    main()
