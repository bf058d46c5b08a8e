from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LivestreamConfig(AppConfig):
    name = "livestream"
    verbose_name = _("Live streams")

    def ready(self):
        from . import broadcasts, checks, metrics, receivers  # noqa: F401
