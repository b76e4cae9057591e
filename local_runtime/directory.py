"""Seeding the marketplace directory (users, offers, orders) into the local runtime."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local_runtime import emulator
from local_runtime.emulator import Resources

if TYPE_CHECKING:
    from message_center.adapters.cognito import Invitations
    from message_center.services.directory import LoadReport
    from message_center.settings import DirectorySettings

DEMO_DIRECTORY = Path(__file__).with_name("demo_directory.json")
# Every user seeded into the LOCAL runtime gets this password (documented in ``serve``'s banner);
# ``message-center token`` signs in with it. Never used against real AWS.
DEV_PASSWORD = "Local-dev-password-1!"  # noqa: S105


@dataclass(frozen=True)
class DirectoryUserSummary:
    """One user as the ``serve`` banner lists them (no e-mail: it is personal data)."""

    login: str
    roles: tuple[str, ...]
    marketplace: str
    language: str


def read_directory(path: Path) -> dict[str, Any]:
    """The directory document at ``path`` (JSON)."""
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def load_directory(
    document: Mapping[str, Any], settings: DirectorySettings, invitations: Invitations | None = None
) -> LoadReport:
    """Load ``document`` with the shared package's directory service into the table and user pool
    ``settings`` name (``invitations``: whether Cognito e-mails new users; default not). Raises
    ``DirectoryDocumentError`` for an invalid document."""
    from message_center.composition import directory_service

    return directory_service(settings, invitations=invitations).load(document)


def seed_directory(
    path: Path, endpoint_url: str, region: str, resources: Resources, settings: DirectorySettings
) -> list[str]:
    """Load the directory at ``path`` into the running emulator and give every user the local dev
    password. Returns the loaded logins."""
    document = read_directory(path)
    load_directory(document, settings)
    logins = [str(user["login"]) for user in document.get("users", [])]
    set_dev_passwords(endpoint_url, region, resources, logins)
    return logins


def set_dev_passwords(endpoint_url: str, region: str, resources: Resources, logins: Iterable[str]) -> None:
    """Give each user ``DEV_PASSWORD`` as a permanent password (local emulator only)."""
    cognito = emulator.client("cognito-idp", endpoint_url, region)
    for login in logins:
        cognito.admin_set_user_password(
            UserPoolId=resources.user_pool_id, Username=login, Password=DEV_PASSWORD, Permanent=True
        )


def summarize_users(document: Mapping[str, Any]) -> list[DirectoryUserSummary]:
    """Each user's role(s) as the demo data uses them: buyer, business or private seller."""
    sellers = {str(offer.get("seller", "")).casefold() for offer in document.get("offers", [])}
    sellers |= {str(order.get("seller", "")).casefold() for order in document.get("orders", [])}
    buyers = {str(order.get("buyer", "")).casefold() for order in document.get("orders", [])}
    summaries = []
    for user in document.get("users", []):
        login = str(user["login"])
        roles = []
        if login.casefold() in sellers:
            roles.append("business seller" if user.get("businessAccount") else "private seller")
        if login.casefold() in buyers or not roles:
            roles.append("buyer")
        summaries.append(
            DirectoryUserSummary(login, tuple(roles), str(user["marketplace"]), str(user["preferredLanguage"]))
        )
    return summaries
