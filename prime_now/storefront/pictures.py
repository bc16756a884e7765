"""Product pictures in the storefront: what an <img> of a product shows.

`picture_for` is the one place pages ask: a lever (or anything else) that should hide or
swap pictures wraps it. A product's own `image_url` wins; otherwise the catalog's drawn or
imported picture, served by `views.pages.product_picture` in two sizes (srcset).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import quote

from django.urls import reverse

from catalog import services as catalog

SMALL, LARGE = "s", "l"


@dataclass(frozen=True)
class Picture:
    src: str
    srcset: str  # "" for a product's own picture (one size)
    alt: str
    width: int
    height: int


@functools.cache
def _prefix() -> str:
    return reverse("storefront:product_picture", args=["-", SMALL])[
        : -len(f"-/picture-{SMALL}.webp")
    ]


def picture_url(sku: str, size: str) -> str:
    # reverse() for every card costs more than the card; the prefix never changes.
    return f"{_prefix()}{quote(sku)}/picture-{size}.webp"


def picture_for(*, sku: str, name: str, image_url: str = "", size: str = SMALL) -> Picture | None:
    """The picture of a product for a page (None: show none)."""
    width = catalog.PICTURE_SIZES[size]
    if image_url:
        return Picture(src=image_url, srcset="", alt=name, width=width, height=width)
    srcset = ", ".join(f"{picture_url(sku, s)} {w}w" for s, w in catalog.PICTURE_SIZES.items())
    return Picture(src=picture_url(sku, size), srcset=srcset, alt=name, width=width, height=width)
