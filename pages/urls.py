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
    path("console/", views.console, name="console"),
    path("console/streams/<int:pk>/", views.console_stream, name="console-stream"),
    path("console/streams/<int:pk>/pin/", views.console_pin, name="console-pin"),
    path("console/streams/<int:pk>/offers/", views.console_offer, name="console-offer"),
    path("console/streams/<int:pk>/offers/<int:offer_id>/end/", views.console_offer_end, name="console-offer-end"),
    path("console/streams/<int:pk>/<slug:action>/", views.console_action, name="console-action"),
]
