from django.urls import include, path

from . import views

urlpatterns = [
    path("bench/constant/", views.constant),
    path("bench/insert/", views.insert),
    path("bench/floor/<str:name>/", views.floor),
    path("", include("marketplace.urls")),
]
