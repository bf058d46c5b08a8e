from django.urls import path

from . import api

urlpatterns = [
    path("cart/", api.CartApi.as_view(), name="cart"),
    path("cart/items/", api.CartItemCreateApi.as_view(), name="cart-item-create"),
    path("cart/items/<int:item_id>/", api.CartItemApi.as_view(), name="cart-item"),
    path("orders/", api.OrderListCreateApi.as_view(), name="order-list"),
    path("orders/<int:order_id>/", api.OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<int:order_id>/cancel/", api.OrderCancelApi.as_view(), name="order-cancel"),
    path("merchant-orders/", api.MerchantOrderListApi.as_view(), name="merchant-order-list"),
    path("merchant-orders/<int:merchant_order_id>/", api.MerchantOrderDetailApi.as_view(),
         name="merchant-order-detail"),
    path("merchant-orders/<int:merchant_order_id>/confirm/", api.MerchantOrderConfirmApi.as_view(),
         name="merchant-order-confirm"),
    path("merchant-orders/<int:merchant_order_id>/reviews/", api.ReviewCreateApi.as_view(), name="review-create"),
    path("merchant-orders/<int:merchant_order_id>/disputes/", api.DisputeCreateApi.as_view(),
         name="dispute-create"),
    path("disputes/", api.DisputeListApi.as_view(), name="dispute-list"),
    path("disputes/<int:dispute_id>/", api.DisputeDetailApi.as_view(), name="dispute-detail"),
    path("disputes/<int:dispute_id>/respond/", api.DisputeRespondApi.as_view(), name="dispute-respond"),
    path("disputes/<int:dispute_id>/resolve/", api.DisputeResolveApi.as_view(), name="dispute-resolve"),
]
