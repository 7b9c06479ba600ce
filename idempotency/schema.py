"""OpenAPI: the ``Idempotency-Key`` header on every write under ``/api/v1/`` (a drf-spectacular
postprocessing hook, ``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``).

Each POST, PUT, PATCH and DELETE operation gets the optional header parameter, the 409 and 422
answers it adds (merged into an operation's own 409 where it has one), a line on the 400, and
the ``Idempotent-Replayed`` header on every answer that may be a replay (all but 5xx and 429).
"""

from __future__ import annotations

from typing import Any

from idempotency.middleware import HEADER, IN_PROGRESS_RETRY_AFTER, METHODS, PREFIX, REPLAYED_HEADER

PARAMETER = "IdempotencyKey"
REPLAYED = "IdempotentReplayed"
RETRY_AFTER = "IdempotencyRetryAfter"
ERROR_SCHEMA = {"$ref": "#/components/schemas/ApiError"}

KEY_DESCRIPTION = (
    "Optional. A key of yours (1 to 255 printable ASCII characters, e.g. a UUID) that makes this "
    "write safe to retry: sent again with the same method, path and body within "
    "`IDEMPOTENCY_KEY_TTL_HOURS` (24 h), the stored answer is returned, marked "
    f"`{REPLAYED_HEADER}: true`, and the write is not done twice. Keys belong to the signed-in "
    "user (an API key's owner). 5xx and 429 answers are not stored: retry them with the same "
    "key. Answers holding a secret shown once (a new API key) are not stored either."
)
IN_PROGRESS = (
    f"`idempotency_key_in_progress`: a request with this `{HEADER}` is still running; "
    f"retry after `Retry-After` ({IN_PROGRESS_RETRY_AFTER} s)."
)
REUSED = (
    f"`idempotency_key_reused`: this `{HEADER}` was used for another method, path or body. "
    "Use a new key for a new request."
)
INVALID = f"Or `invalid_idempotency_key`: the `{HEADER}` header is not 1 to 255 printable ASCII characters."


def postprocess_idempotency_key(
    result: dict[str, Any], generator: Any, request: Any, public: Any
) -> dict[str, Any]:
    components = result.setdefault("components", {})
    components.setdefault("parameters", {})[PARAMETER] = {
        "name": HEADER,
        "in": "header",
        "required": False,
        "description": KEY_DESCRIPTION,
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]{1,255}$"},
    }
    headers = components.setdefault("headers", {})
    headers[REPLAYED] = {
        "description": "`true` when this answer is the stored answer to an earlier request with the same "
        f"`{HEADER}` (the write was not done again). Absent otherwise.",
        "schema": {"type": "string", "enum": ["true"]},
    }
    headers[RETRY_AFTER] = {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 1},
    }
    for path, operations in result.get("paths", {}).items():
        if not path.startswith(PREFIX):
            continue
        for method, operation in operations.items():
            if method.upper() in METHODS:
                _document(operation)
    return result


def _document(operation: dict[str, Any]) -> None:
    operation.setdefault("parameters", []).append({"$ref": f"#/components/parameters/{PARAMETER}"})
    responses = operation.setdefault("responses", {})
    for status, response in responses.items():
        if status.isdigit() and int(status) < 500 and status != "429":
            response.setdefault("headers", {})[REPLAYED_HEADER] = {"$ref": f"#/components/headers/{REPLAYED}"}
    _add_answer(responses, "409", IN_PROGRESS, retry_after=True)
    _add_answer(responses, "422", REUSED)
    if "400" in responses:
        responses["400"]["description"] = f"{responses['400'].get('description', '')} {INVALID}".strip()


def _add_answer(
    responses: dict[str, Any], status: str, description: str, *, retry_after: bool = False
) -> None:
    """Adds the answer, or merges it into the operation's own answer with that status (which
    keeps its replay header: it may be a stored answer)."""
    response = responses.get(status)
    if response is None:
        response = responses[status] = {
            "description": description,
            "content": {"application/json": {"schema": ERROR_SCHEMA}},
        }
    else:
        response["description"] = f"{response.get('description', '')} Or {description}".strip()
    if retry_after:
        response.setdefault("headers", {})["Retry-After"] = {"$ref": f"#/components/headers/{RETRY_AFTER}"}
