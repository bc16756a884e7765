from django.urls import path

from .views import NotificationListApi, NotificationMarkReadApi, PreferenceApi

app_name = "notifications"

urlpatterns = [
    path("notifications", NotificationListApi.as_view(), name="notification-list"),
    path("notifications/read", NotificationMarkReadApi.as_view(), name="notification-read"),
    path("notifications/preferences", PreferenceApi.as_view(), name="notification-preferences"),
]
