from django.urls import path

from .tracking_views import OrderTrackingGetApi

urlpatterns = [
    path("orders/<str:number>/tracking", OrderTrackingGetApi.as_view(), name="order-tracking"),
]
