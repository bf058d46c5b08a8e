from django.urls import path

from . import views

app_name = "pages"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.SignInView.as_view(), name="sign-in"),
    path("sign-out/", views.SignOutView.as_view(), name="sign-out"),
    path("products/<int:pk>/", views.product_page, name="product"),
    path("products/<int:pk>/follow/", views.shop_follow, name="follow"),
    path("t/<str:code>/", views.trace_page, name="trace"),
    path("live/<int:pk>/", views.live_room, name="live"),
]
