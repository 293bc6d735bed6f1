"""Mail servers that fail, for the tests of sending e-mails once whatever happens."""

import smtplib

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class DisconnectedBackend(BaseEmailBackend):
    """A mail server that hangs up on every message, as smtplib reports it."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class DisconnectsOnceBackend(LocmemBackend):
    """Hangs up `failures` times (set it in the test), then delivers to django.core.mail.outbox."""

    failures = 0

    def send_messages(self, messages):
        if DisconnectsOnceBackend.failures > 0:
            DisconnectsOnceBackend.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)
