"""Demo hubs in Seattle, stock for every demo product at each hub, and picker accounts.

Deterministic and idempotent: hubs are upserted, stock is only created for products a hub
does not stock yet (in bulk, with its "received" ledger movements), so a second run is fast.
"""

import datetime as dt
import zlib

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from catalog import services as catalog
from fulfillment import services
from fulfillment.models import Hub, OpeningHours, PostcodeCentroid
from prime_now.kernel.roles import Role, role_grant

from ._progress import progress

PICKER_PASSWORD = "prime-now-demo"
DAY = (dt.time(7), dt.time(23))
ALWAYS = (dt.time(0), dt.time(0))
SEATTLE = "America/Los_Angeles"
ALL_SEATTLE = [str(code) for code in range(98101, 98200)]
# The centres of Seattle's postcodes (approximate), so that an address given by postcode has a
# location (the geofence and proof of delivery apply to every order).
SEATTLE_CENTROIDS = {
    "98101": (47.6114, -122.3305), "98102": (47.6374, -122.3236),
    "98103": (47.6733, -122.3426), "98104": (47.6036, -122.3256),
    "98105": (47.6613, -122.2995), "98106": (47.5342, -122.3547),
    "98107": (47.6670, -122.3774), "98108": (47.5419, -122.3118),
    "98109": (47.6334, -122.3467), "98112": (47.6299, -122.2974),
    "98115": (47.6849, -122.2968), "98116": (47.5741, -122.3955),
    "98117": (47.6890, -122.3802), "98118": (47.5418, -122.2708),
    "98119": (47.6379, -122.3696), "98121": (47.6150, -122.3448),
    "98122": (47.6116, -122.3051), "98125": (47.7172, -122.3015),
    "98126": (47.5469, -122.3733), "98133": (47.7393, -122.3430),
    "98134": (47.5790, -122.3393), "98136": (47.5371, -122.3905),
    "98144": (47.5845, -122.3005), "98146": (47.5000, -122.3580),
    "98154": (47.6065, -122.3338), "98164": (47.6057, -122.3324),
    "98174": (47.6046, -122.3353), "98177": (47.7421, -122.3706),
    "98178": (47.4990, -122.2471), "98195": (47.6553, -122.3035),
    "98199": (47.6484, -122.3970),
}  # fmt: skip
# code, name, address, postcode, lat, lon, radius km, postcodes, hours, pick capacity/h
HUBS = [
    (
        "sea-downtown",
        "Downtown Seattle",
        "1420 5th Ave, Seattle, WA",
        "98101",
        47.6101,
        -122.3364,
        15.0,
        ALL_SEATTLE,
        ALWAYS,
        60,
    ),
    (
        "sea-capitol-hill",
        "Capitol Hill",
        "1600 E Olive Way, Seattle, WA",
        "98102",
        47.6191,
        -122.3231,
        3.0,
        ["98102", "98112", "98122"],
        DAY,
        40,
    ),
    (
        "sea-ballard",
        "Ballard",
        "5420 Ballard Ave NW, Seattle, WA",
        "98107",
        47.6677,
        -122.3840,
        3.5,
        ["98107", "98117", "98103"],
        DAY,
        40,
    ),
    (
        "sea-u-district",
        "University District",
        "4520 University Way NE, Seattle, WA",
        "98105",
        47.6625,
        -122.3133,
        3.5,
        ["98105", "98115", "98195"],
        DAY,
        40,
    ),
]
DEMO_SKUS = 25_000
SMALL_SKUS = 500


def demo_quantity(product_id: int, hub_index: int) -> int:
    """Deterministic stock: mostly 5–44 units, about 3% sold out to show it in the demo."""
    mix = zlib.crc32(f"{product_id}:{hub_index}".encode())
    return 0 if mix % 33 == 0 else 5 + mix % 40


def location(product: catalog.ProductDTO) -> tuple[str, str]:
    aisle = 1 + zlib.crc32(product.department.encode()) % 24
    shelf = 1 + zlib.crc32(product.category.encode()) % 8
    return f"{aisle:02d}", f"{shelf}{product.id % 40:02d}"


class Command(BaseCommand):
    help = "Demo hubs (Seattle), their stock and picker accounts. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--small", action="store_true", help=f"first {SMALL_SKUS} SKUs only")

    def handle(self, *args, small: bool = False, **options):
        with transaction.atomic():
            for postcode, (lat, lon) in SEATTLE_CENTROIDS.items():
                PostcodeCentroid.objects.update_or_create(
                    postcode=postcode, defaults={"lat": lat, "lon": lon}
                )
            for spec in HUBS:
                self._hub(spec)
                self._staff(spec[0], "picker", Role.PICKER)
                self._staff(spec[0], "manager", Role.HUB_MANAGER)
        count = SMALL_SKUS if small else DEMO_SKUS
        skus = [f"PN-{n:06d}" for n in range(1, count + 1)]
        products: list[catalog.ProductDTO] = []
        for start in range(0, len(skus), 5000):
            products.extend(catalog.products_by_skus(skus=skus[start : start + 5000]).values())
        if not products:
            self.stdout.write("No demo products in the catalog (run seed_catalog first).")
        created = 0
        for index, spec in enumerate(progress(HUBS, desc="stocking hubs", stream=self.stderr)):
            items = []
            for product in products:
                aisle, bin_ = location(product)
                items.append(
                    services.NewStock(
                        product_id=product.id,
                        sku=product.sku,
                        name=product.name,
                        on_hand=demo_quantity(product.id, index),
                        aisle=aisle,
                        bin=bin_,
                    )
                )
            created += services.stock_receive_new(
                hub_code=spec[0], items=items, reason="demo opening stock", reference="seed"
            )
        self.stdout.write(
            f"{len(HUBS)} hubs, {created} new stock rows, pickers picker-<hub> and hub managers "
            f"manager-<hub> / {PICKER_PASSWORD}"
        )

    def _hub(self, spec) -> None:
        code, name, address, postcode, lat, lon, radius, postcodes, hours, capacity = spec
        hub, _ = Hub.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "address": address,
                "postcode": postcode,
                "lat": lat,
                "lon": lon,
                "timezone": SEATTLE,
                "radius_km": radius,
                "postcodes": postcodes,
                "picking_capacity_per_hour": capacity,
                "active": True,
            },
        )
        for weekday in range(7):
            OpeningHours.objects.update_or_create(
                hub=hub, weekday=weekday, defaults={"opens": hours[0], "closes": hours[1]}
            )

    def _staff(self, hub_code: str, prefix: str, role: Role) -> None:
        """The hub's demo picker or hub manager: staff of this hub, holding the role."""
        username = f"{prefix}-{hub_code}"
        user, created = get_user_model().objects.get_or_create(
            username=username,
            defaults={"first_name": prefix.title(), "email": f"{username}@example.com"},
        )
        if created:
            user.set_password(PICKER_PASSWORD)
            user.save(update_fields=["password"])
        role_grant(user_id=user.pk, role=role)
        services.hub_staff_add(hub_code=hub_code, user_id=user.pk)
