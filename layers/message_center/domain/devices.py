"""Devices that receive push notifications."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .errors import ValidationError


class Platform(StrEnum):
    APNS = "APNS"  # Apple Push Notification service
    FCM = "FCM"  # Firebase Cloud Messaging


_TOKEN = re.compile(r"^[A-Za-z0-9_:\-.]{32,4096}$")


@dataclass(frozen=True)
class Device:
    id: str
    owner_id: str
    platform: Platform
    endpoint_arn: str
    created_at: datetime


def device_id(platform: Platform, token: str) -> str:
    """The same token on the same platform is the same device (re-registering is idempotent)."""
    digest = hashlib.sha256(f"{platform.value}:{token}".encode()).digest()
    return base64.b32encode(digest).decode()[:26]


def check_token(token: str) -> str:
    cleaned = token.strip()
    if not _TOKEN.match(cleaned):
        raise ValidationError(
            "The device token is not a valid APNs or FCM registration token.", code="DEVICE_TOKEN_INVALID"
        )
    return cleaned
