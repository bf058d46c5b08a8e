"""The adoption's and the adopter's status machines (core/transitions.py)."""

from core.transitions import Workflow

from .models import Adoption, Subscription

A, S = Adoption.Status, Subscription.Status

ADOPTION_WORKFLOW = Workflow(Adoption, {A.OPEN: {A.CLOSED}, A.CLOSED: {A.OPEN}})
# An adopter's subscription ends once: cancelled (by them, or their paying order lapsed unpaid), or
# finished when every delivery is settled.
SUBSCRIPTION_WORKFLOW = Workflow(Subscription, {S.ACTIVE: {S.CANCELLED, S.FINISHED}, S.CANCELLED: set(),
                                                S.FINISHED: set()}, timestamps={S.CANCELLED: "cancelled_at"})
