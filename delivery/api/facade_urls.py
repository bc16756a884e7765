from django.urls import path

from .facade_views import CheckoutPlaceApi, PromiseGetApi, WindowPickerApi

urlpatterns = [
    path("delivery/promise", PromiseGetApi.as_view(), name="delivery-promise"),
    path("delivery/window-picker", WindowPickerApi.as_view(), name="delivery-window-picker"),
    path("checkout", CheckoutPlaceApi.as_view(), name="checkout-place"),
]
