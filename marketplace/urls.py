from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from core.media import media_serve
from core.metrics import metrics_view

api_patterns = [
    path("", include("core.urls")),
    path("", include("accounts.urls")),
    path("", include("regions.urls")),
    path("", include("merchants.urls")),
    path("", include("catalog.urls")),
    path("", include("livestream.urls")),
    path("", include("orders.urls")),
    path("", include("farming.urls")),
    path("", include("payments.urls")),
    path("", include("ledger.urls")),
    path("", include("payouts.urls")),
    path("", include("logistics.urls")),
    path("", include("notifications.urls")),
    path("", include("insights.urls")),
    path("", include("figures.urls")),
]

urlpatterns = [
    path("api/", include(api_patterns)),
    path("admin/", admin.site.urls),
    path("metrics", metrics_view, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),  # the pages' language switch (set_language)
    path("", include("pages.urls")),
]

if settings.SERVE_MEDIA:
    urlpatterns += [path("media/<path:path>", media_serve, name="media")]

handler400 = "core.errors.handler400"
handler403 = "core.errors.handler403"
handler404 = "core.errors.handler404"
handler500 = "core.errors.handler500"
