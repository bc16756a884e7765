from django.urls import include, path

app_name = "delivery"

urlpatterns = [
    path("", include("delivery.api.facade_urls")),
    path("", include("delivery.api.tracking_urls")),
    path("courier/", include("delivery.api.courier_urls")),
]
