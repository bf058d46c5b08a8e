"""The notification kinds this app itself sends."""

from django.utils.translation import gettext_lazy as _

from .texts import PUSH, register

# Mass notice: in-app and socket only (an SMS to every follower would be spam and cost).
register("stream.live", _("%(shop)s is live now"), _("“%(title)s” has started. Tap to watch and buy."),
         channels=(PUSH,))
