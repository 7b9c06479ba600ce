"""One page of a growing list for the server-rendered pages, by cursor (as the API pages).

A cursor page costs one query whatever the page (``LIMIT page_size + 1`` from the cursor's
position; no ``COUNT(*)`` as Django's ``Paginator`` needs), and new rows never shift the next
page. Any app's page calls ``cursor_page`` with its selector's queryset and its presenter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest
from rest_framework.request import Request

from config.api import DefaultCursorPagination

# What a page shows of its rows: the presenter of the list's output shape.
Present = Callable[[Sequence[Any]], list[Any]]

PAGE_SIZE = 20


@dataclass(frozen=True)
class CursorPage:
    """The rows of one page as presented, and the links to the older and newer pages (None at the ends)."""

    items: list[Any]
    next_url: str | None
    previous_url: str | None


class _PageCursorPagination(DefaultCursorPagination):
    """DRF's cursor pagination with the page's own ordering, size and cursor parameter; a page
    has no ``?page_size=`` (its size is the page's choice)."""

    page_size_query_param = None  # type: ignore[assignment]  # pages have no page size parameter; DRF types it str

    def __init__(self, *, ordering: str | tuple[str, ...], page_size: int, cursor_param: str) -> None:
        self.ordering = ordering  # type: ignore[assignment]  # DRF orders by a tuple too; its stubs say str
        self.page_size = page_size
        self.cursor_query_param = cursor_param

    def get_page_size(self, request: Request) -> int:
        return self.page_size


def cursor_page(
    request: HttpRequest,
    rows: Any,
    *,
    present: Present = list,
    ordering: str | tuple[str, ...] = "-created_at",
    page_size: int = PAGE_SIZE,
    cursor_param: str = "cursor",
) -> CursorPage:
    """One page of ``rows`` (a queryset) from the cursor in ``?<cursor_param>=``, in ``ordering``.

    ``ordering``'s first field places the cursor: it should be (nearly) unique and never null.
    Two lists on one page each take their own ``cursor_param``; each link keeps the other's.
    A tampered cursor (any decoding or database refusal) raises ``Http404``, never a 500.
    """
    paginator = _PageCursorPagination(ordering=ordering, page_size=page_size, cursor_param=cursor_param)
    try:
        page = paginator.paginate_queryset(rows, Request(request)) or []
    except Exception as exc:  # DRF's NotFound, a bad base64 or number, or the database refusing the position
        raise Http404("Invalid cursor.") from exc
    return CursorPage(
        items=present(page), next_url=paginator.get_next_link(), previous_url=paginator.get_previous_link()
    )
