from django.urls import path

from . import api

urlpatterns = [
    path("notifications/", api.NotificationListApi.as_view(), name="notification-list"),
    path("notifications/read-all/", api.NotificationReadAllApi.as_view(), name="notification-read-all"),
    path("notifications/preferences/", api.PreferenceApi.as_view(), name="notification-preferences"),
    path("notifications/<int:pk>/read/", api.NotificationReadApi.as_view(), name="notification-read"),
]
