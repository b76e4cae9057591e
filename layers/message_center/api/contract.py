"""Every HTTP route of the Message Center API, defined once.

The API handler registers exactly these routes (a test checks it), the CDK stack creates one
HTTP API route for each, and the local gateway protects the same set with the JWT check.
"""

from __future__ import annotations

from dataclasses import dataclass

VND_MEDIA_TYPE = "application/vnd.allegro.public.v1+json"
JSON_MEDIA_TYPE = "application/json"
PROBLEM_MEDIA_TYPE = "application/problem+json"
ACCEPTED_BODY_MEDIA_TYPES = (VND_MEDIA_TYPE, JSON_MEDIA_TYPE)
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    authorized: bool = True

    @property
    def route_key(self) -> str:
        """API Gateway HTTP API route key, e.g. ``GET /messaging/threads/{threadId}``."""
        return f"{self.method} {self.path}"


ROUTES: tuple[Route, ...] = (
    Route("GET", "/messaging/threads"),
    Route("GET", "/messaging/threads/{threadId}"),
    Route("PUT", "/messaging/threads/{threadId}/read"),
    Route("GET", "/messaging/threads/{threadId}/messages"),
    Route("POST", "/messaging/threads/{threadId}/messages"),
    Route("POST", "/messaging/messages"),
    Route("GET", "/messaging/messages/{messageId}"),
    Route("DELETE", "/messaging/messages/{messageId}"),
    Route("GET", "/messaging/messages/{messageId}/translations/{language}"),
    Route("POST", "/messaging/message-attachments"),
    Route("PUT", "/messaging/message-attachments/{attachmentId}"),
    Route("GET", "/messaging/message-attachments/{attachmentId}"),
    Route("POST", "/messaging/devices"),
    Route("GET", "/messaging/devices"),
    Route("DELETE", "/messaging/devices/{deviceId}"),
    Route("GET", "/messaging/me"),
    Route("PATCH", "/messaging/me"),
    Route("GET", "/messaging/me/badge"),
    Route("GET", "/messaging/events"),
    Route("GET", "/openapi.json", authorized=False),
    # The JSON Schema of the live events (WebSocket messages and feed entries).
    Route("GET", "/events.schema.json", authorized=False),
)
