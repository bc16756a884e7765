from django.urls import path

from .views import account, addresses, cart, checkout, notifications, orders, pages, picker

app_name = "storefront"

urlpatterns = [
    path("", pages.home, name="home"),
    path("deliver-to/", pages.deliver_to, name="deliver_to"),
    path("d/<slug:slug>/", pages.department_listing, name="department"),
    path("search/", pages.search, name="search"),
    path("search/suggest/", pages.suggest, name="suggest"),
    path("p/<str:sku>/", pages.product, name="product"),
    path("p/<str:sku>/picture-<str:size>.webp", pages.product_picture, name="product_picture"),
    path("cart/", cart.cart_view, name="cart"),
    path("cart/add/", cart.cart_add, name="cart_add"),
    path("cart/<str:sku>/quantity/", cart.cart_update, name="cart_update"),
    path("cart/<str:sku>/remove/", cart.cart_remove, name="cart_remove"),
    path("cart/<str:sku>/substitution/", cart.cart_substitution, name="cart_substitution"),
    path("checkout/", checkout.checkout, name="checkout"),
    path("orders/", orders.order_history, name="orders"),
    path("orders/<str:number>/", orders.order_tracking, name="order"),
    path("orders/<str:number>/status/", orders.order_tracking_status, name="order_status"),
    path("orders/<str:number>/confirmation/", checkout.confirmation, name="confirmation"),
    path("orders/<str:number>/cancel/", orders.order_cancel, name="order_cancel"),
    path("orders/<str:number>/reorder/", orders.order_reorder, name="order_reorder"),
    path("orders/<str:number>/proof/", orders.order_proof, name="order_proof"),
    path("orders/<str:number>/problems/<str:sku>/", orders.order_problem, name="order_problem"),
    path(
        "orders/<str:number>/substitutes/<str:sku>/",
        orders.order_substitute,
        name="order_substitute",
    ),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/read/", notifications.notifications_read, name="notifications_read"),
    path(
        "notifications/preferences/",
        notifications.notification_preferences,
        name="notification_preferences",
    ),
    path("addresses/", addresses.address_book, name="addresses"),
    path("addresses/<int:address_id>/use/", addresses.address_use, name="address_use"),
    path(
        "addresses/<int:address_id>/default/",
        addresses.address_make_default,
        name="address_default",
    ),
    path("addresses/<int:address_id>/remove/", addresses.address_forget, name="address_forget"),
    path("picker/", picker.picker_home, name="picker"),
    path("picker/next/", picker.picker_next, name="picker_next"),
    path("picker/jobs/<uuid:job_id>/", picker.picker_job, name="picker_job"),
    path("picker/jobs/<uuid:job_id>/lines/<str:sku>/", picker.picker_line, name="picker_line"),
    path("picker/jobs/<uuid:job_id>/pack/", picker.picker_pack, name="picker_pack"),
    path("signup/", account.sign_up, name="signup"),
    path("signin/", account.SignInView.as_view(), name="signin"),
    path("signout/", account.SignOutView.as_view(), name="signout"),
]
