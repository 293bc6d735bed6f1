"""What shoppers gave their e-mail address for: the purpose, the basis and its confirmation."""

import secrets

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from popup.core.languages import language_now


def new_consent_token() -> str:
    return secrets.token_urlsafe(24)


class Consent(models.Model):
    """One e-mail address given for one purpose: on what basis, in what words, and when it was
    confirmed (double opt-in: nothing else is sent on consent before) or withdrawn.

    What an order or a pledge needs (its receipts, its shipping) is the contract's, not consent's:
    no row is kept for it.
    """

    class Purpose(models.TextChoices):
        WAITLIST = "waitlist", _("Told when a product can be bought")
        POLL_VOTE = "poll_vote", _("A poll vote, counted once confirmed")
        IDEA_UPDATES = "idea_updates", _("Told when an idea voted for is done")
        QUESTION = "question", _("The answer to a question")

    class Basis(models.TextChoices):
        CONSENT = "consent", _("Consent, confirmed by e-mail")
        REQUEST = "request", _("The shopper's own request")

    email = models.EmailField(_("e-mail"))
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    basis = models.CharField(_("basis"), max_length=8, choices=Basis.choices)
    popup = models.ForeignKey(
        "popup.PopUp", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The row it was given with ("productalert:12", "pollvote:3"), when there is one.
    reference = models.CharField(max_length=40, blank=True, default="")
    # The words next to the field, as the shopper read them (the English text, in `language`).
    wording = models.TextField(_("wording"), blank=True, default="")
    language = models.CharField(max_length=16, blank=True, default=language_now)
    token = models.CharField(max_length=64, unique=True, default=new_consent_token, editable=False)
    asked_at = models.DateTimeField(_("given"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)

    class Meta:
        ordering = ["-asked_at", "-pk"]
        verbose_name = _("consent")
        indexes = [
            models.Index(Lower("email"), "purpose", name="popup_consent_email"),
            models.Index(fields=["reference"], name="popup_consent_reference"),
        ]
        constraints = [
            # News of a pop-up's ideas is asked once per address: two votes at once ask once.
            models.UniqueConstraint(
                Lower("email"),
                "popup",
                condition=models.Q(purpose="idea_updates"),
                name="popup_consent_idea_news_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} ({self.basis})"
