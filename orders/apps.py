from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from . import commission, notices, receivers, sales  # noqa: F401 - rule cache, notices, receivers, sales
