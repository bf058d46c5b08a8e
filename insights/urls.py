from django.urls import path

from . import api

urlpatterns = [
    path("me/insights/", api.MyInsightsApi.as_view(), name="my-insights"),
    path("me/insights/interactions/", api.MyInteractionListApi.as_view(), name="my-interactions"),
]
