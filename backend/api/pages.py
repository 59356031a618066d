"""Paginated responses for list views."""

from rest_framework.pagination import CursorPagination, LimitOffsetPagination


def paginated_response(request, view, queryset, serializer_class, paginator=None):
    paginator = paginator or LimitOffsetPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


class TimeCursorPagination(CursorPagination):
    """Stable pages over a time range even while new results are written."""

    ordering = ("pdt", "id")
    page_size = 500
    page_size_query_param = "limit"
    max_page_size = 5000
