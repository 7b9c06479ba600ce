"""Strict text input for every serializer: a number is not text.

DRF's ``CharField`` (and so ``EmailField``, ``SlugField``, ``RegexField``, ``URLField``...)
turns ``42`` or ``4.2`` into ``"42"``/``"4.2"``, which the OpenAPI schema (``type: string``)
says it refuses. ``refuse_non_string_text`` makes every such field of every serializer refuse
anything but a JSON string with 400 (``"Not a valid string."``), the way ``CharField`` already
refuses ``true``, lists and objects. It is applied once, in ``config.apps.PlatformConfig.ready``,
rather than by a ``StrictCharField`` every serializer would have to remember: the rule is the
API's, not any one field's. Form-encoded and multipart input are strings anyway.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

_lenient_to_internal_value = serializers.CharField.to_internal_value


def _strict_to_internal_value(self: serializers.CharField, data: Any) -> str:
    if not isinstance(data, str):
        self.fail("invalid")
    return _lenient_to_internal_value(self, data)


def refuse_non_string_text() -> None:
    serializers.CharField.to_internal_value = _strict_to_internal_value  # type: ignore[assignment]  # the one global rule, see the module docstring
