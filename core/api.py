from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .health import health_report


class LivenessApi(APIView):
    """The process answers: nothing else is asked, so a database or Redis outage never gets a
    healthy process restarted (that is readiness's business)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes: list = []

    @extend_schema(summary="Liveness: the process serves requests",
                   responses={200: inline_serializer("Liveness", {"status": serializers.CharField()})})
    def get(self, request):
        return Response({"status": "ok"})


class HealthApi(APIView):
    """Readiness: the database, the cache and the channel layer answer (also at ``/api/health/``)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        summary="Readiness: health of the database, cache and channel layer",
        responses={
            200: inline_serializer("Health", {"status": serializers.CharField(), "checks": serializers.DictField()}),
            503: inline_serializer("HealthDown", {"status": serializers.CharField(), "checks": serializers.DictField()}),
        },
    )
    def get(self, request):
        healthy, checks = health_report()
        return Response({"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503)
