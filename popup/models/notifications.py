"""Each e-mail the plugin sends, recorded before it is handed to the mail server."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OutgoingEmail(models.Model):
    """One e-mail of the plugin, recorded before it is handed to the mail server: sent once per key.

    `key` names the message ("pledge_pledged:42"); popup.notifications.emails sends it under this row's
    lock and sets `sent_at` in the same transaction, so a task run twice, or redelivered after a
    crash, sends nothing more. A failed attempt is counted, with its error, and retried by the task.
    """

    key = models.CharField(max_length=200, unique=True)
    # The CommunicationEventType's code it is sent as, without the language (POPUP_PLEDGE_PLEDGED).
    code = models.CharField(max_length=128)
    to = models.CharField(max_length=254)
    language = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("outgoing e-mail")

    def __str__(self) -> str:
        return f"{self.code} to {self.to} ({'sent' if self.sent_at else 'not sent'})"


class QueuedTask(models.Model):
    """A Celery task the plugin queues, recorded in the transaction that calls for it.

    popup.queueing writes the row with the rest of the transaction, hands the task to the broker
    once it commits and notes `queued_at`; a broker that is down then leaves the row waiting, and
    the beat's sweep queues it when the broker is back. Nothing committed loses its follow-up.
    """

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("queued task")
        indexes = [
            models.Index(
                fields=["created_at"],
                name="popup_task_waiting",
                condition=models.Q(queued_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)} ({'queued' if self.queued_at else 'waiting'})"
