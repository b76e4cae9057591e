"""SNS mobile push: platform endpoints and per-platform messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

_GONE = ("EndpointDisabled", "NotFound")


class EndpointGone(Exception):
    """SNS reports the endpoint disabled (the app was uninstalled, the token expired) or deleted."""


class EndpointConflict(Exception):
    """SNS has an endpoint for the token with other attributes, and we do not know its ARN."""


class ApplicationUnusable(Exception):
    """SNS refuses the configured platform application itself (deleted, disabled, or of another
    region or account): a deployment error, not the caller's. ``code`` is SNS's error code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class SnsPush:
    def __init__(self, client: SNSClient) -> None:
        self._client = client

    def ensure_endpoint(self, application_arn: str, token: str, known_arn: str | None) -> str:
        """The enabled endpoint for ``token``, following SNS's token-management advice: reuse the
        stored endpoint (re-enabling it or updating its token), create one only when there is none."""
        if known_arn is not None:
            try:
                attributes = self._client.get_endpoint_attributes(EndpointArn=known_arn)["Attributes"]
            except ClientError as error:
                if error.response["Error"]["Code"] != "NotFound":
                    raise
            else:
                if attributes.get("Token") != token or attributes.get("Enabled") != "true":
                    self._client.set_endpoint_attributes(
                        EndpointArn=known_arn, Attributes={"Token": token, "Enabled": "true"}
                    )
                return known_arn
        try:
            return self._client.create_platform_endpoint(PlatformApplicationArn=application_arn, Token=token)[
                "EndpointArn"
            ]
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "NotFound":
                raise ApplicationUnusable(code) from error
            if code == "InvalidParameter":
                # Either parameter may be the one refused, and SNS says which only in its message
                # text: ask about the application, by error code, to tell them apart.
                self._require_usable(application_arn)
                # An endpoint for this token exists that we hold no record of (a lost write).
                raise EndpointConflict(token) from error
            raise

    def _require_usable(self, application_arn: str) -> None:
        try:
            attributes = self._client.get_platform_application_attributes(PlatformApplicationArn=application_arn)
        except ClientError as error:
            # NotFound, InvalidParameter (a malformed or other region's ARN), AuthorizationError
            # (another account's application): unusable whichever it is.
            raise ApplicationUnusable(error.response["Error"]["Code"]) from error
        if attributes.get("Attributes", {}).get("Enabled") == "false":
            raise ApplicationUnusable("Disabled")

    def delete_endpoint(self, endpoint_arn: str) -> None:
        self._client.delete_endpoint(EndpointArn=endpoint_arn)

    def publish(self, endpoint_arn: str, message: str) -> None:
        try:
            self._client.publish(TargetArn=endpoint_arn, Message=message, MessageStructure="json")
        except ClientError as error:
            if error.response["Error"]["Code"] in _GONE:
                raise EndpointGone(endpoint_arn) from error
            raise
