"""Notification kinds the ledger sends (rendered in the reader's language)."""

from django.utils.translation import gettext_lazy as _

from notifications.texts import register

register("ledger.negative_balance", _("%(shop)s owes the platform %(amount)s yuan"),
         _("Merchant %(merchant)s has had a negative balance since %(since)s (a refund after its payout); "
           "its next payouts recover it."))
