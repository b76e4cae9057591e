"""Domain errors. The API maps each class to one HTTP status in a single place."""

from __future__ import annotations


class MessageCenterError(Exception):
    """Base of every error a caller can cause; ``code`` is stable and machine-readable."""

    code = "MESSAGE_CENTER_ERROR"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code


class NotFoundError(MessageCenterError):
    """The resource does not exist *for this caller* (a non-participant learns nothing more)."""

    code = "NOT_FOUND"


class ForbiddenError(MessageCenterError):
    """A product rule refuses the action (for example a seller without a business account)."""

    code = "FORBIDDEN"


class ValidationError(MessageCenterError):
    """Well-formed input that breaks a rule about its content (422)."""

    code = "VALIDATION_ERROR"


class ConflictError(MessageCenterError):
    """The request collides with the current state (for example a reused idempotency key)."""

    code = "CONFLICT"


class ConcurrencyError(MessageCenterError):
    """Optimistic locking kept losing against concurrent writers; safe to retry."""

    code = "CONCURRENT_UPDATE"


class UnsupportedMediaTypeError(MessageCenterError):
    """The request body's media type is not one the resource accepts (415)."""

    code = "UNSUPPORTED_MEDIA_TYPE"


class RateLimitedError(MessageCenterError):
    """The caller used up an allowance (429)."""

    code = "RATE_LIMITED"


class ServiceUnavailableError(MessageCenterError):
    """A service we depend on is down right now; retrying later works (503)."""

    code = "SERVICE_UNAVAILABLE"


class IdempotencyKeyTaken(ConflictError):
    """Another request with the same Idempotency-Key committed first (the service replays it)."""

    code = "IDEMPOTENCY_KEY_TAKEN"


class ThreadGone(NotFoundError):
    """The thread a send was about to write in no longer exists (its transaction was refused)."""

    code = "THREAD_NOT_FOUND"
