from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .health import health_report


class HealthApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        summary="Health of the database, cache and channel layer",
        responses={
            200: inline_serializer("Health", {"status": serializers.CharField(), "checks": serializers.DictField()}),
            503: inline_serializer("HealthDown", {"status": serializers.CharField(), "checks": serializers.DictField()}),
        },
    )
    def get(self, request):
        healthy, checks = health_report()
        return Response({"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503)
