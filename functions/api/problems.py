"""Every error the API returns, as RFC 9457 ``application/problem+json``, mapped in one place."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFound
from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from message_center.api.contract import PROBLEM_MEDIA_TYPE
from message_center.api.schemas import FieldProblem, Problem
from message_center.domain import errors

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
