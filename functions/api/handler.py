"""API Gateway HTTP API → the Message Center's /messaging REST API."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from message_center.api.contract import ACCEPTED_BODY_MEDIA_TYPES, JSON_MEDIA_TYPE, VND_MEDIA_TYPE
from message_center.deployment import TRACED_MODULES

from . import openapi, problems, request_body
from .context import container, metrics
from .routes import attachments, devices, events, messages, profile, threads

# ``container``: the function's settings and services (tests and the local runtime install them).
__all__ = ["app", "container", "enable_local_routes", "lambda_handler"]

logger = Logger()
# Only the AWS SDK (boto3 and pynamodb both call through botocore): patching every library X-Ray
# knows imported and wrapped them all at cold start, the larger part of the handler's import.
tracer = Tracer(patch_modules=TRACED_MODULES)

app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=request_body.parse_json)
app.include_router(threads.router)
app.include_router(messages.router)
app.include_router(profile.router)
app.include_router(attachments.router)
app.include_router(devices.router)
app.include_router(events.router)
problems.register(app)
API_TITLE = "Message Center API"
API_VERSION = "1.0.0"
API_DESCRIPTION = (
    "Buyer–seller messaging, wire-compatible with the marketplace's public /messaging resources "
    "(media type application/vnd.allegro.public.v1+json). Extensions: inbox filters, unread counts, "
    "the caller's profile and badge, Idempotency-Key on sends."
)


def _configure_openapi() -> None:
    """Done when the document is first asked for: Powertools' OpenAPI models take longer to import
    than the rest of the handler, and most containers never serve the document."""
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    # Every operation needs the Cognito token that the gateway's JWT authorizer checks.
    app.configure_openapi(
        title=API_TITLE,
        version=API_VERSION,
        description=API_DESCRIPTION,
        security_schemes={"bearer": HTTPBearer(bearerFormat="JWT", description="A Cognito access or ID token")},
        security=[{"bearer": []}],
    )


def enable_local_routes() -> None:
    """Swagger UI at /swagger, called by the local runtime only: the cloud HTTP API has no
    /swagger route, so Lambda never sets it up."""
    _configure_openapi()
    app.enable_swagger(path="/swagger")


@app.get("/openapi.json", include_in_schema=False)
def openapi_document():  # no return annotation: the generated document is not re-validated
    """The OpenAPI document of this API (public, like the marketplace's published contract)."""
    return Response(status_code=200, content_type=JSON_MEDIA_TYPE, body=_openapi_json())


@lru_cache(maxsize=1)
def _openapi_json() -> str:
    _configure_openapi()
    return openapi.as_served(app.get_openapi_json_schema())


FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
UNSUPPORTED_MEDIA_TYPE = "application/x-unsupported"


def _normalise_media_type(event: dict[str, Any]) -> None:
    """Structured bodies are JSON only, sent with their Content-Type. The marketplace's vendor
    media type is JSON, so the validator may treat it as such (and a base64-encoded JSON body is
    turned back into text); forms, which the validator would otherwise parse, and a body without
    a Content-Type, which it would take for JSON, are labelled unsupported so that they get a 415.
    Other types reach the routes unchanged: the validator refuses them on JSON routes, and an
    attachment upload is a file with its own type (which it must name, too)."""
    headers = event.get("headers") or {}
    content_type = headers.get("content-type")
    if content_type is None:
        if event.get("body"):
            headers["content-type"] = UNSUPPORTED_MEDIA_TYPE
        return
    media_type = content_type.split(";")[0].strip().lower()
    if media_type in ACCEPTED_BODY_MEDIA_TYPES:
        headers["content-type"] = JSON_MEDIA_TYPE
        request_body.decode_transport(event)
    elif media_type in FORM_MEDIA_TYPES:
        headers["content-type"] = UNSUPPORTED_MEDIA_TYPE


def _label_media_type(event: dict[str, Any], result: dict[str, Any]) -> None:
    """Answer JSON in the vendor media type when the client asked for it (problems stay
    ``application/problem+json``)."""
    accept = (event.get("headers") or {}).get("accept", "")
    headers = result.get("headers") or {}
    if VND_MEDIA_TYPE in accept and headers.get("Content-Type", "").startswith(JSON_MEDIA_TYPE):
        headers["Content-Type"] = VND_MEDIA_TYPE


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The Lambda entry point: no exception ever reaches API Gateway, which would answer a bare
    ``Internal Server Error``; the client gets a problem document with the request id instead."""
    try:
        return _instrumented(event, context)
    except Exception as error:  # only the instrumentation itself can fail here
        return problems.unexpected_error_result(error, event)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def _instrumented(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The resolver answers what goes wrong in a route; this catches what fails around it (an event
    # of the wrong shape, building the response) before the tracer would log the error's message.
    try:
        _normalise_media_type(event)
        result = app.resolve(event, context)
        _label_media_type(event, result)
    except Exception as error:
        return problems.unexpected_error_result(error, event)
    return result
