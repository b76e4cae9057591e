"""Raw inbound mail as SES's S3 action stored it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class RawMailStore:
    """Reads the MIME message stored under ``<prefix><SES message id>``."""

    def __init__(self, client: S3Client, bucket: str, prefix: str) -> None:
        self._client = client
        self._bucket = bucket
        self._prefix = prefix

    def read(self, ses_message_id: str) -> bytes:
        response = self._client.get_object(Bucket=self._bucket, Key=f"{self._prefix}{ses_message_id}")
        return bytes(response["Body"].read())
