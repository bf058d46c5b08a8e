from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.permissions import AllowAny

from .selectors import hub_list
from .serializers import HubListFilter, HubOutput


class HubListApi(generics.ListAPIView):
    """County distribution centres, township express stations and village service points."""

    permission_classes = [AllowAny]
    serializer_class = HubOutput
    filter_backends: list = []

    @extend_schema(parameters=[HubListFilter])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = HubListFilter(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return hub_list(**params.validated_data)
