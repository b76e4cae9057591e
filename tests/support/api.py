"""Drive the real API handler with the real-shaped events of ``events/``."""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

EVENTS = Path(__file__).resolve().parents[2] / "events"


@cache
def _load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of ``events/<name>.json``."""
    return copy.deepcopy(_load(name))


@dataclass
class LambdaContext:
    function_name: str = "message-center-api"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:eu-central-1:123456789012:function:message-center-api"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    raw_body: str

    @property
    def json(self) -> Any:
        return json.loads(self.raw_body)


def build_event(
    name: str,
    *,
    user_id: str | None,
    path: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: Any = None,
    raw_body: str | None = None,
    binary: bytes | None = None,
    headers: dict[str, str | None] | None = None,
) -> dict[str, Any]:
    """``events/<name>.json`` as user ``user_id`` (None: no authorizer claims) with overrides."""
    event = load_event(name)
    if path:
        event["pathParameters"] = path
        raw_path = event["routeKey"].split(" ", 1)[1]
        for key, value in path.items():
            raw_path = raw_path.replace("{" + key + "}", value)
        event["rawPath"] = event["requestContext"]["http"]["path"] = raw_path
    if query is not None:
        event["queryStringParameters"] = query or None
        event["rawQueryString"] = urlencode(query)
    if body is not None or raw_body is not None:
        event["body"] = raw_body if raw_body is not None else json.dumps(body)
        event["headers"].setdefault("content-type", "application/vnd.allegro.public.v1+json")
    if binary is not None:
        event["body"] = base64.b64encode(binary).decode()
        event["isBase64Encoded"] = True
        event["headers"]["content-length"] = str(len(binary))
    for key, value in (headers or {}).items():
        if value is None:
            event["headers"].pop(key.lower(), None)
        else:
            event["headers"][key.lower()] = value
    if user_id is None:
        event["requestContext"].pop("authorizer", None)
    else:
        event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = user_id
    return event


def invoke(event: dict[str, Any]) -> ApiResponse:
    from functions.api.handler import lambda_handler

    result = lambda_handler(event, LambdaContext())
    headers = {key.lower(): value for key, value in (result.get("headers") or {}).items()}
    return ApiResponse(status=result["statusCode"], headers=headers, raw_body=result.get("body") or "")


def call(name: str, *, user_id: str | None, **overrides: Any) -> ApiResponse:
    return invoke(build_event(name, user_id=user_id, **overrides))
