from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.pagination import PageNumberPagination

from .selectors import notifications_for, preference_get, unread_count
from .serializers import NotificationListFilter, NotificationOutput, PreferenceSerializer, ReadAllOutput
from .services import notification_mark_read, notifications_mark_all_read, preference_update


class NotificationPagination(PageNumberPagination):
    """A page of notifications plus how many of all the user's are unread."""

    def paginate_queryset(self, queryset, request, view=None):
        self.unread_count = unread_count(user=request.user)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["unread_count"] = self.unread_count
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["unread_count"] = {"type": "integer", "example": 3}
        schema["required"] = [*schema.get("required", []), "unread_count"]
        return schema


class NotificationListApi(generics.ListAPIView):
    """The signed-in user's notifications, newest first, with the unread count."""

    permission_classes = [IsAuthenticated]
    serializer_class = NotificationOutput
    pagination_class = NotificationPagination
    filter_backends: list = []

    @extend_schema(parameters=[NotificationListFilter])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = NotificationListFilter(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return notifications_for(user=self.request.user, unread=params.validated_data.get("unread"))


class NotificationReadApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=NotificationOutput)
    def post(self, request, pk: int):
        notification = notification_mark_read(user=request.user, notification_id=pk)
        return Response(NotificationOutput(notification).data)


class NotificationReadAllApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=ReadAllOutput)
    def post(self, request):
        updated = notifications_mark_all_read(user=request.user)
        return Response(ReadAllOutput({"updated": updated, "unread_count": 0}).data)


class PreferenceApi(APIView):
    """SMS opt-out and quiet hours (in the platform's time zone)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=PreferenceSerializer)
    def get(self, request):
        return Response(PreferenceSerializer(preference_get(user=request.user)).data)

    @extend_schema(request=PreferenceSerializer, responses=PreferenceSerializer)
    def patch(self, request):
        data = PreferenceSerializer(preference_get(user=request.user), data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        preference = preference_update(user=request.user, **data.validated_data)
        return Response(PreferenceSerializer(preference).data)
