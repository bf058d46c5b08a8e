"""Every write of the merchants app. Import from here."""

from .credentials import (  # noqa: F401
    CREDENTIAL_DECISIONS,
    CREDENTIAL_TRANSITIONS,
    credential_add,
    credential_expire,
    credential_review,
    credential_transition,
    credentials_expire_due,
    credentials_remind_due,
)
from .follows import follow_create, follow_delete, followers_count  # noqa: F401
from .shops import (  # noqa: F401
    DECISIONS,
    MERCHANT_TRANSITIONS,
    AlreadyApplied,
    MerchantNotApproved,
    merchant_apply,
    merchant_require_approved,
    merchant_resubmit,
    merchant_review,
    merchant_transition,
    merchant_update,
)
