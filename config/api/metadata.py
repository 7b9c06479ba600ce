"""``OPTIONS`` answers for every API view (settings ``DEFAULT_METADATA_CLASS``)."""

from __future__ import annotations

from typing import Any

from rest_framework.metadata import SimpleMetadata
from rest_framework.request import Request


class ApiMetadata(SimpleMetadata):
    """DRF's ``SimpleMetadata``, for views without a serializer too.

    DRF describes the input of every generic view by calling ``get_serializer()``, which
    asserts (a 500) on a view that takes no input and so declares no ``serializer_class``
    (follow-request accept, block, mark-read). Such a view has no actions to describe.
    """

    def determine_actions(self, request: Request, view: Any) -> dict[str, Any]:
        get_serializer_class = getattr(view, "get_serializer_class", None)
        if get_serializer_class is not None:
            try:
                get_serializer_class()
            except AssertionError:
                return {}
        return super().determine_actions(request, view)
