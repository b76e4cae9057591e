"""Wiring: builds services from validated settings. Called at cold start, never at import."""

from __future__ import annotations

from datetime import timedelta

import boto3

from .adapters.cognito import CognitoIdentities
from .data.directory_repository import DirectoryRepository
from .data.items import bind_table
from .data.thread_repository import ThreadRepository
from .services.directory import DirectoryService
from .services.messaging import MessagingService
from .services.profile import ProfileService
from .settings import Settings


class Services:
    """The services one API function uses, sharing repositories and connections."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        bind_table(settings.table_name, settings.region, settings.aws_endpoint_url)
        directory = DirectoryRepository()
        threads = ThreadRepository(settings.region, settings.aws_endpoint_url)
        self.messaging = MessagingService(
            threads, directory, idempotency_ttl=timedelta(hours=settings.idempotency_ttl_hours)
        )
        self.profile = ProfileService(directory)


def build_directory_service(settings: Settings) -> DirectoryService:
    """The directory loader, against the configured table and user pool."""
    if not settings.user_pool_id:
        raise ValueError(
            "USER_POOL_ID is not set: the directory loader creates users in the Cognito user pool."
        )
    bind_table(settings.table_name, settings.region, settings.aws_endpoint_url)
    client = boto3.client("cognito-idp", region_name=settings.region, endpoint_url=settings.aws_endpoint_url)
    return DirectoryService(DirectoryRepository(), CognitoIdentities(client, settings.user_pool_id))
