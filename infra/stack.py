"""The Message Center stack: composes one construct per concern and exports what clients need."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.api_construct import ApiConstruct
from infra.constants import DEFAULT_AVATAR_URL, DEFAULT_AVATAR_URL_CONTEXT_KEY
from infra.identity_construct import IdentityConstruct
from infra.storage_construct import StorageConstruct


class MessageCenterStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        storage = StorageConstruct(self, "Storage")
        identity = IdentityConstruct(self, "Identity")
        api = ApiConstruct(
            self,
            "Api",
            table=storage.table,
            user_pool=identity.user_pool,
            user_pool_client=identity.client,
            default_avatar_url=self.node.try_get_context(DEFAULT_AVATAR_URL_CONTEXT_KEY)
            or DEFAULT_AVATAR_URL,
        )
        CfnOutput(self, "ApiUrl", value=api.url, description="Base URL of the HTTP API")
        CfnOutput(self, "UserPoolId", value=identity.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=identity.client.user_pool_client_id)
        CfnOutput(self, "TableName", value=storage.table.table_name)
