"""The shop and credential workflows (core/transitions.py): which status may follow which."""

from core.transitions import Workflow

from .models import Credential, CredentialEvent, Merchant, MerchantEvent

S = Merchant.Status
C = Credential.Status

MERCHANT_TRANSITIONS: dict[str, set[str]] = {
    S.SUBMITTED: {S.APPROVED, S.REJECTED},
    S.REJECTED: {S.SUBMITTED},
    S.APPROVED: {S.SUSPENDED},
    S.SUSPENDED: {S.APPROVED},
}

CREDENTIAL_TRANSITIONS: dict[str, set[str]] = {
    C.PENDING: {C.APPROVED, C.REJECTED, C.EXPIRED},
    C.APPROVED: {C.EXPIRED, C.REVOKED},
    C.REJECTED: set(),
    C.EXPIRED: set(),
    C.REVOKED: set(),
}

MERCHANT_WORKFLOW = Workflow(Merchant, MERCHANT_TRANSITIONS, events=MerchantEvent)
CREDENTIAL_WORKFLOW = Workflow(Credential, CREDENTIAL_TRANSITIONS, events=CredentialEvent)
