"""Cognito user pool as the identity provider of the directory's users."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient


class CognitoIdentities:
    """Ensures each directory user has a sign-in identity (username = login) and returns its ``sub``."""

    def __init__(self, client: CognitoIdentityProviderClient, user_pool_id: str) -> None:
        self._client = client
        self._pool = user_pool_id

    def ensure_user(self, login: str, email: str) -> str:
        try:
            found = self._client.admin_get_user(UserPoolId=self._pool, Username=login)
            attributes = found["UserAttributes"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "UserNotFoundException":
                raise
            created = self._client.admin_create_user(
                UserPoolId=self._pool,
                Username=login,
                UserAttributes=[
                    {"Name": "email", "Value": email},
                    {"Name": "email_verified", "Value": "true"},
                ],
                MessageAction="SUPPRESS",  # the marketplace onboards its users; no invitation mail
            )
            attributes = created["User"]["Attributes"]
        else:
            current_email = next((a["Value"] for a in attributes if a["Name"] == "email"), None)
            if current_email != email:
                self._client.admin_update_user_attributes(
                    UserPoolId=self._pool,
                    Username=login,
                    UserAttributes=[
                        {"Name": "email", "Value": email},
                        {"Name": "email_verified", "Value": "true"},
                    ],
                )
        return next(a["Value"] for a in attributes if a["Name"] == "sub")
