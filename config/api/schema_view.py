"""The OpenAPI document's view: built once per process, under a lock, then served from memory.

drf-spectacular resolves its extension classes lazily, on the first schema build, by rewriting
class attributes (``target_class``); two first builds running at once in one process race on
them and one answers 500 (seen when the Swagger and Redoc pages load the schema together). The
document depends only on the code (it is generated with ``public=True``, the same for every
visitor), so it is built once per process, URL map, version and language, and never again: this also
keeps a visitor from making every request regenerate it (about a second of CPU each).
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.views import SpectacularAPIView
from rest_framework.request import Request
from rest_framework.response import Response

_build_lock = threading.Lock()
_built: dict[tuple[str, str | None, str | None], dict[str, Any]] = {}


class SchemaApi(SpectacularAPIView):
    def _get_schema_response(self, request: Request) -> Response:
        version = self.api_version or request.version or self._get_version_parameter(request)
        urlconf = str(getattr(request, "urlconf", None) or settings.ROOT_URLCONF)
        key = (urlconf, version, translation.get_language())
        with _build_lock:
            if key not in _built:
                generator: SchemaGenerator = self.generator_class(
                    urlconf=self.urlconf, api_version=version, patterns=self.patterns
                )
                _built[key] = generator.get_schema(request=request, public=self.serve_public)
        return Response(
            data=_built[key],
            headers={"Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'},
        )
