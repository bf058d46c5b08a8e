from django.urls import path

from . import api

urlpatterns = [
    path("orders/<int:order_id>/pay/", api.PayApi.as_view(), name="order-pay"),
    path("payments/webhook/<str:provider>/", api.WebhookApi.as_view(), name="payment-webhook"),
]
