"""Public catalog reads: departments, product list/search, suggestions, product by SKU.

No login, no session: the answers are the same for everyone, so they carry ETag and
Last-Modified (the catalog's last change) and `Cache-Control: public` for browsers and CDNs;
a conditional request that is still fresh gets 304 without running the search.

Behind that, the rendered JSON bodies are kept in the shared read cache
(catalog/services/readcache.py)
under the catalog's version and the full URL: a repeated read costs one cache lookup, with no
parameter parsing, query or rendering. Only a URL that once rendered (so had valid
parameters) is ever stored, so a stored body needs no validation.
"""

import hashlib
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from django.http import HttpResponse, HttpResponseBase
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import services
from catalog.services import readcache
from catalog.services.changes import catalog_last_modified, catalog_version
from prime_now.kernel.api.auth import KeyScopes, PartnerKeyAuthentication
from prime_now.kernel.money import CENT
from prime_now.kernel.partner_keys import ApiScope

from .serializers import (
    DepartmentOutput,
    ProductListInput,
    ProductOutput,
    ProductPageOutput,
    ProductSuggestInput,
)

MAX_AGE = 60
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
ERROR = OpenApiResponse(description='{"error": {"code", "message", "fields"}}')
RENDERER = JSONRenderer()
# Input serializers built once: their fields are deep-copied per instance otherwise, the
# largest cost of parsing a listing's parameters. run_validation keeps no state on them.
LIST_INPUT = ProductListInput()
SUGGEST_INPUT = ProductSuggestInput()


def product_json(product: services.ProductDTO) -> dict:
    """ProductOutput's representation (tests/catalog/test_api.py holds them equal), built
    directly: the DTO's fields are the serializer's, in order, and only the price is not
    already JSON (a 2-place string, as DecimalField(decimal_places=2) gives)."""
    out = product.__dict__.copy()
    out["price"] = f"{product.price.quantize(CENT):f}"
    return out


def valid(serializer, request) -> dict:
    """The query parameters checked by a prebuilt input serializer (400 when bad)."""
    return serializer.run_validation(request.query_params)


def cacheable(request, data: Callable[[], Any]) -> HttpResponseBase:
    """Answer 304 when the client's copy is current, else the body of `data()` (from the
    shared cache when this URL was rendered at this catalog version), tagged for HTTP caches."""
    version = catalog_version()
    stamp = int((catalog_last_modified() or EPOCH).timestamp())
    seed = f"{version}|{request.get_full_path()}"
    etag = 'W/"' + hashlib.blake2b(seed.encode(), digest_size=12).hexdigest() + '"'
    fresh = get_conditional_response(request, etag=etag, last_modified=stamp)
    response = fresh if fresh is not None else _body(request, version, data)
    if response.status_code in (200, 304):
        response["ETag"] = etag
        response["Last-Modified"] = http_date(stamp)
        patch_cache_control(response, public=True, max_age=MAX_AGE)
    return response


def _body(request, version: str, data: Callable[[], Any]) -> HttpResponseBase:
    if request.accepted_renderer.format != RENDERER.format:
        return Response(data())  # the browsable API (DEBUG only): rendered, never stored
    # The absolute URL: bodies carry absolute next/previous links.
    key = readcache.key("api", version, request.build_absolute_uri())
    body = readcache.remembered(key, lambda: RENDERER.render(data()))
    return HttpResponse(body, content_type=RENDERER.media_type)


class PublicReadApi(APIView):
    """Open to everyone; a partner key, when sent, must be valid and hold catalog:read."""

    permission_classes = [AllowAny, KeyScopes]
    authentication_classes = [PartnerKeyAuthentication]
    api_key_scope = ApiScope.CATALOG_READ
    throttle_scope = "reads"


class DepartmentListApi(PublicReadApi):
    """The department tree: departments in display order with their categories."""

    @extend_schema(operation_id="catalog_departments_list", responses=DepartmentOutput(many=True))
    def get(self, request):
        def data():
            tree = [asdict(d) for d in services.department_tree()]
            return DepartmentOutput(tree, many=True).data

        return cacheable(request, data)


class ProductListApi(PublicReadApi):
    """Active products: search (`q`, typo tolerant, as-you-type), filters, ordering, cursor pages.

    Follow `next`/`previous` to page; a page never repeats or skips a product.
    """

    @extend_schema(
        operation_id="catalog_products_list",
        parameters=[ProductListInput],
        responses={200: ProductPageOutput, 400: ERROR},
    )
    def get(self, request):
        def data():
            args = valid(LIST_INPUT, request)
            page = services.product_search(
                query=args.get("q", ""),
                department=args.get("department"),
                category=args.get("category"),
                brand=args.get("brand"),
                price_min=args.get("price_min"),
                price_max=args.get("price_max"),
                ordering=args["ordering"],
                page_size=args["page_size"],
                cursor=args.get("cursor"),
            )
            return {
                "results": [product_json(p) for p in page.items],
                "next": _page_url(request, page.next_cursor),
                "previous": _page_url(request, page.previous_cursor),
            }

        return cacheable(request, data)


def _page_url(request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    query = request.query_params.copy()
    query["cursor"] = cursor
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


class ProductSuggestApi(PublicReadApi):
    """Search-as-you-type: the best few active products for what has been typed so far."""

    @extend_schema(
        operation_id="catalog_products_suggest",
        parameters=[ProductSuggestInput],
        responses={200: ProductOutput(many=True), 400: ERROR},
    )
    def get(self, request):
        def data():
            args = valid(SUGGEST_INPUT, request)
            found = services.product_suggest(prefix=args["q"], limit=args["limit"])
            return [product_json(p) for p in found]

        return cacheable(request, data)


class ProductGetApi(PublicReadApi):
    """One product by SKU (inactive products too, marked `active: false`)."""

    @extend_schema(
        operation_id="catalog_products_get",
        parameters=[OpenApiParameter("sku", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses={200: ProductOutput, 404: ERROR},
    )
    def get(self, request, sku: str):
        return cacheable(request, lambda: product_json(services.product_get(sku=sku)))
