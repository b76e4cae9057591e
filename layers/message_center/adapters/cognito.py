"""Cognito user pool as the identity provider of the directory's users."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_cognito_idp.type_defs import AttributeTypeTypeDef

# A user created by an administrator who has not signed in (and set a password) yet.
_NEVER_SIGNED_IN = "FORCE_CHANGE_PASSWORD"


class Invitations(Enum):
    """Whether Cognito e-mails its invitation (login, temporary password, the web client's address,
    as the pool's invitation template says) to the users the loader creates."""

    # No e-mail: the local runtime gives every user its development password instead.
    SUPPRESS = "suppress"
    # To each user created by this load.
    NEW_USERS = "new-users"
    # Also again, with a new temporary password, to users who never signed in (e.g. theirs expired).
    RESEND = "resend"


class CognitoIdentities:
    """Ensures each directory user has a sign-in identity (username = login) and returns its ``sub``."""

    def __init__(
        self,
        client: CognitoIdentityProviderClient,
        user_pool_id: str,
        invitations: Invitations = Invitations.SUPPRESS,
    ) -> None:
        self._client = client
        self._pool = user_pool_id
        self._invitations = invitations

    def ensure_user(self, login: str, email: str) -> str:
        verified_email: list[AttributeTypeTypeDef] = [
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
        ]
        try:
            found = self._client.admin_get_user(UserPoolId=self._pool, Username=login)
        except ClientError as error:
            if error.response["Error"]["Code"] != "UserNotFoundException":
                raise
            created = self._client.admin_create_user(
                UserPoolId=self._pool, Username=login, UserAttributes=verified_email, **self._invitation()
            )
            attributes = created["User"]["Attributes"]
        else:
            attributes = found["UserAttributes"]
            current_email = next((a["Value"] for a in attributes if a["Name"] == "email"), None)
            if current_email != email:
                self._client.admin_update_user_attributes(
                    UserPoolId=self._pool, Username=login, UserAttributes=verified_email
                )
            if self._invitations is Invitations.RESEND and found.get("UserStatus") == _NEVER_SIGNED_IN:
                self._client.admin_create_user(
                    UserPoolId=self._pool, Username=login, MessageAction="RESEND", DesiredDeliveryMediums=["EMAIL"]
                )
        return next(a["Value"] for a in attributes if a["Name"] == "sub")

    def _invitation(self) -> dict[str, Any]:
        if self._invitations is Invitations.SUPPRESS:
            return {"MessageAction": "SUPPRESS"}
        # Cognito generates the temporary password and sends the pool's invitation message.
        return {"DesiredDeliveryMediums": ["EMAIL"]}
