"""Notification kinds the payouts app sends (rendered in the reader's language). The account
notices go out on every channel: a change the merchant did not make is how account fraud shows."""

from django.utils.translation import gettext_lazy as _

from notifications.texts import PUSH, register

register("payout.account_changed", _("Your payout account was changed"),
         _("Payouts now go to %(account)s (%(holder)s) once the county has verified it; until then payouts are "
           "on hold. If you did not make this change, contact your county service station at once."))
register("payout.account_verified", _("Your payout account was verified"),
         _("Payouts go to %(account)s (%(holder)s) from now on."))
register("payout.account_rejected", _("Your payout account was not accepted"),
         _("The county did not accept %(account)s: %(reason)s. Payouts stay on hold until you give an account "
           "the county verifies."))
register("payout.account_to_verify", _("A payout account to verify"),
         _("%(shop)s changed its payout account to %(account)s (%(holder)s)."), channels=(PUSH,))
register("payout.paid", _("Payout of %(amount)s yuan received"),
         _("Payout #%(payout)s of %(amount)s yuan reached %(account)s."))
register("payout.failed", _("Payout of %(amount)s yuan failed"),
         _("Payout #%(payout)s to %(account)s failed (%(reason)s); the money is back in your available balance."))
