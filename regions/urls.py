from django.urls import path

from . import api

urlpatterns = [
    path("regions/", api.RegionListApi.as_view(), name="region-list"),
]
