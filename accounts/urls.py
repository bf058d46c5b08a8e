from django.urls import path

from . import api

urlpatterns = [
    path("auth/register", api.RegisterApi.as_view(), name="auth-register"),
    path("auth/token", api.TokenApi.as_view(), name="auth-token"),
    path("auth/token/refresh", api.TokenRefreshApi.as_view(), name="auth-token-refresh"),
    path("auth/logout", api.LogoutApi.as_view(), name="auth-logout"),
    path("auth/password", api.PasswordChangeApi.as_view(), name="auth-password"),
    path("me", api.MeApi.as_view(), name="me"),
    path("operators/", api.OperatorCreateApi.as_view(), name="operator-create"),
]
