"""What buyers, merchants and operators are told about parcels (``notifications.texts``)."""

from django.utils.translation import gettext_lazy as _

from notifications.texts import PUSH, register

# The buyer: every status change.
register("shipment.created", _("Order #%(order)s has shipped"),
         _("%(shop)s packed your parcel; it will be collected at %(hub)s."))
register("shipment.picked_up", _("Parcel collected"),
         _("Your parcel from %(shop)s (order #%(order)s) was collected at %(hub)s."))
register("shipment.in_transit", _("Parcel on its way"),
         _("Your parcel (order #%(order)s) passed %(hub)s."))
register("shipment.at_county_centre", _("Parcel at the county distribution centre"),
         _("Your parcel (order #%(order)s) reached %(hub)s."))
register("shipment.at_township_station", _("Parcel at your township station"),
         _("Your parcel (order #%(order)s) reached %(hub)s."))
register("shipment.out_for_delivery", _("Parcel out for delivery"),
         _("Your parcel (order #%(order)s) is on its way to %(hub)s. Pickup code: %(code)s."))
register("shipment.delivered", _("Parcel delivered"),
         _("Your parcel (order #%(order)s) was handed over at %(hub)s. Enjoy!"))
register("shipment.failed.recipient_absent", _("We missed you"),
         _("Nobody was there to take your parcel (order #%(order)s). We will try again."))
register("shipment.failed.refused", _("Parcel refused"),
         _("The parcel for order #%(order)s was refused and will go back to %(shop)s."))
register("shipment.failed.address_wrong", _("Address problem"),
         _("We could not deliver order #%(order)s: the address looks wrong. Please contact %(shop)s."))
register("shipment.returned", _("Parcel returned to the shop"),
         _("Your parcel (order #%(order)s) is going back to %(shop)s."))

# The merchant: what concerns them.
register("shipment.merchant.picked_up", _("Parcel collected"),
         _("Order #%(order)s was collected at %(hub)s."))
register("shipment.merchant.delivered", _("Order delivered"),
         _("Order #%(order)s reached the buyer."))
register("shipment.merchant.failed.recipient_absent", _("Delivery attempt missed"),
         _("The buyer of order #%(order)s was not there; the station will try again."))
register("shipment.merchant.failed.refused", _("Parcel refused"),
         _("The buyer refused order #%(order)s; it will come back to you."))
register("shipment.merchant.failed.address_wrong", _("Delivery address problem"),
         _("Order #%(order)s could not be delivered: the address looks wrong."))
register("shipment.merchant.returned", _("Parcel coming back"),
         _("Order #%(order)s is being returned to you."))

# The county's operators: the SLA watch (in-app and socket; the queue shows the rest).
register("shipment.overdue", _("%(count)s parcels overdue"),
         _("%(count)s parcels in %(county)s are past their target time (%(perishable)s perishable)."),
         channels=(PUSH,))
