"""Every Celery task of the plugin, where Celery's autodiscovery looks for a Django app's tasks.

The tasks live with their job (audit, checkout, core, presales, feedback, analytics, notifications); their names are
pinned as "popup.tasks.<name>", so queued messages and beat schedules survive any move.
"""

from popup.analytics.tasks import stats_flush_run
from popup.audit.tasks import popup_audit_run
from popup.checkout.tasks import checkout_authorisations_settle_run
from popup.core.tasks import holds_tidy, price_history_snapshot_run, queued_tasks_send_run
from popup.feedback.tasks import popup_openings_announce_run, review_invites_send
from popup.notifications.tasks import (
    ambassador_invite_email_send,
    checkout_lost_email_send,
    idea_shipped_email_send,
    idea_updates_confirmation_send,
    order_placed_email_send,
    pledge_email_send,
    poll_vote_confirmation_send,
    question_answered_email_send,
    review_invite_email_send,
    send_product_alerts,
    waitlist_confirmation_email_send,
    waitlist_opening_email_send,
)
from popup.presales.tasks import (
    pledge_charge_run,
    pledges_settle_run,
    presale_settle_run,
    presales_sweep,
)
from popup.privacy.tasks import personal_data_expire_run

__all__ = [
    "ambassador_invite_email_send",
    "checkout_authorisations_settle_run",
    "checkout_lost_email_send",
    "holds_tidy",
    "idea_shipped_email_send",
    "idea_updates_confirmation_send",
    "order_placed_email_send",
    "personal_data_expire_run",
    "pledge_charge_run",
    "pledge_email_send",
    "pledges_settle_run",
    "poll_vote_confirmation_send",
    "popup_audit_run",
    "popup_openings_announce_run",
    "presale_settle_run",
    "price_history_snapshot_run",
    "presales_sweep",
    "question_answered_email_send",
    "queued_tasks_send_run",
    "review_invite_email_send",
    "review_invites_send",
    "send_product_alerts",
    "stats_flush_run",
    "waitlist_confirmation_email_send",
    "waitlist_opening_email_send",
]
