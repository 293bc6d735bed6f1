"""What each kind of a shopper's data is called, for the person reading an export's summary or an
erasure's report (`manage.py popup_privacy` and the dashboard's "Shoppers' data" page)."""

from django.utils.translation import gettext_lazy

# The erasure's kinds (popup.privacy.services.KINDS), as its report names them.
KIND_LABELS = {
    "baskets": gettext_lazy("Baskets"),
    "orders": gettext_lazy("Orders kept, personal data removed"),
    "pledges": gettext_lazy("Pledges"),
    "pledges_cancelled": gettext_lazy("Pledges cancelled (nothing will be charged)"),
    "waitlists": gettext_lazy("Waiting list sign-ups"),
    "questions": gettext_lazy("Questions"),
    "ideas": gettext_lazy("Ideas"),
    "idea_votes": gettext_lazy("Votes for ideas"),
    "poll_votes": gettext_lazy("Votes in polls"),
    "reviews": gettext_lazy("Reviews"),
    "ambassador": gettext_lazy("Ambassador"),
    "consents": gettext_lazy("Consents recorded"),
    "emails_sent": gettext_lazy("Records of e-mails sent"),
    "rate_limits": gettext_lazy("Rate-limit counters"),
    "payment_messages": gettext_lazy("Payment provider messages"),
}
KEPT_LABELS = {
    "ambassador": gettext_lazy("Ambassador kept and switched off: their commissions are accounts"),
}
# The export's kinds (popup.privacy.selectors.personal_data_export), as held before any erasure.
EXPORT_LABELS = {
    **{kind: label for kind, label in KIND_LABELS.items() if kind != "pledges_cancelled"},
    "orders": gettext_lazy("Orders"),
}
