"""Stripe-style form parameters: ``a[b][0][c]=x`` into nested dicts and lists, plus coercion helpers."""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

_KEY_RE = re.compile(r"\[([^\]]*)\]")


class ParamError(Exception):
    """A request parameter is missing, unknown or malformed (rendered as Stripe's 400)."""

    def __init__(self, message: str, *, param: str | None = None, code: str = "parameter_invalid") -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


def _split_key(key: str) -> list[str]:
    head, _, rest = key.partition("[")
    if not rest:
        return [head]
    return [head, *_KEY_RE.findall("[" + rest)]


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        converted = {k: _listify(v) for k, v in node.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    if isinstance(node, list):
        return [_listify(v) for v in node]
    return node


def parse(encoded: str) -> dict[str, Any]:
    """Decode a form-encoded body or query string the way Stripe does.

    ``expand[]=a&expand[]=b`` and ``expand[0]=a`` both give lists; ``items[0][price]=p`` gives a
    list of dicts; an empty value (``metadata[k]=``) stays an empty string, which Stripe reads as
    "unset".
    """
    root: dict[str, Any] = {}
    for key, value in urllib.parse.parse_qsl(encoded, keep_blank_values=True):
        parts = _split_key(key)
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            next_part = None if last else parts[index + 1]
            if part == "":
                # ``a[]`` appends; node is then the list held by the parent key.
                if not isinstance(node, list):
                    raise ParamError(f"Invalid array: {key}", param=parts[0])
                if last:
                    node.append(value)
                else:
                    node.append({})
                    node = node[-1]
                continue
            if not isinstance(node, dict):
                raise ParamError(f"Invalid parameter: {key}", param=parts[0])
            if last:
                node[part] = value
            else:
                default: Any = [] if next_part == "" else {}
                existing = node.get(part)
                if existing is None or isinstance(existing, str):
                    node[part] = default
                node = node[part]
    return _listify(root)


def as_int(value: Any, *, param: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ParamError(f"Invalid integer: {value}", param=param) from None


def as_float(value: Any, *, param: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ParamError(f"Invalid decimal: {value}", param=param) from None


def as_bool(value: Any, *, param: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "1"):
        return True
    if value in ("false", "0", ""):
        return False
    raise ParamError(f"Invalid boolean: {value}", param=param)


def as_dict(value: Any, *, param: str) -> dict[str, Any]:
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise ParamError(f"Invalid object: {param}", param=param)
    return value


def as_list(value: Any, *, param: str) -> list[Any]:
    if value == "":
        return []
    if isinstance(value, dict):
        raise ParamError(f"Invalid array: {param}", param=param)
    if not isinstance(value, list):
        return [value]
    return value


def require(params: dict[str, Any], name: str) -> Any:
    if name not in params or params[name] in (None, ""):
        raise ParamError(f"Missing required param: {name}.", param=name, code="parameter_missing")
    return params[name]


def check_known(params: dict[str, Any], allowed: set[str] | frozenset[str]) -> None:
    """Refuse unknown top-level parameters like Stripe (400 parameter_unknown)."""
    for name in params:
        if name not in allowed and name != "expand":
            raise ParamError(f"Received unknown parameter: {name}", param=name, code="parameter_unknown")
