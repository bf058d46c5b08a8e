"""The notification kinds the merchants app sends."""

from django.utils.translation import gettext_lazy as _

from notifications.texts import register

register("merchant.submitted", _("New shop application: %(shop)s"),
         _("%(shop)s applied to sell on Cunbo from your county. Review it in the vetting queue."))
register("merchant.resubmitted", _("Shop application resubmitted: %(shop)s"),
         _("%(shop)s changed its application and asks for another review."))
register("merchant.approved", _("Your shop %(shop)s is approved"),
         _("You can now list products and go live."))
register("merchant.rejected", _("Your shop application was not approved"),
         _("Reason: %(reason)s. Change your application and resubmit it."))
register("merchant.suspended", _("Your shop %(shop)s is suspended"),
         _("Your products are hidden until the county reinstates the shop. Reason: %(reason)s"))
register("merchant.reinstated", _("Your shop %(shop)s is reinstated"),
         _("Your listed products are visible again."))
register("credential.approved", _("%(kind)s verified"), _("Your %(kind)s (%(number)s) has been verified."))
register("credential.rejected", _("%(kind)s not accepted"),
         _("Your %(kind)s (%(number)s) was not accepted. Reason: %(reason)s"))
register("credential.revoked", _("%(kind)s revoked"),
         _("Your %(kind)s (%(number)s) was revoked. Reason: %(reason)s. Claims that relied on it were "
           "withdrawn from %(products)s product(s)."))
register("credential.expiring", _("%(kind)s expires in %(days)s days"),
         _("Your %(kind)s (%(number)s) expires on %(date)s. Upload the renewed document before then to keep "
           "the claims it backs."))
register("credential.expired", _("%(kind)s has expired"),
         _("Your %(kind)s (%(number)s) expired on %(date)s. Claims that relied on it were withdrawn from "
           "%(products)s product(s)."))
