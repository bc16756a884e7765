from django.urls import path

from .address_views import AddressApi, AddressListApi
from .facade_views import CheckoutPlaceApi, PromiseGetApi, WindowPickerApi

urlpatterns = [
    path("delivery/promise", PromiseGetApi.as_view(), name="delivery-promise"),
    path("delivery/window-picker", WindowPickerApi.as_view(), name="delivery-window-picker"),
    path("checkout", CheckoutPlaceApi.as_view(), name="checkout-place"),
    path("addresses", AddressListApi.as_view(), name="address-list"),
    path("addresses/<int:address_id>", AddressApi.as_view(), name="address"),
]
