from django.urls import path

from .facade_views import CheckoutPlaceApi, PromiseGetApi

urlpatterns = [
    path("delivery/promise", PromiseGetApi.as_view(), name="delivery-promise"),
    path("checkout", CheckoutPlaceApi.as_view(), name="checkout-place"),
]
