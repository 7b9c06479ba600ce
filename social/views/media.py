"""Post images, served only to whoever may see the post.

A post image's URL on the local disk (the embedded default) is its storage name under
``MEDIA_URL`` (``/media/posts/...``, what ``config.storage.media_url`` gives there), and this
view answers it after the same visibility rule as the post itself: a followers-only post's
images for its followers, its author and the people it mentions; nothing (404, the answer for
a post that does not exist) for anyone else, nor for a hidden or deleted post or a suspended
author's. Avatars are public files, served by ``config/urls.py`` from ``MEDIA_ROOT/avatars/``
only, so no path under it reaches a post image.

The file is streamed by ``FileResponse``, or, with ``MEDIA_ACCEL_REDIRECT_PREFIX`` set, handed
to the web server in front (nginx's ``X-Accel-Redirect`` to an ``internal`` location) once
checked. In a bucket the pages link to signed URLs directly; an old link that still comes here
is redirected to a fresh signed URL after the same check.
"""

from __future__ import annotations

import mimetypes
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from config.storage import media_is_remote, media_url
from social import selectors
from social.views._common import viewer


def _file_response(name: str) -> HttpResponseBase:
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if settings.MEDIA_ACCEL_REDIRECT_PREFIX:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_REDIRECT_PREFIX + quote(name)
        return response
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404("No such image.") from None
    return FileResponse(handle, content_type=content_type)


@require_safe
def post_image(request: HttpRequest, name: str) -> HttpResponseBase:
    image = selectors.post_image_get_for_viewer(viewer=viewer(request), name=name)
    if image is None:
        raise Http404("No such image.")
    lifetime = settings.MEDIA_PUBLIC_URL_SECONDS if image["public"] else settings.MEDIA_SIGNED_URL_SECONDS
    response: HttpResponseBase
    if media_is_remote():
        response = HttpResponseRedirect(media_url(image["name"], public=image["public"]))
        # The signed URL may already be half-way through its life (config.storage._SignedUrls).
        lifetime //= 2
    else:
        response = _file_response(image["name"])
    # Private: a shared cache must not hand a followers-only image to someone else, nor keep
    # serving an image after its post is hidden; the browser may keep it as long as a signed
    # URL of the same kind would live.
    patch_cache_control(response, private=True, max_age=lifetime)
    return response
