"""The attachments bucket: uploads, promotion to stored attachments, presigned URLs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ..data.bucket_layout import STORED_PREFIX, UPLOAD_PREFIX

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_MISSING = ("NoSuchKey", "404", "NotFound")


@dataclass(frozen=True)
class UploadForm:
    """A presigned S3 POST: the client sends ``fields`` plus ``file`` as multipart form data."""

    url: str
    fields: dict[str, str]


def upload_key(attachment_id: str) -> str:
    return f"{UPLOAD_PREFIX}{attachment_id}"


def stored_key(attachment_id: str) -> str:
    return f"{STORED_PREFIX}{attachment_id}"


class AttachmentFiles:
    """Object keys are derived from attachment ids only (random, never user input)."""

    def __init__(self, client: S3Client, bucket: str, url_seconds: int) -> None:
        self._client = client
        self._bucket = bucket
        self._url_seconds = url_seconds

    def put_upload(self, attachment_id: str, content: bytes, mime_type: str, disposition: str) -> None:
        self._client.put_object(
            Bucket=self._bucket,
            Key=upload_key(attachment_id),
            Body=content,
            ContentType=mime_type,
            ContentDisposition=disposition,
        )

    def read_upload(self, attachment_id: str, max_bytes: int) -> bytes | None:
        """The uploaded bytes (at most ``max_bytes`` + 1, so oversize is detectable), or None."""
        try:
            response = self._client.get_object(
                Bucket=self._bucket, Key=upload_key(attachment_id), Range=f"bytes=0-{max_bytes}"
            )
        except ClientError as error:
            if error.response["Error"]["Code"] in _MISSING:
                return None
            raise
        return response["Body"].read()

    def promote(self, attachment_id: str, mime_type: str, disposition: str) -> bool:
        """Copy an upload to the stored prefix (idempotent); False if the upload is gone."""
        try:
            self._client.copy_object(
                Bucket=self._bucket,
                Key=stored_key(attachment_id),
                CopySource={"Bucket": self._bucket, "Key": upload_key(attachment_id)},
                MetadataDirective="REPLACE",
                ContentType=mime_type,
                ContentDisposition=disposition,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] in _MISSING:
                return False
            raise
        return True

    def download_url(self, key: str, mime_type: str, disposition: str) -> str:
        """A short-lived GET URL that makes the browser save the file under its original name."""
        params: dict[str, Any] = {
            "Bucket": self._bucket,
            "Key": key,
            "ResponseContentType": mime_type,
            "ResponseContentDisposition": disposition,
        }
        return self._client.generate_presigned_url("get_object", Params=params, ExpiresIn=self._url_seconds)

    def upload_form(self, attachment_id: str, size: int, content_type: str) -> UploadForm:
        """A presigned POST for exactly ``size`` bytes, for files larger than an API request allows."""
        presigned = self._client.generate_presigned_post(
            Bucket=self._bucket,
            Key=upload_key(attachment_id),
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", size, size]],
            ExpiresIn=self._url_seconds,
        )
        return UploadForm(url=presigned["url"], fields=dict(presigned["fields"]))
