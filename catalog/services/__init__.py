"""The catalog's door: the commands and queries other apps may use (see docs/doors.md).

Queries return frozen DTOs, never models or QuerySets. Commands publish ProductChanged /
PriceChanged inside their transaction.

The modules of this package are the catalog's use cases, private to it (entry points may
import them): products (reads, price changes, activation), search (listing and search pages),
importing and seeding (bulk files and the demo catalog), and below them changes (the
catalog's version and its events), readcache, bulk, dtos and demo_data.
"""

from prime_now.kernel.doors import instrument

from .dtos import (
    CategoryDTO,
    DepartmentDTO,
    InvalidSearchError,
    ProductDTO,
    ProductNotFoundError,
    ProductPage,
)
from .pictures import SIZES as PICTURE_SIZES
from .pictures import PictureDTO, product_picture
from .products import (
    department_tree,
    prices_for_skus,
    product_get,
    product_popularity_set,
    product_price_set,
    products_by_skus,
    products_set_active,
)
from .search import product_search, product_suggest
from .substitutes import product_substitutes, products_substitutes

__all__ = [
    "PICTURE_SIZES",
    "CategoryDTO",
    "DepartmentDTO",
    "PictureDTO",
    "InvalidSearchError",
    "ProductDTO",
    "ProductNotFoundError",
    "ProductPage",
    "department_tree",
    "prices_for_skus",
    "product_get",
    "product_picture",
    "product_popularity_set",
    "product_price_set",
    "product_search",
    "product_substitutes",
    "product_suggest",
    "products_by_skus",
    "products_substitutes",
    "products_set_active",
]

# Every function above behind the catalog fault point and circuit breaker (kernel/doors.py).
instrument(globals(), "catalog")
