"""The plugin's e-mails: Oscar communication event types, in the recipient's language, sent once.

Each e-mail has a code (POPUP_PLEDGE_PLEDGED, ...) and may have a row per language, which a merchant
edits in Dashboard › Communications: for a recipient speaking "fr-be" the first of POPUP_X_FR_BE,
POPUP_X_FR and POPUP_X that exists is used. A template the row leaves empty (NULL) comes from the
file templates, oscar/communication/emails/commtype_popup_x_subject.txt and _body.txt, rendered in
the recipient's language.
"""

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from oscar.core.loading import get_class, get_model

from popup.core.languages import language_match
from popup.models import OutgoingEmail
from popup.privacy.addresses import is_erased_address

CommunicationEventType = get_model("communication", "CommunicationEventType")
Dispatcher = get_class("communication.utils", "Dispatcher")

TEMPLATE_FIELDS = (
    "email_subject_template",
    "email_body_template",
    "email_body_html_template",
    "sms_template",
)


def email_codes(*, code: str, language: str) -> list[str]:
    """The codes looked up for a language, most specific first: POPUP_X_FR_BE, POPUP_X_FR, POPUP_X."""
    parts = [part for part in language.replace("_", "-").upper().split("-") if part]
    return [f"{code}_{'_'.join(parts[:n])}" for n in range(len(parts), 0, -1)] + [code]


def email_messages(
    *, code: str, context: dict, language: str, appendix: str = ""
) -> dict[str, str]:
    """The e-mail `code` rendered for a recipient speaking `language`: subject, body, html, sms;
    with the templates `appendix`.txt and `appendix`.html after its text and HTML bodies."""
    codes = email_codes(code=code, language=language)
    rows = {row.code: row for row in CommunicationEventType.objects.filter(code__in=codes)}
    row = next((rows[candidate] for candidate in codes if candidate in rows), None)
    # Under the default code, so that what the row leaves NULL comes from the default file
    # templates (translated through the override below), not from a file per language.
    event_type = CommunicationEventType(
        code=code, **{field: getattr(row, field, None) for field in TEMPLATE_FIELDS}
    )
    with translation.override(language):
        base = Dispatcher().get_base_context(**context)
        messages = event_type.get_messages(base)
        return _appended(messages, appendix, base) if appendix else messages


def _appended(messages: dict[str, str], appendix: str, context: dict) -> dict[str, str]:
    """`messages` with `appendix` rendered after the text body and at the end of the HTML one:
    what the recipient must get however the merchant worded the e-mail (an empty body stays empty,
    so that the merchant can still turn the e-mail off)."""
    if messages.get("body"):
        text = render_to_string(f"{appendix}.txt", context).strip()
        messages["body"] = f"{messages['body'].rstrip()}\n\n{text}\n"
    if messages.get("html"):
        html, end = messages["html"], messages["html"].lower().rfind("</body>")
        end = len(html) if end < 0 else end
        messages["html"] = html[:end] + render_to_string(f"{appendix}.html", context) + html[end:]
    return messages


def email_send_once(
    *,
    key: str,
    code: str,
    to: str,
    context: dict,
    language: str | None = None,
    appendix: str = "",
) -> bool:
    """Send e-mail `code` to `to` once for `key`: True if sent now, False if already sent (or empty,
    or `to` is no address or an erased person's).
    `appendix`: templates to add to its bodies (email_messages).

    The message is recorded before the mail server sees it (committed, as tasks call this outside
    a transaction), then sent and marked sent under its row lock, so a second run, at once or after
    a crash, sends nothing more. A failure is counted on the record and raised, for the task to
    retry.
    """
    if is_erased_address(to):
        return False  # nobody: the person was erased (popup.privacy), or never gave an address
    # The recipient's (as precise as recorded: a merchant may have worded fr-BE apart) while the
    # store still offers that language; else the store's.
    language = language if language_match(language or "") else settings.LANGUAGE_CODE
    email, _created = OutgoingEmail.objects.get_or_create(
        key=key, defaults={"code": code, "to": to, "language": language}
    )
    try:
        with transaction.atomic():
            email = OutgoingEmail.objects.select_for_update().get(pk=email.pk)
            if email.sent_at is not None:
                return False
            messages = email_messages(
                code=code, context=context, language=language, appendix=appendix
            )
            if Dispatcher().dispatch_direct_messages(to, messages) is None:
                # The merchant emptied its subject or body: nothing to send, nothing to retry.
                _attempt_record(email, "Not sent: the subject or the body is empty.")
                return False
            email.code, email.to, email.language = code, to, language
            email.attempts = F("attempts") + 1
            email.sent_at = timezone.now()
            email.save(update_fields=["code", "to", "language", "attempts", "sent_at"])
    except Exception as error:
        # Outside the rolled-back transaction: the record keeps the failed attempt.
        _attempt_record(email, f"{type(error).__name__}: {error}")
        raise
    return True


def _attempt_record(email: OutgoingEmail, error: str) -> None:
    OutgoingEmail.objects.filter(pk=email.pk).update(
        attempts=F("attempts") + 1, last_error=error[:2000]
    )
