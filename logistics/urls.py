from django.urls import path

from . import api

urlpatterns = [
    path("logistics/hubs/", api.HubListApi.as_view(), name="hub-list"),
]
