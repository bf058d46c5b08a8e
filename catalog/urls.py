from django.urls import path

from . import api

urlpatterns = [
    path("categories/", api.CategoryListApi.as_view(), name="category-list"),
    path("products/", api.ProductListApi.as_view(), name="product-list"),
    path("products/review-queue/", api.ProductQueueApi.as_view(), name="product-review-queue"),
    path("products/<int:pk>/", api.ProductDetailApi.as_view(), name="product-detail"),
    path("products/<int:pk>/review/", api.ProductReviewApi.as_view(), name="product-review"),
    path("products/<int:pk>/delist/", api.ProductDelistApi.as_view(), name="product-delist"),
    path("products/<int:pk>/relist/", api.ProductRelistApi.as_view(), name="product-relist"),
    path("products/<int:pk>/stock/", api.ProductStockApi.as_view(), name="product-stock"),
    path("products/<int:pk>/images/", api.ProductImageListApi.as_view(), name="product-images"),
    path("products/<int:pk>/images/<int:image_id>/", api.ProductImageDetailApi.as_view(), name="product-image"),
    path("products/<int:pk>/batches/", api.BatchListApi.as_view(), name="product-batches"),
    path("trace/<str:code>/", api.TraceApi.as_view(), name="trace-detail"),
    path("trace/<str:code>/qr.png", api.TraceQrApi.as_view(), name="trace-qr"),
]
