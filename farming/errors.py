"""The refusals of adoptions and pre-sales (core.errors renders them in the envelope)."""

from django.utils.translation import gettext_lazy as _

from core.errors import Conflict


class AdoptionFull(Conflict):
    code = "adoption_full"
    default_message = _("Every place of this adoption is taken.")


class AdoptionClosed(Conflict):
    code = "adoption_closed"
    default_message = _("This adoption takes no more adopters.")


class PastCutOff(Conflict):
    code = "past_cut_off"
    default_message = _("Every delivery left is past its cancellation cut-off; nothing can be refunded now.")


class CancelThroughAdoption(Conflict):
    code = "adoption_order"
    default_message = _("This order pays for an adoption: cancel the adoption instead (its refund rules apply).")
