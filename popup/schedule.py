"""The Celery beat entries the plugin needs. A store merges them into its own schedule:

    from popup.schedule import POPUP_BEAT_SCHEDULE
    CELERY_BEAT_SCHEDULE = {**POPUP_BEAT_SCHEDULE}

Task names are pinned (`name=` on every task), so these entries and queued messages survive code
moving between modules. `popup.checks` warns when one of them is missing from the store's schedule.
"""

MINUTE = 60

POPUP_BEAT_SCHEDULE = {
    # Deletes long-expired hold rows (availability never waits for it: expiry is in the queries).
    "popup-holds-tidy": {"task": "popup.tasks.holds_tidy", "schedule": 15 * MINUTE},
    # Records regular prices changed by bulk updates (no signal), for honest reductions.
    "popup-price-history": {
        "task": "popup.tasks.price_history_snapshot_run",
        "schedule": 60 * MINUTE,
    },
    # Deletes or anonymises shoppers' data past POPUP_RETENTION_DAYS (popup.privacy.retention).
    "popup-privacy-retention": {
        "task": "popup.tasks.personal_data_expire_run",
        "schedule": 60 * MINUTE,
    },
    # Orders or cancels card authorisations nobody came back for (no webhook, a killed worker).
    "popup-authorisations-settle": {
        "task": "popup.tasks.checkout_authorisations_settle_run",
        "schedule": 15 * MINUTE,
    },
    # Makes the pledges of saved cards whose backers never came back (same faults).
    "popup-pledges-settle": {"task": "popup.tasks.pledges_settle_run", "schedule": 15 * MINUTE},
    # Queues again the Stripe events stored while the queue was down.
    "popup-stripe-events-requeue": {
        "task": "integrations.stripe.tasks.stripe_events_requeue",
        "schedule": 5 * MINUTE,
    },
    # Queues the tasks recorded while the broker was down (popup.queueing).
    "popup-queued-tasks-send": {"task": "popup.tasks.queued_tasks_send_run", "schedule": MINUTE},
    # Settles pre-sales at their deadline, retries failed pledges, finishes interrupted charges.
    "popup-presales-sweep": {"task": "popup.tasks.presales_sweep", "schedule": MINUTE},
    # Tells waitlists when a drop opens.
    "popup-openings-announce": {
        "task": "popup.tasks.popup_openings_announce_run",
        "schedule": MINUTE,
    },
    # Asks buyers for a review POPUP_REVIEW_REQUEST_DAYS after their pop-up order.
    "popup-review-invites": {"task": "popup.tasks.review_invites_send", "schedule": 60 * MINUTE},
    # Checks units, orders and payments agree; tells ADMINS and the Pop-ups dashboard when not.
    "popup-audit": {"task": "popup.tasks.popup_audit_run", "schedule": 60 * MINUTE},
    # Moves funnel counts from Redis to the database; drops old rate-limit rows.
    "popup-stats-flush": {"task": "popup.tasks.stats_flush_run", "schedule": MINUTE},
    # Rewrites catalogue feeds whose pop-ups opened or closed, or older than POPUP_FEED_MAX_AGE.
    "popup-feeds-refresh": {
        "task": "integrations.social.tasks.feeds_refresh_run",
        "schedule": MINUTE,
    },
}
