"""Strict text input for every serializer: a number is not text.

DRF's ``CharField`` (and so ``EmailField``, ``SlugField``, ``RegexField``, ``URLField``...)
turns ``42`` or ``4.2`` into ``"42"``/``"4.2"``, which the OpenAPI schema (``type: string``)
says it refuses. ``refuse_non_string_text`` makes every such field of every serializer refuse
anything but a JSON string with 400 (``"Not a valid string."``), the way ``CharField`` already
refuses ``true``, lists and objects. It is applied once, in ``config.apps.PlatformConfig.ready``,
rather than by a ``StrictCharField`` every serializer would have to remember: the rule is the
API's, not any one field's. Form-encoded and multipart input are strings anyway.

``refuse_over_long_raw_text`` (applied the same way) measures ``max_length`` on the string as
sent: DRF measures it after trimming, so ``" " * 300 + "a"`` passed a 200-character limit that
the schema states as ``maxLength: 200`` of the raw string. JSON Schema cannot say "200 after
trimming", so the server keeps to what the schema says: over-long input is a 400 in the error
shape (``max_length``), whitespace or not.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.fields import empty

_lenient_to_internal_value = serializers.CharField.to_internal_value
_trimmed_run_validation = serializers.CharField.run_validation


def _strict_to_internal_value(self: serializers.CharField, data: Any) -> str:
    if not isinstance(data, str):
        self.fail("invalid")
    return _lenient_to_internal_value(self, data)


def refuse_non_string_text() -> None:
    serializers.CharField.to_internal_value = _strict_to_internal_value  # type: ignore[assignment]  # the one global rule, see the module docstring


def _raw_length_run_validation(self: serializers.CharField, data: Any = empty) -> Any:
    # Before DRF's blank test too: with allow_blank, 300 spaces would otherwise become "".
    if isinstance(data, str) and self.max_length is not None and len(data) > self.max_length:
        self.fail("max_length", max_length=self.max_length)
    return _trimmed_run_validation(self, data)


def refuse_over_long_raw_text() -> None:
    serializers.CharField.run_validation = _raw_length_run_validation  # type: ignore[assignment]  # the one global rule, see the module docstring
