"""Who a customer is, for a pop-up's limit of units per customer.

Shoppers check out without an account, so a customer is known by the e-mail address they pay
with. Addresses are compared by their key, so that one mailbox counts once however it is typed:

- surrounding spaces are dropped and the address is compared without case, after Unicode NFKC
  (full-width ｇｍａｉｌ is gmail);
- letters that only look Latin (Cyrillic а, е, о, р, с…, Greek ο, ν…) count as the Latin ones, so
  a look-alike address or domain is the same customer;
- a trailing dot of the domain is dropped, and googlemail.com is gmail.com;
- for the providers that deliver tagged addresses to the untagged mailbox (PLUS_TAG_DOMAINS), the
  `+tag` is dropped; for Gmail, which ignores dots, the dots of the name are dropped too.

It is a speed bump, not a wall: someone with a domain of their own has as many addresses as they
like. A store that needs more asks for an account, or limits per card in Stripe Radar.
"""

import unicodedata

# The stored key's length (NFKC may lengthen an address: one character can become eighteen).
KEY_LENGTH = 320

# Providers that deliver name+anything@ to name@.
PLUS_TAG_DOMAINS = frozenset(
    {
        "gmail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "fastmail.com",
        "proton.me",
        "protonmail.com",
        "pm.me",
    }
)
# Providers whose mailbox names ignore dots: a.da@ and ada@ are one mailbox.
DOTLESS_DOMAINS = frozenset({"gmail.com"})
DOMAIN_ALIASES = {"googlemail.com": "gmail.com"}

# Letters that render like Latin ones in common fonts (a small part of Unicode's confusables list,
# the part a shopper can type on a Cyrillic or Greek keyboard).
LOOK_ALIKES = str.maketrans(
    {
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "у": "y",
        "х": "x",
        "і": "i",
        "ј": "j",
        "ѕ": "s",
        "ԁ": "d",
        "ɡ": "g",
        "һ": "h",
        "ӏ": "l",
        "ο": "o",
        "ν": "v",
        "α": "a",
        "ι": "i",
        "κ": "k",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
    }
)


def email_key(email: str) -> str:
    """The key under which `email` counts towards a per-customer limit ("" for no address)."""
    address = unicodedata.normalize("NFKC", email).strip().casefold().translate(LOOK_ALIKES)
    name, at, domain = address.rpartition("@")
    if not at:
        return address[:KEY_LENGTH]
    domain = domain.rstrip(".")
    domain = DOMAIN_ALIASES.get(domain, domain)
    if domain in PLUS_TAG_DOMAINS:
        name = name.split("+", 1)[0]
    if domain in DOTLESS_DOMAINS:
        name = name.replace(".", "")
    return f"{name}@{domain}"[:KEY_LENGTH]
