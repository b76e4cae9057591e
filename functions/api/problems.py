"""Every error the API returns, as RFC 9457 ``application/problem+json``, mapped in one place."""

from __future__ import annotations

import traceback
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
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

from .request_body import MalformedBodyError

logger = Logger(child=True)

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

# A refusal never grows with the request: a body with thousands of unknown fields gets the first
# few named, each clipped (a location can be a client's key of any length), and a count.
MAX_FIELD_PROBLEMS = 10
MAX_PROBLEM_TEXT = 200
UNEXPECTED_DETAIL = "Something went wrong on our side. Quote the traceId when you report it."
_LOGGED_FRAMES = 12

# What each refusal an operation declares means for a client: the descriptions in the OpenAPI
# document. The refusals of every operation (422, 500) and of every JSON body (400, 415) are
# added to the document by ``openapi.as_served``.
_MEANING: dict[HTTPStatus, str] = {
    HTTPStatus.UNAUTHORIZED: "No valid bearer token: the gateway's JWT authorizer refuses the request "
    '(`{"message": "Unauthorized"}`) before the API runs.',
    HTTPStatus.FORBIDDEN: "A marketplace rule refuses the action.",
    HTTPStatus.NOT_FOUND: "It does not exist, or it is not yours: both get the same answer.",
    HTTPStatus.CONFLICT: "The request collides with the current state.",
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "The request is larger than the gateway accepts (10 MB).",
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: "The body's media type is not accepted here.",
    HTTPStatus.TOO_MANY_REQUESTS: "An allowance is used up; try again later.",
    HTTPStatus.SERVICE_UNAVAILABLE: "A service this needs is down; try again in a minute.",
}
# Answered by API Gateway itself, in its own shape; 401 also by the API (a request without claims).
_GATEWAY_ANSWERS = (HTTPStatus.UNAUTHORIZED, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
_API_ANSWERS = frozenset(_MEANING) - {HTTPStatus.REQUEST_ENTITY_TOO_LARGE}
# What taking a body adds here: the gateway's size limit.
BODY = (HTTPStatus.REQUEST_ENTITY_TOO_LARGE,)


def documented(
    success: Mapping[int, str],
    *problems: HTTPStatus,
    model: type[BaseModel] | None = None,
    headers: dict[str, OpenAPIResponseHeader] | None = None,
) -> dict[int, OpenAPIResponse]:
    """An operation's responses for the OpenAPI document: its successes (status → description;
    ``model`` as JSON, in both media types a client may ask for) and the refusals it can answer
    beyond those of every operation (the gateway's 401 included), so that clients and contract
    tests know the real status codes and bodies."""
    responses: dict[int, OpenAPIResponse] = {}
    for status, description in success.items():
        # No model, no body (204, 302): an empty content map, which the generator leaves alone.
        response: OpenAPIResponse = {"description": description, "content": {}}
        if model is not None:
            response["content"] = {JSON_MEDIA_TYPE: {"model": model}, VND_MEDIA_TYPE: {"model": model}}
        if headers:
            response["headers"] = headers
        responses[status] = response
    for kind in sorted({HTTPStatus.UNAUTHORIZED, *problems}):
        content: dict[str, Any] = {}
        if kind in _GATEWAY_ANSWERS:
            content[JSON_MEDIA_TYPE] = {"model": GatewayError}
        if kind in _API_ANSWERS:
            content[PROBLEM_MEDIA_TYPE] = {"model": Problem}
        responses[kind.value] = {"description": _MEANING[kind], "content": content}
    return responses


def problem(
    status: HTTPStatus,
    detail: str,
    code: str,
    field_errors: list[FieldProblem] | None = None,
    trace_id: str | None = None,
) -> Response:
    return Response(
        status_code=status.value,
        content_type=PROBLEM_MEDIA_TYPE,
        body=_problem_json(status, detail, code, field_errors, trace_id),
    )


def _problem_json(
    status: HTTPStatus,
    detail: str,
    code: str,
    field_errors: list[FieldProblem] | None = None,
    trace_id: str | None = None,
) -> str:
    body = Problem(
        title=status.phrase, status=status.value, detail=detail, code=code, errors=field_errors, trace_id=trace_id
    )
    return body.model_dump_json(exclude_none=True, by_alias=True)


def unexpected_error_result(error: BaseException, event: object) -> dict[str, Any]:
    """The proxy result for an error that escaped the resolver: a 500 problem document with the
    request id, instead of API Gateway's bare ``Internal Server Error``."""
    log_unexpected(error)
    context = event.get("requestContext") if isinstance(event, Mapping) else None
    request_id = context.get("requestId") if isinstance(context, Mapping) else None
    status = HTTPStatus.INTERNAL_SERVER_ERROR
    return {
        "statusCode": status.value,
        "headers": {"Content-Type": PROBLEM_MEDIA_TYPE},
        "body": _problem_json(status, UNEXPECTED_DETAIL, "INTERNAL_ERROR", trace_id=str(request_id or "unknown")),
        "isBase64Encoded": False,
    }


def log_unexpected(error: BaseException) -> None:
    """Log the kind of error and where it was raised, never its message: messages of parsers and
    validators quote the input, and request bodies must not reach the logs."""
    frames = traceback.extract_tb(error.__traceback__)[-_LOGGED_FRAMES:]
    logger.error(
        "Unexpected error",
        extra={
            "error_type": f"{type(error).__module__}.{type(error).__qualname__}",
            "error_stack": [f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in frames],
        },
    )


def _clip(text: str) -> str:
    return text if len(text) <= MAX_PROBLEM_TEXT else text[: MAX_PROBLEM_TEXT - 1] + "…"


def _location(loc: Sequence[object]) -> str:
    return _clip(".".join(str(part) for part in loc))


def _invalid_fields(details: Sequence[Any]) -> Response:
    field_errors = [
        FieldProblem(location=_location(tuple(item.get("loc", ()))), message=_clip(str(item.get("msg", "invalid"))))
        for item in details[:MAX_FIELD_PROBLEMS]
    ]
    summary = "; ".join(f"{e.location}: {e.message}" for e in field_errors)
    if len(details) > len(field_errors):
        summary += f" (and {len(details) - len(field_errors)} more)"
    return problem(
        HTTPStatus.UNPROCESSABLE_ENTITY, f"The request is invalid: {summary}", "VALIDATION_ERROR", field_errors
    )


def register(app: APIGatewayHttpResolver) -> None:
    """Install the exception handlers on the resolver."""

    @app.exception_handler(errors.MessageCenterError)
    def _domain_error(error: errors.MessageCenterError) -> Response:
        status = next((status for kind, status in _STATUS_BY_ERROR if isinstance(error, kind)), HTTPStatus.BAD_REQUEST)
        return problem(status, error.detail, error.code)

    @app.exception_handler(MalformedBodyError)
    def _malformed_body(error: MalformedBodyError) -> Response:
        return problem(HTTPStatus.BAD_REQUEST, error.detail, "MALFORMED_JSON")

    @app.exception_handler(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response:
        return _invalid_fields(error.errors())

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_media_type(_: RequestUnsupportedContentType) -> Response:
        return problem(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "Send JSON with Content-Type application/vnd.allegro.public.v1+json or application/json.",
            "UNSUPPORTED_MEDIA_TYPE",
        )

    @app.exception_handler(UnauthorizedError)
    def _unauthorized(_: UnauthorizedError) -> Response:
        return problem(HTTPStatus.UNAUTHORIZED, "A valid bearer token is required.", "UNAUTHORIZED")

    @app.not_found
    def _no_route(_: RouteNotFound) -> Response:
        return problem(HTTPStatus.NOT_FOUND, "No such resource.", "NOT_FOUND")

    # Last: anything else is a bug or an outage, answered without internals (found by the error's
    # class hierarchy, so every handler above takes precedence).
    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        log_unexpected(error)
        return problem(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            UNEXPECTED_DETAIL,
            "INTERNAL_ERROR",
            trace_id=app.current_event.request_context.request_id,
        )
