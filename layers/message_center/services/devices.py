"""Registering the caller's devices for push notifications."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aws_lambda_powertools import Logger

from ..adapters.push import ApplicationUnusable, EndpointConflict, SnsPush
from ..data.device_repository import DeviceRepository
from ..domain.devices import Device, Platform, check_token, device_id
from ..domain.errors import ConflictError, NotFoundError, ValidationError
from ..domain.ids import utc_now

logger = Logger(child=True)


class DeviceService:
    def __init__(
        self,
        repository: DeviceRepository,
        push: SnsPush,
        applications: dict[Platform, str],
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._repository = repository
        self._push = push
        self._applications = applications  # only the configured platforms
        self._clock = clock

    def register(self, owner_id: str, platform: Platform, token: str) -> tuple[Device, bool]:
        """Register (or re-register) a device; returns it and whether it is new for the caller."""
        application = self._applications.get(platform)
        if application is None:
            raise ValidationError(
                f"Push notifications for {platform.value} are not configured.", code="PUSH_NOT_CONFIGURED"
            )
        token = check_token(token)
        identifier = device_id(platform, token)
        existing = self._repository.get(owner_id, identifier)
        previous_owner = self._repository.owner_of(identifier)
        known = existing or (self._repository.get(previous_owner, identifier) if previous_owner else None)
        try:
            endpoint_arn = self._push.ensure_endpoint(application, token, known.endpoint_arn if known else None)
        except EndpointConflict as error:
            raise ConflictError(
                "This device is already registered in a way we cannot update; try again later.",
                code="DEVICE_CONFLICT",
            ) from error
        except ApplicationUnusable as error:
            # Our configuration is wrong, not the caller's request: logged as an error (for the
            # alarm), answered like a platform without push, which clients already handle.
            logger.error(
                "The push platform application is not usable",
                extra={"platform": platform.value, "error_code": error.code},
            )
            raise ValidationError(
                f"Push notifications for {platform.value} are not available.", code="PUSH_NOT_CONFIGURED"
            ) from error
        device = Device(
            id=identifier,
            owner_id=owner_id,
            platform=platform,
            endpoint_arn=endpoint_arn,
            created_at=existing.created_at if existing else self._clock(),
        )
        self._repository.save(device, previous_owner=previous_owner)
        return device, existing is None

    def list(self, owner_id: str) -> list[Device]:
        return self._repository.list_for(owner_id)

    def remove(self, owner_id: str, identifier: str) -> None:
        device = self._repository.get(owner_id, identifier)
        if device is None:
            raise NotFoundError("Device not found.", code="DEVICE_NOT_FOUND")
        self._push.delete_endpoint(device.endpoint_arn)
        self._repository.delete(device)
