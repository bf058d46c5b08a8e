"""The notification kinds the catalog sends."""

from django.utils.translation import gettext_lazy as _

from notifications.texts import register

register("product.listed", _("“%(title)s” is on sale"), _("Your county approved the product; buyers can find it now."))
register("product.rejected", _("“%(title)s” was not approved"),
         _("Reason: %(reason)s. Change the product and it goes back to review."))
