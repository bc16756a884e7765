"""Courier earnings (the block's base pay per delivered trip plus the orders' tips) and proof of
delivery as an image (JPEG or PNG, checked, stored, shown to staff and the customer only)."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from delivery.models import Offer, OfferStatus, ProofImage, TripEarning
from delivery.transport.errors import JobNotFoundError, ProofImageError
from delivery.transport.proofs import proof_upload
from delivery.transport.simulator import doorstep_photo
from delivery.transport.trips import stop_deliver, trip_arrive_at_hub, trip_pick_up
from tests.kernel.factories import UserFactory

from .support import DOOR, current_block, job_for, make_courier, north, packed_order

pytestmark = pytest.mark.django_db


def deliver_one(hub, courier, capture, *, photo=True):
    """A packed order offered to `courier`, accepted, picked up and delivered with a photo."""
    from delivery.transport.offers import offer_accept

    number = packed_order(hub, capture=capture)
    offer = Offer.objects.get(job__order_number=number, status=OfferStatus.PENDING)
    offer_accept(user_id=courier.pk, offer_id=str(offer.pk))
    trip_arrive_at_hub(user_id=courier.pk)
    trip_pick_up(user_id=courier.pk, bags=1)
    job_id = str(job_for(number).pk)
    proof = proof_upload(user_id=courier.pk, job_id=job_id, kind="photo", data=doorstep_photo())
    stop_deliver(
        user_id=courier.pk,
        job_id=job_id,
        proof_kind="photo",
        proof_reference=proof.id,
        lat=DOOR[0],
        lon=DOOR[1],
    )
    return number


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_delivered_trip_earns_the_blocks_base_pay_plus_the_tip(
    hub, django_capture_on_commit_callbacks
):
    courier = make_courier(hub, at=north(0.3))
    block = current_block(hub.code)
    block.base_pay = Decimal("7.50")
    block.save(update_fields=["base_pay"])

    deliver_one(hub, courier, django_capture_on_commit_callbacks)

    earning = TripEarning.objects.get()
    assert (earning.base_pay, earning.tips, earning.total) == (
        Decimal("7.50"),
        Decimal("2.00"),  # the order's tip
        Decimal("9.50"),
    )


def test_the_earnings_api_adds_up_the_delivered_trips(hub, django_capture_on_commit_callbacks):
    courier = make_courier(hub, at=north(0.3))
    base = current_block(hub.code).base_pay
    deliver_one(hub, courier, django_capture_on_commit_callbacks)
    deliver_one(hub, courier, django_capture_on_commit_callbacks)

    body = api(courier).get("/api/v1/courier/earnings", {"period": "week"}).json()

    expected = 2 * (base + Decimal("2.00"))
    assert Decimal(body["total"]["total"]) == expected
    assert body["total"]["trips"] == 2 and body["total"]["deliveries"] == 2
    assert Decimal(body["total"]["tips"]) == Decimal("4.00")
    assert sum(Decimal(row["total"]) for row in body["rows"]) == expected


def test_earnings_by_day_list_empty_days_with_zeros(hub):
    courier = make_courier(hub)
    today = timezone.now().date()

    body = (
        api(courier)
        .get(
            "/api/v1/courier/earnings",
            {"period": "day", "start": str(today - timedelta(days=2)), "end": str(today)},
        )
        .json()
    )

    assert [row["trips"] for row in body["rows"]] == [0, 0, 0]


def test_an_earnings_range_backwards_is_refused(hub):
    courier = make_courier(hub)

    response = api(courier).get(
        "/api/v1/courier/earnings", {"start": "2026-12-06", "end": "2026-12-01"}
    )

    assert response.status_code == 400 and "start" in response.json()["error"]["fields"]


def test_the_statement_command_prints_each_couriers_payout(
    hub, django_capture_on_commit_callbacks, capsys
):
    courier = make_courier(hub, at=north(0.3))
    deliver_one(hub, courier, django_capture_on_commit_callbacks)
    today = timezone.now().date()

    call_command("courier_statement", "--start", str(today), "--end", str(today))

    rows = capsys.readouterr().out.strip().splitlines()
    earning = TripEarning.objects.get()
    assert rows[0] == "courier,trips,deliveries,base_pay,tips,total"
    assert rows[1] == f"{courier.username},1,1,{earning.base_pay},2.00,{earning.total}"
    assert rows[-1].startswith("TOTAL,1,1,")


def test_a_photo_proof_is_stored_and_shown_to_staff_and_the_customer_only(
    hub, django_capture_on_commit_callbacks, client
):
    courier = make_courier(hub, at=north(0.3))
    number = deliver_one(hub, courier, django_capture_on_commit_callbacks)
    job = job_for(number)
    stored = ProofImage.objects.get(job=job)

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    staff = client.get(f"/admin/delivery/deliveryjob/{job.pk}/proof/")
    page = client.get(f"/admin/delivery/deliveryjob/{job.pk}/change/")
    client.force_login(UserFactory(roles=["customer"]))
    stranger = client.get(f"/orders/{number}/proof/")

    assert stored.content_type == "image/jpeg" and stored.image.name.startswith(f"proofs/{number}/")
    assert staff.status_code == 200 and staff["Content-Type"] == "image/jpeg"
    assert b"".join(staff.streaming_content) == doorstep_photo()
    assert f"/admin/delivery/deliveryjob/{job.pk}/proof/" in page.content.decode()
    assert stranger.status_code == 404


def test_the_customer_sees_the_proof_on_their_order(
    hub, django_capture_on_commit_callbacks, client
):
    courier = make_courier(hub, at=north(0.3))
    customer = UserFactory(roles=["customer"])
    from delivery.transport.offers import offer_accept

    number = packed_order(hub, customer=customer, capture=django_capture_on_commit_callbacks)
    offer_accept(
        user_id=courier.pk,
        offer_id=str(Offer.objects.get(job__order_number=number, status="pending").pk),
    )
    trip_arrive_at_hub(user_id=courier.pk)
    trip_pick_up(user_id=courier.pk, bags=1)
    job_id = str(job_for(number).pk)
    signed = proof_upload(
        user_id=courier.pk, job_id=job_id, kind="signature", data=doorstep_photo()
    )
    stop_deliver(
        user_id=courier.pk,
        job_id=job_id,
        proof_kind="signature",
        proof_reference=signed.id,
        lat=DOOR[0],
        lon=DOOR[1],
    )
    client.force_login(customer)

    response = client.get(f"/orders/{number}/proof/")

    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"


@pytest.fixture
def at_the_door(hub, django_capture_on_commit_callbacks):
    from delivery.transport.offers import offer_accept

    courier = make_courier(hub, at=north(0.3))
    number = packed_order(hub, capture=django_capture_on_commit_callbacks)
    offer = Offer.objects.get(job__order_number=number, status=OfferStatus.PENDING)
    offer_accept(user_id=courier.pk, offer_id=str(offer.pk))
    trip_arrive_at_hub(user_id=courier.pk)
    trip_pick_up(user_id=courier.pk, bags=1)
    return courier, str(job_for(number).pk)


def test_a_non_image_upload_is_refused_with_a_clear_error(at_the_door):
    courier, job_id = at_the_door

    response = api(courier).post(
        f"/api/v1/courier/trip/stops/{job_id}/proof",
        {"kind": "photo", "image": SimpleUploadedFile("door.jpg", b"%PDF-1.4 not a photo")},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_image"
    assert "not an image we can read" in response.json()["error"]["message"]
    assert not ProofImage.objects.exists()


def test_an_image_of_another_format_is_refused(at_the_door):
    courier, job_id = at_the_door
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, format="GIF")

    with pytest.raises(ProofImageError) as refused:
        proof_upload(user_id=courier.pk, job_id=job_id, kind="photo", data=gif.getvalue())

    assert refused.value.fields == {"image": "GIF"}


def test_a_too_large_upload_is_refused(at_the_door):
    courier, job_id = at_the_door

    with pytest.raises(ProofImageError):
        proof_upload(
            user_id=courier.pk, job_id=job_id, kind="photo", data=b"\xff" * (5 * 1024 * 1024 + 1)
        )


def test_a_png_signature_is_accepted(at_the_door):
    courier, job_id = at_the_door
    png = io.BytesIO()
    Image.new("L", (200, 80), 255).save(png, format="PNG")

    proof = proof_upload(user_id=courier.pk, job_id=job_id, kind="signature", data=png.getvalue())

    assert (proof.content_type, proof.width, proof.height) == ("image/png", 200, 80)


def test_delivering_with_a_reference_that_is_not_an_uploaded_proof_is_refused(at_the_door):
    from delivery.transport.errors import TripStepError

    courier, job_id = at_the_door

    with pytest.raises(TripStepError):
        stop_deliver(
            user_id=courier.pk,
            job_id=job_id,
            proof_kind="photo",
            proof_reference="photos/made-up.jpg",
            lat=DOOR[0],
            lon=DOOR[1],
        )


def test_another_courier_cannot_upload_for_the_stop(hub, at_the_door):
    _courier, job_id = at_the_door
    other = make_courier(hub, at=north(2))

    with pytest.raises(JobNotFoundError):
        proof_upload(user_id=other.pk, job_id=job_id, kind="photo", data=doorstep_photo())
