"""Wiring: builds services from validated settings. Called at cold start, never at import."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from .adapters.attachment_files import AttachmentFiles
from .adapters.cognito import CognitoIdentities
from .data.attachment_repository import AttachmentRepository
from .data.directory_repository import DirectoryRepository
from .data.items import bind_table
from .data.thread_repository import ThreadRepository
from .services.attachments import AttachmentService
from .services.directory import DirectoryService
from .services.messaging import MessagingService
from .services.profile import ProfileService
from .settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class Services:
    """The services one API function uses, sharing repositories and connections."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        bind_table(settings.table_name, settings.region, settings.aws_endpoint_url)
        directory = DirectoryRepository()
        threads = ThreadRepository(settings.region, settings.aws_endpoint_url)
        self.attachments = AttachmentService(
            AttachmentRepository(),
            AttachmentFiles(
                _s3_client(settings), settings.attachments_bucket, settings.presigned_url_seconds
            ),
            max_bytes=settings.attachment_max_bytes,
            ttl=timedelta(hours=settings.attachment_ttl_hours),
        )
        self.messaging = MessagingService(
            threads,
            directory,
            self.attachments,
            idempotency_ttl=timedelta(hours=settings.idempotency_ttl_hours),
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


def _s3_client(settings: Settings) -> S3Client:
    """S3 with SigV4 presigning; path-style addressing for the local emulator, whose endpoint has
    no bucket subdomains."""
    return boto3.client(
        "s3",
        region_name=settings.region,
        endpoint_url=settings.aws_endpoint_url,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path" if settings.aws_endpoint_url else "virtual"},
        ),
    )
