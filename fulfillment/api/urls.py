from django.urls import path

from . import views

app_name = "fulfillment"

urlpatterns = [
    path("picker/jobs", views.PickJobListApi.as_view(), name="picker-jobs"),
    path("picker/hubs/<slug:hub_code>/claim", views.PickJobClaimApi.as_view(), name="picker-claim"),
    path("picker/jobs/<uuid:job_id>", views.PickJobGetApi.as_view(), name="picker-job"),
    path(
        "picker/jobs/<uuid:job_id>/lines/<str:sku>/confirm",
        views.PickLineConfirmApi.as_view(),
        name="picker-line-confirm",
    ),
    path("picker/jobs/<uuid:job_id>/pack", views.PickJobPackApi.as_view(), name="picker-pack"),
]
