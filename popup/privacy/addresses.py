"""Whose data a row is: the e-mail addresses that reach one mailbox, and what replaces an erased one.

A person asking for their data (or for its erasure) owns a mailbox, not a spelling. The rows that
belong to them are those whose address reaches that mailbox: the same address without case or
surrounding spaces, `googlemail.com` as `gmail.com`, a `+tag` at the providers that deliver it to
the untagged mailbox, dots at Gmail (the rules popup.checkout.customers applies for the limit of
units per customer).

The customer key goes further on purpose, and this does not: it also reads Cyrillic and Greek
look-alike letters as Latin, and Unicode compatibility forms as plain ones, so that one buyer
cannot pass a limit twice. Those are other mailboxes, quite possibly someone else's: exporting
their rows would hand one person's data to another, and erasing them would destroy it.
"""

import re
import secrets

from django.db.models import Q, QuerySet

from popup.checkout.customers import DOMAIN_ALIASES, DOTLESS_DOMAINS, PLUS_TAG_DOMAINS

# RFC 2606 keeps ".invalid" out of the DNS: mail to it cannot be delivered, to anyone.
ERASED_DOMAIN = "erased.invalid"
# What an erased address becomes in the text a person wrote or a merchant's note quotes.
ERASED_TEXT = "…"


def mailbox_key(email: str) -> str:
    """The same string for every spelling of `email` that reaches the same mailbox ("" for none)."""
    address = (email or "").strip().lower()
    name, at, domain = address.rpartition("@")
    if not at:
        return address
    domain = domain.rstrip(".")
    domain = DOMAIN_ALIASES.get(domain, domain)
    if domain in PLUS_TAG_DOMAINS:
        name = name.split("+", 1)[0]
    if domain in DOTLESS_DOMAINS:
        name = name.replace(".", "")
    return f"{name}@{domain}"


def _domains(key: str) -> list[str]:
    domain = key.rpartition("@")[2]
    return [domain, *(alias for alias, same in DOMAIN_ALIASES.items() if same == domain)]


def rows_of_mailbox(queryset: QuerySet, *, field: str, email: str) -> QuerySet:
    """The rows of `queryset` whose `field` holds an address of `email`'s mailbox.

    At the providers with aliases (tags, dots) the rows of that domain are read and compared here,
    one column each; elsewhere the database compares the address without case.
    """
    key = mailbox_key(email)
    if "@" not in key:
        return queryset.none()
    domains = _domains(key)
    if not any(domain in PLUS_TAG_DOMAINS | DOTLESS_DOMAINS for domain in domains):
        return queryset.filter(**{f"{field}__iexact": email.strip()})
    near = Q()
    for domain in domains:
        near |= Q(**{f"{field}__iendswith": f"@{domain}"}) | Q(
            **{f"{field}__iendswith": f"@{domain}."}
        )
    pks = [
        pk
        for pk, value in queryset.filter(near).values_list("pk", field).iterator()
        if mailbox_key(value) == key
    ]
    return queryset.filter(pk__in=pks)


def erased_address() -> str:
    """An address that names nobody and reaches no mailbox, new at each call: it stands for an
    erased person where Oscar needs one (a guest order), and keeps apart two people erased."""
    return f"erased-{secrets.token_hex(8)}@{ERASED_DOMAIN}"


def is_erased_address(email: str) -> bool:
    """Whether `email` stands for an erased person (or is empty): nothing is sent to it."""
    return not (email or "").strip() or email.strip().lower().endswith(f"@{ERASED_DOMAIN}")


def text_without(text: str, addresses: set[str]) -> str:
    """`text` with every one of `addresses` written in it (whatever the case) replaced by "…"."""
    for address in sorted(addresses, key=len, reverse=True):
        if address:
            text = re.sub(re.escape(address), ERASED_TEXT, text, flags=re.IGNORECASE)
    return text
