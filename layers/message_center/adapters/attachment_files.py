"""The attachments bucket: uploads, promotion to stored attachments, presigned URLs.

The bucket is versioned, and every object version is immutable: the bytes that were checked are
named by the version the check read (or wrote), and only that version is ever copied to the stored
prefix. The presigned upload form stays valid after the check, so the upload's *current* version
may be anything by the time a message uses it; its checked version cannot change. (An ETag
condition would not do: for an upload it is the MD5 of the bytes, and the uploader controls both
files of a collision.) Each copy is a new version of the stored key, so a copy made for a send that
is then refused can be removed by its version id without touching another send's copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from ..data.bucket_layout import STORED_PREFIX, UPLOAD_PREFIX

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = Logger(child=True)

_MISSING = ("NoSuchKey", "NoSuchVersion", "404", "NotFound")
# The functions may not list the bucket (no s3:ListBucket, by design: least privilege), and to a
# caller that may not list it S3 answers a missing key with 403 AccessDenied, never 404. So for an
# *upload* key (read, or copied by version) a 403 means "not uploaded" / "that version is gone", and
# the caller gets the documented 409/422. Without ListBucket nothing tells that apart from a real
# permission error on an existing key; such an error would turn every send with an attachment into
# a 409/422 rather than a 500, so each 403 is logged as a warning (code and attachment id only) for
# the alarms and for whoever reads the logs.
_DENIED = ("AccessDenied", "403", "Forbidden")


@dataclass(frozen=True)
class UploadForm:
    """A presigned S3 POST: the client sends ``fields`` plus ``file`` as multipart form data."""

    url: str
    fields: dict[str, str]


@dataclass(frozen=True)
class Upload:
    """Bytes read from an upload, and the (immutable) version they were read from."""

    content: bytes
    version: str


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

    def put_upload(self, attachment_id: str, content: bytes, mime_type: str, disposition: str) -> str:
        """Write checked bytes as the upload; the version that holds exactly them."""
        response = self._client.put_object(
            Bucket=self._bucket,
            Key=upload_key(attachment_id),
            Body=content,
            ContentType=mime_type,
            ContentDisposition=disposition,
        )
        return _version(response)

    def read_upload(self, attachment_id: str, max_bytes: int) -> Upload | None:
        """The uploaded bytes (at most ``max_bytes`` + 1, so oversize is detectable) with the
        version they belong to, or None."""
        try:
            response = self._client.get_object(
                Bucket=self._bucket, Key=upload_key(attachment_id), Range=f"bytes=0-{max_bytes}"
            )
        except ClientError as error:
            if _missing_upload(error, attachment_id, "GetObject"):
                return None
            raise
        return Upload(content=response["Body"].read(), version=_version(response))

    def promote(self, attachment_id: str, version: str, mime_type: str, disposition: str) -> str | None:
        """Copy one version of an upload to the stored prefix; the version of the copy, or None
        if that upload version is gone."""
        try:
            response = self._client.copy_object(
                Bucket=self._bucket,
                Key=stored_key(attachment_id),
                CopySource={"Bucket": self._bucket, "Key": upload_key(attachment_id), "VersionId": version},
                MetadataDirective="REPLACE",
                ContentType=mime_type,
                ContentDisposition=disposition,
            )
        except ClientError as error:
            if _missing_upload(error, attachment_id, "CopyObject"):
                return None
            raise
        return _version(response)

    def discard_copy(self, attachment_id: str, version: str) -> None:
        """Remove one copy made by ``promote``, for good: by its version id, so that any other
        copy (another send's) stays, and no delete marker is left."""
        self._delete_version(stored_key(attachment_id), version)

    def discard_upload(self, attachment_id: str, version: str) -> None:
        """Remove one version of an upload, for good."""
        self._delete_version(upload_key(attachment_id), version)

    def _delete_version(self, key: str, version: str) -> None:
        try:
            self._client.delete_object(Bucket=self._bucket, Key=key, VersionId=version)
        except ClientError as error:
            if error.response["Error"]["Code"] not in _MISSING:
                raise

    def download_url(self, key: str, mime_type: str, disposition: str, version: str | None = None) -> str:
        """A short-lived GET URL that makes the browser save the file under its original name;
        of one version of the object when ``version`` is given."""
        params: dict[str, Any] = {
            "Bucket": self._bucket,
            "Key": key,
            "ResponseContentType": mime_type,
            "ResponseContentDisposition": disposition,
        }
        if version is not None:
            params["VersionId"] = version
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


def _missing_upload(error: ClientError, attachment_id: str, operation: str) -> bool:
    """Whether S3's error, for an upload key, means the object (version) is not there."""
    code = error.response.get("Error", {}).get("Code", "")
    if code in _MISSING:
        return True
    if code in _DENIED:
        logger.warning(
            "S3 denied access to an upload; taken as not uploaded (no ListBucket)",
            extra={"operation": operation, "error_code": code, "attachment_id": attachment_id},
        )
        return True
    return False


def _version(response: Any) -> str:
    version = response.get("VersionId")
    if not version or version == "null":
        # Without versions nothing pins the checked bytes: refuse to work rather than copy
        # whatever the object holds now. (A deployment error, never a user's.)
        raise RuntimeError("the attachments bucket must have versioning enabled")
    return str(version)
