"""The attachments bucket, its access-log bucket, and the API function's access to it.

Layout (``message_center.data.bucket_layout``): clients upload into ``uploads/<id>``; when a
message uses an upload the API copies it to ``attachments/<id>``. Ids are random and never
derived from user input. Unused uploads expire by the lifecycle rule below (and their records
by DynamoDB TTL, sooner). There is no S3-event function: the API verifies content on upload and
on use.

Versioned, because an object version is immutable: the content check records the version it
read, and a message copies exactly that version (the presigned upload form stays valid after the
check, so the upload's current version may have been replaced since). Each copy to
``attachments/<id>`` is a version of its own, so the copy made for a send that is then refused is
removed by version id without touching a concurrent send's copy of the same attachment.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from aws_cdk import Acknowledgment, CfnElement, Duration, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct
from message_center.data import bucket_layout
from message_center.deployment import Env

from infra import constants
from infra.building_blocks import secure_bucket

# What the API function does with objects, per prefix (CopyObject is GetObject, or GetObjectVersion
# for a given source version, on the source plus PutObject on the destination; presigned URLs
# carry the signer's rights):
#   uploads/*      PutObject (PUT body, presigned POST), GetObject (read to verify),
#                  GetObjectVersion (copy source: the checked version; presigned GET of the
#                  checked version of an upload not yet sent)
#   attachments/*  PutObject (copy destination), GetObject (presigned GET),
#                  DeleteObjectVersion (remove this send's copy when its transaction is refused)
# No DeleteObject (it would only add delete markers), no ListBucket, no bucket-level actions, no
# object ARN outside the two prefixes.
API_OBJECT_READ_WRITE_ACTIONS = ("s3:GetObject", "s3:PutObject")
API_UPLOAD_VERSION_ACTIONS = ("s3:GetObjectVersion",)
API_STORED_DELETE_ACTIONS = ("s3:DeleteObjectVersion",)


def cors_origins_from_context(value: Any) -> list[str]:
    """The allowed CORS origins from the ``attachmentsCorsOrigins`` context value.

    ``None`` gives the default; ``cdk.json`` gives a list; ``cdk -c key=...`` gives a string,
    read as a JSON list or as comma-separated origins.
    """
    if value is None:
        return list(constants.DEFAULT_ATTACHMENTS_CORS_ORIGINS)
    if isinstance(value, str):
        text = value.strip()
        value = json.loads(text) if text.startswith("[") else [part.strip() for part in text.split(",")]
    if not isinstance(value, list) or not value or not all(isinstance(o, str) and o for o in value):
        raise ValueError(
            f"context {constants.ATTACHMENTS_CORS_ORIGINS_CONTEXT_KEY!r} must be a non-empty list of "
            f"origins, got {value!r}"
        )
    return value


class AttachmentsConstruct(Construct):
    """Private, TLS-only, encrypted bucket for message attachments, with server access logs."""

    def __init__(self, scope: Construct, construct_id: str, *, cors_origins: Sequence[str]) -> None:
        super().__init__(scope, construct_id)
        self.access_log_bucket = self._build_access_log_bucket()
        # SSE-S3 rather than KMS: only the API role ever reads these objects (directly or by the
        # URLs it signs), so a customer key would add no separate access boundary, only a key
        # policy to keep in sync and a KMS call (cost, throttling) per upload/download.
        # Versioned (see the module docstring). Deletes still free the bytes: the API deletes by
        # version id (no delete marker), and lifecycle rules expire what versioning would keep:
        # replaced or expired upload versions after the upload expiry (never before the record
        # that names the checked version expires), the delete markers expiry leaves, and the
        # noncurrent duplicates of a stored copy.
        # Retained: users' files must never go along with a stack deletion.
        self.bucket = secure_bucket(
            self,
            "Bucket",
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-unused-uploads",
                    prefix=bucket_layout.UPLOAD_PREFIX,
                    expiration=Duration.days(bucket_layout.UPLOAD_EXPIRY_DAYS),
                    noncurrent_version_expiration=Duration.days(bucket_layout.UPLOAD_EXPIRY_DAYS),
                ),
                s3.LifecycleRule(
                    id="remove-expired-upload-delete-markers",
                    prefix=bucket_layout.UPLOAD_PREFIX,
                    expired_object_delete_marker=True,
                ),
                s3.LifecycleRule(
                    id="expire-duplicate-stored-copies",
                    prefix=bucket_layout.STORED_PREFIX,
                    noncurrent_version_expiration=Duration.days(bucket_layout.STORED_DUPLICATE_EXPIRY_DAYS),
                ),
                s3.LifecycleRule(
                    id="abort-incomplete-multipart-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
            ],
            cors=[
                s3.CorsRule(
                    # POST: presigned POST uploads from the browser; GET: presigned downloads.
                    allowed_methods=[s3.HttpMethods.POST, s3.HttpMethods.GET],
                    allowed_origins=list(cors_origins),
                    allowed_headers=["*"],
                    max_age=constants.ATTACHMENTS_CORS_MAX_AGE_SECONDS,
                )
            ],
            server_access_logs_bucket=self.access_log_bucket,
            logs_prefix="attachments-bucket/",
        )
        # "Presigned URLs live minutes": whatever expiry a URL was signed with, S3 refuses it once
        # the signature is older than the longest lifetime the settings allow.
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DenyStalePresignedUrls",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:*"],
                resources=[self.bucket.arn_for_objects("*")],
                conditions={
                    "NumericGreaterThan": {"s3:signatureAge": constants.PRESIGNED_URL_MAX_AGE.to_milliseconds()}
                },
            )
        )

    def _build_access_log_bucket(self) -> s3.Bucket:
        # SSE-S3 (the only encryption log delivery supports), retained: audit evidence of who
        # fetched which file is kept when the stack goes.
        bucket = secure_bucket(
            self,
            "AccessLogBucket",
            lifecycle_rules=[s3.LifecycleRule(id="expire-access-logs", expiration=constants.ACCESS_LOG_RETENTION)],
        )
        Validations.of(bucket).acknowledge(
            Acknowledgment(
                id="AwsSolutions-S1",
                reason="This is the access-log bucket of the attachments bucket; logging it into "
                "itself would log its own log writes, and another log bucket would only move the gap.",
            )
        )
        return bucket

    def grant_api_access(self, function: lambda_.Function) -> None:
        """Let the API function use the two prefixes (see the action table above); name the bucket."""
        uploads = self.bucket.arn_for_objects(f"{bucket_layout.UPLOAD_PREFIX}*")
        stored = self.bucket.arn_for_objects(f"{bucket_layout.STORED_PREFIX}*")
        function.add_to_role_policy(
            iam.PolicyStatement(actions=list(API_OBJECT_READ_WRITE_ACTIONS), resources=[uploads, stored])
        )
        function.add_to_role_policy(iam.PolicyStatement(actions=list(API_UPLOAD_VERSION_ACTIONS), resources=[uploads]))
        function.add_to_role_policy(iam.PolicyStatement(actions=list(API_STORED_DELETE_ACTIONS), resources=[stored]))
        function.add_environment(Env.ATTACHMENTS_BUCKET, self.bucket.bucket_name)
        if function.role is None:  # pragma: no cover - the API function always has its own role
            raise ValueError("the API function has no role to grant bucket access to")
        bucket_id = Stack.of(self).get_logical_id(cast(CfnElement, self.bucket.node.default_child))
        Validations.of(function.role).acknowledge(
            *(
                Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{prefix}*]",
                    reason=f"Object keys under {prefix} are random ids created at run time; the "
                    "wildcard covers that one prefix only, never the whole bucket.",
                )
                for prefix in (bucket_layout.UPLOAD_PREFIX, bucket_layout.STORED_PREFIX)
            )
        )
