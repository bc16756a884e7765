"""The picker app API: hub staff claim, pick, and pack their hub's jobs.

Any signed-in user without the picker role gets 403; a job at a hub the picker does not
work at is 404 (its existence is not revealed).
"""

from dataclasses import asdict

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from prime_now.kernel.roles import Role

from .. import services
from .serializers import (
    PickJobListInput,
    PickJobOutput,
    PickJobPackInput,
    PickLineConfirmInput,
)


class IsPicker(BasePermission):
    message = "Only hub pickers can use the picker app."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated) and request.user.has_role(
            Role.PICKER
        )


class PickerApi(APIView):
    permission_classes = [IsAuthenticated, IsPicker]


def job_body(job: services.PickJobDTO) -> dict:
    return PickJobOutput(asdict(job)).data


class PickJobListApi(PickerApi):
    """Open jobs at the hubs where I pick (earliest due first)."""

    @extend_schema(
        parameters=[PickJobListInput],
        responses=PickJobOutput(many=True),
        operation_id="picker_jobs_list",
    )
    def get(self, request):
        params = PickJobListInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        status = params.validated_data.get("status")
        jobs = services.pick_jobs_for_picker(
            picker_id=request.user.pk,
            status=services.PickJobStatus(status) if status else None,
            limit=params.validated_data["limit"],
        )
        return Response([job_body(job) for job in jobs])


class PickJobClaimApi(PickerApi):
    """Claim the next job at my hub (or get back the one I am picking). 204 when none."""

    @extend_schema(
        request=None,
        responses={200: PickJobOutput, 204: OpenApiResponse(description="No job waiting.")},
        operation_id="picker_job_claim",
    )
    def post(self, request, hub_code: str):
        job = services.pick_job_claim_next(hub_code=hub_code, picker_id=request.user.pk)
        if job is None:
            return Response(status=204)
        return Response(job_body(job))


class PickJobGetApi(PickerApi):
    """One job with its pick list sorted by aisle and bin."""

    @extend_schema(responses=PickJobOutput, operation_id="picker_job_get")
    def get(self, request, job_id):
        return Response(
            job_body(services.pick_job_for_picker(job_id=str(job_id), picker_id=request.user.pk))
        )


class PickLineConfirmApi(PickerApi):
    """Confirm one line: how many I picked, and substitutes for a short pick."""

    @extend_schema(
        request=PickLineConfirmInput, responses=PickJobOutput, operation_id="picker_line_confirm"
    )
    def post(self, request, job_id, sku: str):
        data = PickLineConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.pick_line_confirm(
            job_id=str(job_id),
            picker_id=request.user.pk,
            sku=sku,
            picked_quantity=data.validated_data["picked_quantity"],
            substitute_quantity=data.validated_data["substitute_quantity"],
        )
        return Response(job_body(job))


class PickJobPackApi(PickerApi):
    """Pack the job into bags and finish it (the courier is dispatched)."""

    @extend_schema(
        request=PickJobPackInput, responses=PickJobOutput, operation_id="picker_job_pack"
    )
    def post(self, request, job_id):
        data = PickJobPackInput(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.pick_job_pack(
            job_id=str(job_id), picker_id=request.user.pk, bags=data.validated_data["bags"]
        )
        return Response(job_body(job))
