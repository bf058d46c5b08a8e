from django.urls import include, path

from . import views

urlpatterns = [
    path("bench/constant/", views.constant),
    path("bench/insert/", views.insert),
    path("", include("marketplace.urls")),
]
