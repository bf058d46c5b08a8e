from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from . import api

urlpatterns = [
    path("health/", api.HealthApi.as_view(), name="health"),
    path("health/live/", api.LivenessApi.as_view(), name="health-live"),
    path("health/ready/", api.HealthApi.as_view(), name="health-ready"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]
