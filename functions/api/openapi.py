"""The served OpenAPI document: what Powertools generates from the routes, plus what it cannot
know — the media types a JSON body may be sent with, and that refusals are problem documents."""

from __future__ import annotations

import json
from typing import Any

from message_center.api.contract import ACCEPTED_BODY_MEDIA_TYPES, JSON_MEDIA_TYPE, PROBLEM_MEDIA_TYPE
from message_center.api.schemas import Problem

_SCHEMAS = "#/components/schemas/"
# Powertools describes its own 422 body and response-validation error, which this API never sends
# (all three go together: ResponseValidationError refers to ValidationError).
_POWERTOOLS_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")
# Each operation declares its other refusals itself (``problems.documented``): no catch-all
# ``default``, which would let an undeclared status pass the contract tests.
_ALWAYS = {"500": "Unexpected error: a problem document with `traceId`."}
_WITH_JSON_BODY = {
    "400": "The body is not UTF-8 JSON, or is nested deeper than 64 levels (`MALFORMED_JSON`).",
    "415": "The body was sent without a JSON Content-Type (`UNSUPPORTED_MEDIA_TYPE`).",
}
_INVALID = "Invalid input (`VALIDATION_ERROR` naming at most 10 fields, or a rule's own code)."


def as_served(generated: str) -> str:
    """The document Powertools generated (JSON), completed."""
    document = json.loads(generated)
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _POWERTOOLS_ERROR_SCHEMAS:
        schemas.pop(name, None)
    problem_schema = Problem.model_json_schema(ref_template=_SCHEMAS + "{model}", mode="serialization")
    schemas.update(problem_schema.pop("$defs", {}))
    schemas[Problem.__name__] = problem_schema
    for path in document.get("paths", {}).values():
        for operation in path.values():
            _complete(operation)
    return json.dumps(document)


def _complete(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    refusals = dict(_ALWAYS)
    if "422" in responses:
        refusals["422"] = _INVALID
    content = operation.get("requestBody", {}).get("content", {})
    if JSON_MEDIA_TYPE in content:
        for media_type in ACCEPTED_BODY_MEDIA_TYPES:
            content.setdefault(media_type, content[JSON_MEDIA_TYPE])
        refusals.update(_WITH_JSON_BODY)
    for status, description in refusals.items():
        responses[status] = {
            "description": description,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": f"{_SCHEMAS}{Problem.__name__}"}}},
        }
