from django.urls import path

from . import api

urlpatterns = [
    path("me/insights/", api.MyInsightsApi.as_view(), name="my-insights"),
    path("me/insights/interactions/", api.MyInteractionListApi.as_view(), name="my-interactions"),
    path("recommendations/products/", api.ForYouProductsApi.as_view(), name="for-you-products"),
    path("recommendations/streams/", api.ForYouStreamsApi.as_view(), name="for-you-streams"),
    path("products/<int:pk>/similar/", api.SimilarProductsApi.as_view(), name="product-similar"),
]
