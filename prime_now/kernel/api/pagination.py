from rest_framework.pagination import CursorPagination, PageNumberPagination


class DefaultPagination(PageNumberPagination):
    page_size = 24
    page_size_query_param = "page_size"
    max_page_size = 100


class StableCursorPagination(CursorPagination):
    """Cursor pagination: stable under inserts, constant cost per page."""

    page_size = 24
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = "-id"
