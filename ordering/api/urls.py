from django.urls import path

from .views import (
    CartGetApi,
    CartLineAddApi,
    CartLineApi,
    CartLineSubstitutionApi,
    CartPricesAcceptApi,
    OrderCancelApi,
    OrderGetApi,
    OrderListApi,
    OrderProblemsApi,
    OrderReorderApi,
    OrderSubstituteDecideApi,
)

app_name = "ordering"

# orders/<number>/tracking is delivery's (delivery/api/tracking_urls.py).
urlpatterns = [
    path("cart", CartGetApi.as_view(), name="cart-get"),
    path("cart/lines", CartLineAddApi.as_view(), name="cart-line-add"),
    path("cart/lines/<str:sku>", CartLineApi.as_view(), name="cart-line"),
    path(
        "cart/lines/<str:sku>/substitution",
        CartLineSubstitutionApi.as_view(),
        name="cart-line-substitution",
    ),
    path("cart/accept-prices", CartPricesAcceptApi.as_view(), name="cart-prices-accept"),
    path("orders", OrderListApi.as_view(), name="order-list"),
    path("orders/<str:number>", OrderGetApi.as_view(), name="order-get"),
    path("orders/<str:number>/cancel", OrderCancelApi.as_view(), name="order-cancel"),
    path("orders/<str:number>/problems", OrderProblemsApi.as_view(), name="order-problems"),
    path("orders/<str:number>/reorder", OrderReorderApi.as_view(), name="order-reorder"),
    path(
        "orders/<str:number>/substitutes/<str:sku>",
        OrderSubstituteDecideApi.as_view(),
        name="order-substitute-decide",
    ),
]
