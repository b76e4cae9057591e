"""The Message Center stack: composes one construct per concern and exports what clients need."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.api_construct import ApiConstruct
from infra.attachments_construct import AttachmentsConstruct, cors_origins_from_context
from infra.constants import (
    ATTACHMENTS_CORS_ORIGINS_CONTEXT_KEY,
    DEFAULT_AVATAR_URL,
    DEFAULT_AVATAR_URL_CONTEXT_KEY,
)
from infra.identity_construct import IdentityConstruct
from infra.storage_construct import StorageConstruct


class MessageCenterStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        storage = StorageConstruct(self, "Storage")
        identity = IdentityConstruct(self, "Identity")
        attachments = AttachmentsConstruct(
            self,
            "Attachments",
            cors_origins=cors_origins_from_context(
                self.node.try_get_context(ATTACHMENTS_CORS_ORIGINS_CONTEXT_KEY)
            ),
        )
        api = ApiConstruct(
            self,
            "Api",
            table=storage.table,
            user_pool=identity.user_pool,
            user_pool_client=identity.client,
            default_avatar_url=self.node.try_get_context(DEFAULT_AVATAR_URL_CONTEXT_KEY)
            or DEFAULT_AVATAR_URL,
        )
        attachments.grant_api_access(api.function)
        CfnOutput(self, "ApiUrl", value=api.url, description="Base URL of the HTTP API")
        CfnOutput(self, "UserPoolId", value=identity.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=identity.client.user_pool_client_id)
        CfnOutput(self, "TableName", value=storage.table.table_name)
        CfnOutput(
            self,
            "AttachmentsBucketName",
            value=attachments.bucket.bucket_name,
            description="S3 bucket of message attachments (uploads/ and attachments/ prefixes)",
        )
