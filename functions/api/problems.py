"""Every error the API returns, as RFC 9457 ``application/problem+json``, mapped in one place."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFound
from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseHeader
from message_center.api.contract import JSON_MEDIA_TYPE, PROBLEM_MEDIA_TYPE, VND_MEDIA_TYPE
from message_center.api.schemas import FieldProblem, GatewayError, Problem
from message_center.domain import errors
from pydantic import BaseModel

_STATUS_BY_ERROR: tuple[tuple[type[errors.MessageCenterError], HTTPStatus], ...] = (
    (errors.NotFoundError, HTTPStatus.NOT_FOUND),
    (errors.ForbiddenError, HTTPStatus.FORBIDDEN),
    (errors.ValidationError, HTTPStatus.UNPROCESSABLE_ENTITY),
    (errors.ConflictError, HTTPStatus.CONFLICT),
    (errors.ConcurrencyError, HTTPStatus.CONFLICT),
    (errors.UnsupportedMediaTypeError, HTTPStatus.UNSUPPORTED_MEDIA_TYPE),
    (errors.RateLimitedError, HTTPStatus.TOO_MANY_REQUESTS),
    (errors.ServiceUnavailableError, HTTPStatus.SERVICE_UNAVAILABLE),
)


# What each problem status means for a client: the descriptions in the OpenAPI document.
_MEANING: dict[HTTPStatus, str] = {
    HTTPStatus.BAD_REQUEST: "The body is not valid JSON.",
    HTTPStatus.UNAUTHORIZED: "No valid bearer token: the gateway's JWT authorizer refuses the request "
    '(`{"message": "Unauthorized"}`) before the API runs.',
    HTTPStatus.FORBIDDEN: "A marketplace rule refuses the action.",
    HTTPStatus.NOT_FOUND: "It does not exist, or it is not yours: both get the same answer.",
    HTTPStatus.CONFLICT: "The request collides with the current state.",
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "The request is larger than the gateway accepts (10 MB).",
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: "The body's media type is not accepted here.",
    HTTPStatus.UNPROCESSABLE_ENTITY: "The request breaks a rule about its content; `errors` names the fields.",
    HTTPStatus.TOO_MANY_REQUESTS: "An allowance is used up; try again later.",
    HTTPStatus.SERVICE_UNAVAILABLE: "A service this needs is down; try again in a minute.",
}
# Answered by API Gateway itself, in its own shape; 401 also by the API (a request without claims).
_GATEWAY_ANSWERS = (HTTPStatus.UNAUTHORIZED, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
_API_ANSWERS = frozenset(_MEANING) - {HTTPStatus.REQUEST_ENTITY_TOO_LARGE}
# Every operation can answer these: the authorizer's refusal, and a parameter that fails validation.
_EVERY_OPERATION = (HTTPStatus.UNAUTHORIZED, HTTPStatus.UNPROCESSABLE_ENTITY)
# What taking a JSON body adds.
JSON_BODY = (HTTPStatus.BAD_REQUEST, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, HTTPStatus.UNSUPPORTED_MEDIA_TYPE)


def documented(
    success: Mapping[int, str],
    *problems: HTTPStatus,
    model: type[BaseModel] | None = None,
    headers: dict[str, OpenAPIResponseHeader] | None = None,
) -> dict[int, OpenAPIResponse]:
    """An operation's responses for the OpenAPI document: its successes (status → description;
    ``model`` as JSON, in both media types a client may ask for) and every problem it can answer,
    so that clients and contract tests know the real status codes and bodies."""
    responses: dict[int, OpenAPIResponse] = {}
    for status, description in success.items():
        # No model, no body (204, 302): an empty content map, which the generator leaves alone.
        response: OpenAPIResponse = {"description": description, "content": {}}
        if model is not None:
            response["content"] = {JSON_MEDIA_TYPE: {"model": model}, VND_MEDIA_TYPE: {"model": model}}
        if headers:
            response["headers"] = headers
        responses[status] = response
    for kind in sorted({*_EVERY_OPERATION, *problems}):
        content: dict[str, Any] = {}
        if kind in _GATEWAY_ANSWERS:
            content[JSON_MEDIA_TYPE] = {"model": GatewayError}
        if kind in _API_ANSWERS:
            content[PROBLEM_MEDIA_TYPE] = {"model": Problem}
        responses[kind.value] = {"description": _MEANING[kind], "content": content}
    return responses


def problem(status: HTTPStatus, detail: str, code: str, field_errors: list[FieldProblem] | None = None) -> Response:
    body = Problem(title=status.phrase, status=status.value, detail=detail, code=code, errors=field_errors)
    return Response(
        status_code=status.value,
        content_type=PROBLEM_MEDIA_TYPE,
        body=body.model_dump_json(exclude_none=True),
    )


def _location(loc: tuple[object, ...]) -> str:
    return ".".join(str(part) for part in loc)


def register(app: APIGatewayHttpResolver) -> None:
    """Install the exception handlers on the resolver."""

    @app.exception_handler(errors.MessageCenterError)
    def _domain_error(error: errors.MessageCenterError) -> Response:
        status = next((status for kind, status in _STATUS_BY_ERROR if isinstance(error, kind)), HTTPStatus.BAD_REQUEST)
        return problem(status, error.detail, error.code)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response:
        details = error.errors()
        if any(item.get("type") == "json_invalid" for item in details):
            return problem(HTTPStatus.BAD_REQUEST, "The request body is not valid JSON.", "MALFORMED_JSON")
        field_errors = [
            FieldProblem(location=_location(tuple(item.get("loc", ()))), message=str(item.get("msg", "invalid")))
            for item in details
        ]
        return problem(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            "The request is invalid: " + "; ".join(f"{e.location}: {e.message}" for e in field_errors),
            "VALIDATION_ERROR",
            field_errors,
        )

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_media_type(_: RequestUnsupportedContentType) -> Response:
        return problem(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "Send JSON as application/vnd.allegro.public.v1+json or application/json.",
            "UNSUPPORTED_MEDIA_TYPE",
        )

    @app.exception_handler(UnauthorizedError)
    def _unauthorized(_: UnauthorizedError) -> Response:
        return problem(HTTPStatus.UNAUTHORIZED, "A valid bearer token is required.", "UNAUTHORIZED")

    @app.not_found
    def _no_route(_: RouteNotFound) -> Response:
        return problem(HTTPStatus.NOT_FOUND, "No such resource.", "NOT_FOUND")
