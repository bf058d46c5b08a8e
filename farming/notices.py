"""Notification kinds of adoptions and pre-sales (rendered in the reader's language)."""

from django.utils.translation import gettext_lazy as _

from notifications.texts import register

register("adoption.delivery", _("Your adoption “%(adoption)s” is sending delivery %(seq)s of %(of)s"),
         _("Order #%(order)s is on its way from the farm; follow it here."))
register("adoption.delivery.merchant", _("Adoption delivery to pack: order #%(merchant_order)s"),
         _("“%(adoption)s”, delivery %(seq)s of %(of)s. Please pack and ship it."))
register("adoption.updated", _("News from “%(adoption)s”"), _("The farmer posted an update for its adopters."))
register("adoption.cancelled", _("An adopter left “%(adoption)s”"),
         _("%(skipped)s delivery(ies) will not be sent; %(amount)s yuan was refunded."))
