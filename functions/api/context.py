"""Per-request helpers shared by the route modules: the caller, the services, the media type."""

from __future__ import annotations

from typing import cast

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponseHeader
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from message_center.api.contract import JSON_MEDIA_TYPE
from message_center.composition import ApiServices, Container, api_services
from message_center.deployment import METRICS_NAMESPACE, SERVICE_NAME
from message_center.domain.models import Message
from message_center.settings import ApiSettings
from pydantic import BaseModel

# Explicit, so that importing the handler before the environment is set (tests, tools) still
# yields valid EMF; the stack sets the same values in POWERTOOLS_* variables.
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)

# The function's one cache: settings and services, built on the first request of a cold start.
container: Container[ApiSettings, ApiServices] = Container(ApiSettings, api_services)


def services() -> ApiServices:
    return container.get()


def caller_id(router: Router) -> str:
    """The caller's user id, taken only from the JWT authorizer's verified claims."""
    event = cast(APIGatewayProxyEventV2, router.current_event)  # the app is an HTTP API (v2) resolver
    authorizer = event.request_context.authorizer
    claims = authorizer.jwt_claim if authorizer is not None else None
    subject = (claims or {}).get("sub")
    if not subject:
        raise UnauthorizedError("Unauthorized")
    return str(subject)


def respond(model: BaseModel, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response; the resolver serialises ``model`` by alias (camelCase) after validating it,
    and the handler labels it with the media type the client asked for."""
    return Response(status_code=status_code, content_type=JSON_MEDIA_TYPE, body=model, headers=headers)


REPLAYED_HEADER_DOC: dict[str, OpenAPIResponseHeader] = {
    "Idempotent-Replayed": {
        "description": "`true` when an earlier request with the same Idempotency-Key stored the message.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


def replayed_header(replayed: bool) -> dict[str, str]:
    """Tells the client that an earlier request with the same Idempotency-Key stored the message."""
    return {"Idempotent-Replayed": "true"} if replayed else {}


def count_sent(message: Message, replayed: bool) -> None:
    """One ``MessageSent`` metric per stored message, by type (replays are not new messages)."""
    if not replayed:
        metrics.add_metric(
            name=f"MessageSent{message.type.value.title().replace('_', '')}", unit=MetricUnit.Count, value=1
        )


def attachments_url(router: Router) -> str:
    """Public URL of the attachment resources, as the client reached this API."""
    event = cast(APIGatewayProxyEventV2, router.current_event)
    scheme = event.headers.get("x-forwarded-proto", "https")
    return f"{scheme}://{event.request_context.domain_name}/messaging/message-attachments/"
