from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Platform core")

    def ready(self):
        from . import checks  # noqa: F401
        from .logfilters import install

        install()  # the handlers configured before Django (uvicorn's access log) redact secrets too
