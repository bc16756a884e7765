from django.urls import path

from .views import DepartmentListApi, ProductGetApi, ProductListApi, ProductSuggestApi

app_name = "catalog"

urlpatterns = [
    path("departments", DepartmentListApi.as_view(), name="departments"),
    path("products", ProductListApi.as_view(), name="products"),
    path("products/suggest", ProductSuggestApi.as_view(), name="products-suggest"),
    path("products/<str:sku>", ProductGetApi.as_view(), name="product"),
]
