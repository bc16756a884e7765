"""Public catalog reads: departments, product list/search, suggestions, product by SKU.

No login, no session: the answers are the same for everyone, so they carry ETag and
Last-Modified (the catalog's last change) and `Cache-Control: public` for browsers and CDNs;
a conditional request that is still fresh gets 304 without running the search.
"""

import hashlib
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from functools import cache

from django.http import HttpResponseBase
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import services

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


@cache
def _product_fields():
    return ProductOutput().fields


def product_json(product: services.ProductDTO) -> dict:
    """ProductOutput's representation, with the serializer's fields built once per process
    rather than deep-copied for every product of every page (the listing's hot path)."""
    return {
        name: field.to_representation(getattr(product, name))
        for name, field in _product_fields().items()
    }


def cacheable(request, build: Callable[[], Response]) -> HttpResponseBase:
    """Answer 304 when the client's copy is current, else build the response and tag it."""
    changed = services.catalog_last_modified() or EPOCH
    stamp = int(changed.timestamp())
    seed = f"{changed.isoformat()}|{request.get_full_path()}"
    etag = 'W/"' + hashlib.blake2b(seed.encode(), digest_size=12).hexdigest() + '"'
    not_modified = get_conditional_response(request, etag=etag, last_modified=stamp)
    response = not_modified or build()
    if response.status_code in (200, 304):
        response["ETag"] = etag
        response["Last-Modified"] = http_date(stamp)
        patch_cache_control(response, public=True, max_age=MAX_AGE)
    return response


class PublicReadApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []


class DepartmentListApi(PublicReadApi):
    """The department tree: departments in display order with their categories."""

    @extend_schema(operation_id="catalog_departments_list", responses=DepartmentOutput(many=True))
    def get(self, request):
        def build():
            tree = [asdict(d) for d in services.department_tree()]
            return Response(DepartmentOutput(tree, many=True).data)

        return cacheable(request, build)


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
        params = ProductListInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        args = params.validated_data

        def build():
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
            return Response(
                {
                    "results": [product_json(p) for p in page.items],
                    "next": _page_url(request, page.next_cursor),
                    "previous": _page_url(request, page.previous_cursor),
                }
            )

        return cacheable(request, build)


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
        params = ProductSuggestInput(data=request.query_params)
        params.is_valid(raise_exception=True)

        def build():
            found = services.product_suggest(
                prefix=params.validated_data["q"], limit=params.validated_data["limit"]
            )
            return Response([product_json(p) for p in found])

        return cacheable(request, build)


class ProductGetApi(PublicReadApi):
    """One product by SKU (inactive products too, marked `active: false`)."""

    @extend_schema(
        operation_id="catalog_products_get",
        parameters=[OpenApiParameter("sku", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses={200: ProductOutput, 404: ERROR},
    )
    def get(self, request, sku: str):
        def build():
            return Response(product_json(services.product_get(sku=sku)))

        return cacheable(request, build)
