"""Done when: after a simulated run with refusals, cancellations and a forced failed delivery,
the drop rate and its reasons on the ops dashboard, in /metrics and in ops_report agree with
a count made from the owning apps' own tables."""

import re
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone
from rest_framework.test import APIClient

from delivery.models import Checkout, DeliveryJob
from delivery.tasks.transport import sweep_offers
from delivery.transport.simulator import Simulator
from delivery.transport.trips import stop_fail
from ordering import services as ordering
from ordering.models import Order
from tests.fulfillment.factories import PickerFactory
from tests.kernel.factories import UserFactory
from tests.storefront.conftest import POSTCODE, UNSERVED, make_shop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

APPROVED, DECLINED = "tok_visa", "tok_chargeDeclined"
FAR = (47.6101 + 0.04, -122.3421)  # 4.4 km from the hub: a ride of many ticks


def _checkout(api, shop, key, *, sku=None, postcode=POSTCODE, card=APPROVED, at=(None, None)):
    body = {
        "lines": [{"sku": sku or shop.products[0].sku, "quantity": 1}],
        "address": "1 Pike St, Seattle",
        "postcode": postcode,
        "lat": at[0],
        "lon": at[1],
        "window_id": shop.windows[0].pk,
        "payment_token": card,
    }
    response = api.post("/api/v1/checkout", body, format="json", headers={"Idempotency-Key": key})
    return response.json().get("order_number")


def _simulate(simulator, *, until, ticks=60):
    """Tick the simulator, each tick 30 simulated seconds after the last, until `until()`."""
    for _ in range(ticks):
        simulator.tick()
        # The 30 simulated seconds pass for the dispatcher's retry clock too: a job no courier
        # was free for when it was packed is offered again by the next sweep, however fast the
        # machine runs the ticks.
        DeliveryJob.objects.filter(last_offer_attempt_at__isnull=False).update(
            last_offer_attempt_at=F("last_offer_attempt_at") - timedelta(seconds=30)
        )
        sweep_offers.apply()
        simulator._last = {pk: timezone.now() - timedelta(seconds=30) for pk in simulator._last}
        if until():
            return
    pytest.fail("the simulated run did not get there")


def _database_count() -> tuple[int, Counter]:
    """Attempts and drops by reason, from delivery's checkouts and ordering's orders."""
    attempts = Checkout.objects.count()
    reasons = Counter(
        Checkout.objects.filter(status="failed").values_list("failure_code", flat=True)
    )
    for order in Order.objects.all():
        if order.status == "cancelled":
            actor = order.timeline.filter(status="cancelled").get().actor
            reasons[f"cancelled_by_{actor.split(':')[0]}"] += 1
        elif order.status == "delivery_failed":
            reasons["delivery_failed"] += 1
        elif order.status == "delivered":
            job = DeliveryJob.objects.get(order_number=order.number)
            if job.delivered_at > job.window_end:
                reasons["late"] += 1
    return attempts, reasons


def test_dashboard_metrics_and_report_agree_with_the_database(client, tmp_path, settings):
    # Given a shop with a picker and two couriers on shift, and a customer
    shop = make_shop()
    PickerFactory(hub=shop.hub)
    call_command("seed_couriers", small=True, verbosity=0)
    api = APIClient()
    api.force_authenticate(UserFactory(roles=["customer"]))

    # When the customer checks out eight times: five placed, three refused
    placed = [_checkout(api, shop, f"ok-{n}") for n in range(4)]
    far = _checkout(api, shop, "far", at=FAR)
    assert all(placed) and far
    _checkout(api, shop, "declined", card=DECLINED)
    _checkout(api, shop, "no-stock", sku=shop.out_of_stock.sku)
    _checkout(api, shop, "unserved", postcode=UNSERVED)
    # ... cancels one, an operator cancels another,
    ordering.order_cancel(
        number=placed[0],
        reason="changed my mind",
        customer_id=Order.objects.get(number=placed[0]).customer_id,
    )
    ordering.order_cancel(
        number=placed[1], reason="hub flooded", actor_id=UserFactory(is_staff=True).pk
    )
    # ... and the simulator runs; the far order's delivery is forced to fail on the way
    simulator = Simulator(speed_kmh=40)
    status = lambda number: ordering.order_get(number=number).status  # noqa: E731
    _simulate(simulator, until=lambda: status(far) == "out_for_delivery")
    job = DeliveryJob.objects.get(order_number=far)
    stop_fail(user_id=job.courier.user_id, job_id=str(job.pk), reason="customer_unavailable")
    _simulate(simulator, until=lambda: all(status(n) == "delivered" for n in placed[2:]))

    # Then the database counts eight attempts and six drops, each with its reason
    attempts, reasons = _database_count()
    assert attempts == 8
    assert reasons == Counter(
        payment_declined=1, out_of_stock=1, address_not_served=1,
        cancelled_by_customer=1, cancelled_by_operator=1, delivery_failed=1,
    )  # fmt: skip
    dropped = sum(reasons.values())

    # ... the ops dashboard says the same,
    client.force_login(UserFactory(is_staff=True))
    page = client.get("/ops/dashboard/").content.decode()
    counts = re.search(r'data-figure="drop-24h-counts">(\d+) of (\d+) attempts', page)
    assert (int(counts[1]), int(counts[2])) == (dropped, attempts)
    shown = Counter()
    for reason, count in re.findall(r'data-reason="([a-z_]+)">.*?<td>(\d+)</td></tr>', page):
        shown[reason] += int(count)
    assert shown == reasons

    # ... /metrics says the same,
    settings.METRICS_TOKEN = "t"
    body = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t").content.decode()
    assert f'order_attempts{{window="24h"}} {attempts}.0' in body
    scraped = {
        reason: int(float(value))
        for reason, value in re.findall(
            r'order_drops\{reason="(\w+)",window="24h"\} ([\d.]+)', body
        )
    }
    assert scraped == dict(reasons)

    # ... and so does the report
    output = tmp_path / "report.html"
    call_command("ops_report", since="24h", output=str(output), no_progress=True, verbosity=0)
    report = output.read_text()
    assert f"({dropped} of {attempts} attempts)" in report
    table = report.split('id="by-reason"')[1].split("</table>")[0]
    reported = {r: int(c) for r, c in re.findall(r"<tr><td>(\w+)</td><td>(\d+)</td>", table)}
    assert reported == dict(reasons)
    assert (tmp_path / "report-drops.png").read_bytes().startswith(b"\x89PNG")
