"""Notification kinds the orders app sends (rendered in the reader's language)."""

from django.utils.translation import gettext_lazy as _

from notifications.texts import register

register("order.paid", _("Order #%(order)s is paid"), _("We have told the shop(s); you can follow the delivery here."))
register("merchant_order.paid", _("New paid order #%(merchant_order)s"),
         _("%(items)s item(s), %(total)s yuan. Please pack and ship it."))
register("order.expired", _("Order #%(order)s was cancelled"),
         _("It was not paid within the payment window; the items went back on sale."))
register("order.cancelled", _("Order #%(order)s is cancelled"), _("Any amount paid is refunded to you."))
register("merchant_order.cancelled", _("Order #%(merchant_order)s was cancelled by the buyer"),
         _("Do not ship it; the buyer has been refunded."))
register("refund.issued", _("Refund of %(amount)s yuan"), _("For order #%(merchant_order)s: %(reason)s"))
register("merchant_order.completed", _("Order #%(merchant_order)s is complete"),
         _("The buyer confirmed receipt (or the confirmation period passed)."))
register("review.received", _("New %(rating)s-star review"), _("On order #%(merchant_order)s."))
register("dispute.opened", _("Dispute on order #%(merchant_order)s"),
         _("The buyer asks for %(requested)s yuan (%(reason)s). Please answer by %(respond_by)s."))
register("dispute.accepted", _("Your dispute #%(dispute)s was accepted"),
         _("The shop agreed; %(amount)s yuan is being refunded."))
register("dispute.contested", _("Your dispute #%(dispute)s was contested"),
         _("The shop disagreed; the county service centre will decide."))
register("dispute.escalated", _("Dispute #%(dispute)s went to the county service centre"),
         _("A county operator will review it and decide on a refund."))
register("dispute.escalated.operator", _("Dispute #%(dispute)s needs a decision"),
         _("Order #%(merchant_order)s of %(shop)s: the buyer asks for %(requested)s yuan."))
register("dispute.resolved", _("Dispute #%(dispute)s is decided"),
         _("Refund: %(amount)s yuan. %(decision)s"))
