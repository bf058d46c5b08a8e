from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FarmingConfig(AppConfig):
    name = "farming"
    verbose_name = _("Selling before the harvest")

    def ready(self):
        from . import notices, receivers, status  # noqa: F401 - notification kinds, receivers, workflows
