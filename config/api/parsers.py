"""The API's body parsers: JSON everywhere (settings), multipart only where a file is sent."""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser, refusing a body that holds something but no form part.

    Django's parser skips whatever is not a part (text before the first boundary, a part without
    a ``Content-Disposition``), so a body that is not a form at all would pass as an empty one,
    and a PATCH would answer 200 having changed nothing. An empty form (only the closing
    boundary) is still an empty form.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        result = super().parse(stream, media_type, parser_context)
        if not result.data and not result.files:
            meta = (parser_context or {})["request"].META
            boundary = (media_type or "").partition("boundary=")[2].strip('"')
            length = int(meta.get("CONTENT_LENGTH") or 0)
            # "--<boundary>--" and an optional CRLF: the whole of an empty form.
            if length > len(boundary) + 6:
                raise ParseError("The multipart body holds no form field: send name=value parts.")
        return result
