"""The plugin's e-mails as Oscar communication event types, to edit in Dashboard › Communications.

Their templates are left NULL: Oscar then renders the file templates of
popup/templates/oscar/communication/emails/ until a merchant writes their own. Each e-mail also has
a French row (code ending in _FR), French being the first market, so that the French text and the
default text are edited separately. Running it again creates nothing twice; reversing it deletes
these codes (with any text a merchant wrote in them).
"""

from django.db import migrations

ORDER_RELATED = "Order related"
USER_RELATED = "User related"

# Frozen here, as migrations must be: (code, name, category).
EMAILS = [
    ("POPUP_AMBASSADOR_INVITE", "Pop-up: ambassador's link and code", USER_RELATED),
    ("POPUP_CHECKOUT_LOST", "Pop-up: order not completed, nothing charged", ORDER_RELATED),
    ("POPUP_IDEA_SHIPPED", "Pop-up: an idea voted for is done", USER_RELATED),
    ("POPUP_PLEDGE_CANCELLED", "Pop-up: pledge cancelled", ORDER_RELATED),
    ("POPUP_PLEDGE_DROPPED", "Pop-up: pledge dropped after its last retry", ORDER_RELATED),
    ("POPUP_PLEDGE_FAILED", "Pop-up: pledge payment failed", ORDER_RELATED),
    ("POPUP_PLEDGE_LAUNCHED", "Pop-up: pre-sale now in the shop", ORDER_RELATED),
    ("POPUP_PLEDGE_NOT_FUNDED", "Pop-up: pre-sale not funded", ORDER_RELATED),
    ("POPUP_PLEDGE_PLEDGED", "Pop-up: pledge received", ORDER_RELATED),
    ("POPUP_POLL_VOTE", "Pop-up: confirm a poll vote", USER_RELATED),
    ("POPUP_QUESTION_ANSWERED", "Pop-up: question answered", USER_RELATED),
    ("POPUP_REVIEW_INVITE", "Pop-up: invitation to review an order", ORDER_RELATED),
    ("POPUP_WAITLIST_CONFIRM", "Pop-up: confirm a waitlist address", USER_RELATED),
    ("POPUP_WAITLIST_OPENED", "Pop-up: waitlist, the drop is open", USER_RELATED),
]
LANGUAGES = [("", ""), ("_FR", " (French)")]  # (code suffix, name suffix); "" is the default


def email_types_create(apps, schema_editor):
    CommunicationEventType = apps.get_model("communication", "CommunicationEventType")
    for code, name, category in EMAILS:
        for code_suffix, name_suffix in LANGUAGES:
            CommunicationEventType.objects.get_or_create(
                code=f"{code}{code_suffix}",
                defaults={"name": f"{name}{name_suffix}", "category": category},
            )


def email_types_delete(apps, schema_editor):
    CommunicationEventType = apps.get_model("communication", "CommunicationEventType")
    codes = [f"{code}{suffix}" for code, _name, _category in EMAILS for suffix, _label in LANGUAGES]
    CommunicationEventType.objects.filter(code__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("popup", "0016_outgoing_email"),
        ("communication", "0004_auto_20200801_0817"),
    ]

    operations = [migrations.RunPython(email_types_create, email_types_delete)]
