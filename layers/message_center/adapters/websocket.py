"""Sends to WebSocket connections through API Gateway's management API (PostToConnection,
DeleteConnection); locally the runtime serves the same API."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

# A connection that is closed answers 410 GoneException.
_GONE = "GoneException"


class ConnectionGone(Exception):
    """The connection is closed: forget it."""


class WebSocketConnections:
    """``client``: boto3 ``apigatewaymanagementapi`` with ``endpoint_url`` = the stage's URL."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def post(self, connection_id: str, payload: bytes) -> None:
        """Send ``payload``; ``ConnectionGone`` when the connection is closed, other errors raise."""
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=payload)
        except ClientError as error:
            if _is_gone(error):
                raise ConnectionGone(connection_id) from None
            raise

    def close(self, connection_id: str) -> None:
        """Close the connection (already gone is fine)."""
        try:
            self._client.delete_connection(ConnectionId=connection_id)
        except ClientError as error:
            if not _is_gone(error):
                raise


def _is_gone(error: ClientError) -> bool:
    return (
        error.response.get("Error", {}).get("Code") == _GONE
        or error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 410
    )
