"""Project-level views: the health check, the favicon and public media on the local disk."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponsePermanentRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe
from django.views.static import serve


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """``{"status": "ok" | "degraded" | "error", "checks": {...}}``.

    - ``ok`` (200): the database and Redis (where configured) answer;
    - ``degraded`` (200): the database answers, Redis does not. The product still serves every
      page (config.cache, config.celery fail over), so a load balancer must keep this instance:
      Redis is shared, a 503 here would take every instance out at once for a cache outage;
    - ``error`` (503): the database does not answer; nothing can be served.
    """
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        checks["database"] = f"error: {type(exc).__name__}"
    if settings.REDIS_URL:
        checks["redis"] = _redis_check()
    if checks["database"] != "ok":
        status, code = "error", 503
    elif all(value == "ok" for value in checks.values()):
        status, code = "ok", 200
    else:
        status, code = "degraded", 200
    return JsonResponse({"status": status, "checks": checks}, status=code)


def _redis_check() -> str:
    ping = getattr(cache, "ping", None)  # config.cache.ResilientRedisCache: Redis itself
    try:
        if ping is not None:
            return "ok" if ping() else "error: unreachable"
        cache.set("healthz", "1", 5)
        return "ok" if cache.get("healthz") == "1" else "error: no answer"
    except Exception as exc:  # noqa: BLE001
        return f"error: {type(exc).__name__}"


@require_GET
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers (and the admin, which has no icon link) ask for /favicon.ico: send the site icon."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


@require_safe
def avatar_file(request: HttpRequest, path: str) -> HttpResponseBase:
    """An avatar on the local disk: public, served from ``MEDIA_ROOT/avatars/`` and nothing above
    it (``serve`` refuses a ``..`` that would leave its root), so no path reaches a post image.
    Avatar names change with every upload, so the browser may keep one for a day."""
    response = serve(request, path, document_root=str(Path(settings.MEDIA_ROOT) / "avatars"))
    response.headers.setdefault("Cache-Control", "public, max-age=86400")
    return response
