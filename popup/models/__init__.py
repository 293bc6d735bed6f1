"""The plugin's models, one module per part of the product; all of them importable from here."""

from popup.models.analytics import PopUpDayStats, RateCounter
from popup.models.audit import AuditRun
from popup.models.channels import (
    Ambassador,
    Commission,
    Placement,
    new_ambassador_token,
    new_placement_code,
)
from popup.models.core import (
    RESERVED_SLUGS,
    Hold,
    PopUp,
    PopUpBasket,
    PopUpProduct,
    holds_active_q,
    new_basket_token,
    page_on_origins,
    parse_origins,
    reserved_slugs,
    validate_origins,
    validate_slug_not_reserved,
)
from popup.models.feedback import (
    AlertLanguage,
    Idea,
    IdeaVote,
    Poll,
    PollOption,
    PollVote,
    Question,
    ReviewInvite,
    VerifiedReview,
    new_review_token,
    new_vote_token,
)
from popup.models.notifications import OutgoingEmail, QueuedTask
from popup.models.presales import Pledge, PledgeEvent, PledgeLine, new_pledge_token
from popup.models.prices import PriceRecord
from popup.models.privacy import Consent, new_consent_token

__all__ = [
    "RESERVED_SLUGS",
    "AlertLanguage",
    "Ambassador",
    "AuditRun",
    "Commission",
    "Consent",
    "Hold",
    "Idea",
    "IdeaVote",
    "OutgoingEmail",
    "Placement",
    "Pledge",
    "PledgeEvent",
    "PledgeLine",
    "Poll",
    "PollOption",
    "PollVote",
    "PopUp",
    "PopUpBasket",
    "PopUpDayStats",
    "PopUpProduct",
    "PriceRecord",
    "Question",
    "QueuedTask",
    "RateCounter",
    "ReviewInvite",
    "VerifiedReview",
    "holds_active_q",
    "new_ambassador_token",
    "new_basket_token",
    "new_consent_token",
    "page_on_origins",
    "new_placement_code",
    "new_pledge_token",
    "new_review_token",
    "new_vote_token",
    "parse_origins",
    "reserved_slugs",
    "validate_origins",
    "validate_slug_not_reserved",
]
