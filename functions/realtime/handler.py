"""API Gateway WebSocket API → $connect, $disconnect and $default of the live channel.

$connect takes the access token the browser offers as its second subprotocol
(``new WebSocket(url, ["message-center.v1", token])``: the token travels in the
Sec-WebSocket-Protocol header, never in the URL or the access log), checks it like the HTTP API's
JWT authorizer, and only then records the connection; the answer names our subprotocol, as the
WebSocket handshake requires. Headers and tokens are never logged.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from message_center.composition import Container, RealtimeServices, realtime_services
from message_center.deployment import METRICS_NAMESPACE, REALTIME, SERVICE_NAME
from message_center.services.realtime import ConnectionRefused
from message_center.settings import RealtimeSettings

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)
# The function's one cache: settings and services, built on the first invocation of a cold start.
container: Container[RealtimeSettings, RealtimeServices] = Container(RealtimeSettings, realtime_services)

SUBPROTOCOL_HEADER = "sec-websocket-protocol"
OK: dict[str, Any] = {"statusCode": 200}


def _offered_subprotocols(event: dict[str, Any]) -> list[str]:
    headers = {str(name).lower(): value for name, value in (event.get("headers") or {}).items()}
    return [part.strip() for part in str(headers.get(SUBPROTOCOL_HEADER) or "").split(",")]


def _connect(connection_id: str, event: dict[str, Any]) -> dict[str, Any]:
    try:
        container.get().connections.connect(connection_id, _offered_subprotocols(event))
    except ConnectionRefused as refusal:
        logger.info("WebSocket connection refused", extra={"reason": str(refusal)})
        metrics.add_metric(name="WebSocketRefused", unit=MetricUnit.Count, value=1)
        return {"statusCode": 401}
    metrics.add_metric(name="WebSocketConnected", unit=MetricUnit.Count, value=1)
    return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": REALTIME.subprotocol}}


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = event.get("requestContext") or {}
    route, connection_id = request.get("routeKey"), str(request.get("connectionId") or "")
    logger.append_keys(route=route, connection_id=connection_id)
    if route == "$connect":
        return _connect(connection_id, event)
    if route == "$disconnect":
        container.get().connections.disconnect(connection_id)
        return OK
    container.get().connections.answer(connection_id, event.get("body"))
    return OK
