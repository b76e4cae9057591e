"""Security properties of the attachments bucket and of the API function's access to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk.assertions import Template
from message_center.data import bucket_layout
from message_center.settings import AttachmentSettings

from infra import constants
from infra.attachments_construct import cors_origins_from_context
from infra.stack import MessageCenterStack
from local_runtime import emulator

Resource = tuple[str, dict[str, Any]]

# The attachment routes of the contract, spelled out: the infra must expose exactly these.
ATTACHMENT_ROUTE_KEYS = {
    "POST /messaging/message-attachments",
    "PUT /messaging/message-attachments/{attachmentId}",
    "GET /messaging/message-attachments/{attachmentId}",
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _arn(bucket_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [bucket_id, "Arn"]}


def _objects_arn(bucket_id: str, pattern: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [_arn(bucket_id), f"/{pattern}"]]}


def _bucket_policy_statements(template: Template, bucket_id: str) -> list[dict[str, Any]]:
    policies = [
        policy
        for policy in template.find_resources("AWS::S3::BucketPolicy").values()
        if policy["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    assert len(policies) == 1, f"expected one bucket policy on {bucket_id}"
    return list(policies[0]["Properties"]["PolicyDocument"]["Statement"])


def _api_s3_statements(template: Template, api_function: Resource) -> list[dict[str, Any]]:
    role_id = api_function[1]["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if any(action.lower().startswith("s3:") or action == "*" for action in _as_list(statement["Action"]))
    ]


@pytest.fixture(scope="session")
def both_buckets(attachments_bucket: Resource, access_log_bucket: Resource) -> list[Resource]:
    return [attachments_bucket, access_log_bucket]


# --- the buckets --------------------------------------------------------------------------------


def test_buckets_block_every_kind_of_public_access(both_buckets: list[Resource]) -> None:
    for bucket_id, definition in both_buckets:
        # Given / When each bucket's public access block
        block = definition["Properties"]["PublicAccessBlockConfiguration"]

        # Then all four switches are on
        assert block == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, bucket_id


def test_buckets_refuse_requests_without_tls(template: Template, both_buckets: list[Resource]) -> None:
    for bucket_id, _ in both_buckets:
        # Given the bucket's policy
        statements = _bucket_policy_statements(template, bucket_id)

        # When picking the statement about plain-HTTP requests
        (insecure,) = [s for s in statements if s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}]

        # Then every principal is denied every action on the bucket and its objects, as is TLS < 1.2
        assert insecure["Effect"] == "Deny", bucket_id
        assert insecure["Principal"] == {"AWS": "*"}, bucket_id
        assert insecure["Action"] == "s3:*", bucket_id
        assert insecure["Resource"] == [_arn(bucket_id), _objects_arn(bucket_id, "*")], bucket_id
        assert any(
            s["Effect"] == "Deny" and s.get("Condition") == {"NumericLessThan": {"s3:TlsVersion": 1.2}}
            for s in statements
        ), bucket_id


def test_buckets_encrypt_at_rest(both_buckets: list[Resource]) -> None:
    for bucket_id, definition in both_buckets:
        # Given / When each bucket's default encryption
        rules = definition["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]

        # Then new objects are encrypted with S3-managed keys (log delivery supports only SSE-S3)
        assert rules == [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}], bucket_id


def test_buckets_disable_acls_and_survive_stack_deletion(both_buckets: list[Resource]) -> None:
    for bucket_id, definition in both_buckets:
        # Given / When each bucket
        props = definition["Properties"]

        # Then objects belong to the bucket owner (no ACLs) and the bucket is retained
        assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}, bucket_id
        assert definition["DeletionPolicy"] == "Retain", bucket_id
        assert definition["UpdateReplacePolicy"] == "Retain", bucket_id


def test_attachments_bucket_keeps_versions_so_a_message_copies_the_checked_one(attachments_bucket: Resource) -> None:
    # Given / When the attachments bucket
    props = attachments_bucket[1]["Properties"]

    # Then it is versioned: the version a content check read stays what it was, whatever is
    # uploaded with the same key afterwards
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}


def test_versions_no_longer_needed_expire(attachments_bucket: Resource) -> None:
    # Given the attachments bucket's lifecycle rules, by id
    rules = {rule["Id"]: rule for rule in attachments_bucket[1]["Properties"]["LifecycleConfiguration"]["Rules"]}
    uploads_expire = rules["expire-unused-uploads"]
    markers = rules["remove-expired-upload-delete-markers"]
    duplicates = rules["expire-duplicate-stored-copies"]

    # Then a replaced or expired upload version goes after the upload expiry (so the checked
    # version outlives the attachment record that names it: the record's TTL is under 48 h)
    assert uploads_expire["NoncurrentVersionExpiration"] == {"NoncurrentDays": bucket_layout.UPLOAD_EXPIRY_DAYS}
    (longest_ttl_hours,) = [
        m.le for m in AttachmentSettings.model_fields["attachment_ttl_hours"].metadata if hasattr(m, "le")
    ]
    assert longest_ttl_hours < bucket_layout.UPLOAD_EXPIRY_DAYS * 24
    # and the delete markers expiry leaves under uploads/ are removed
    assert (markers["Prefix"], markers["ExpiredObjectDeleteMarker"]) == (bucket_layout.UPLOAD_PREFIX, True)
    # and under attachments/ only noncurrent duplicates expire, never the current copy
    assert duplicates["Prefix"] == bucket_layout.STORED_PREFIX
    assert duplicates["NoncurrentVersionExpiration"] == {"NoncurrentDays": bucket_layout.STORED_DUPLICATE_EXPIRY_DAYS}
    assert "ExpirationInDays" not in duplicates


def test_attachments_bucket_refuses_stale_presigned_urls(template: Template, attachments_bucket: Resource) -> None:
    # Given the longest presigned-URL lifetime the function's settings accept
    (longest_seconds,) = [
        m.le for m in AttachmentSettings.model_fields["presigned_url_seconds"].metadata if hasattr(m, "le")
    ]
    bucket_id = attachments_bucket[0]

    # When reading the bucket policy
    statements = _bucket_policy_statements(template, bucket_id)
    (stale,) = [s for s in statements if "s3:signatureAge" in str(s.get("Condition"))]

    # Then any presigned URL older than that is denied on every object, whatever its own expiry
    assert stale["Effect"] == "Deny"
    assert stale["Principal"] == {"AWS": "*"}
    assert stale["Action"] == "s3:*"
    assert stale["Resource"] == _objects_arn(bucket_id, "*")
    assert stale["Condition"] == {"NumericGreaterThan": {"s3:signatureAge": longest_seconds * 1000}}
    assert longest_seconds <= 3600  # minutes, not days


def test_unused_uploads_expire_and_incomplete_multipart_uploads_are_aborted(
    attachments_bucket: Resource,
) -> None:
    # Given the attachments bucket's lifecycle rules
    rules = attachments_bucket[1]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert all(rule["Status"] == "Enabled" for rule in rules)

    # When picking the expiring rules and the multipart rule
    expiring = [rule for rule in rules if "ExpirationInDays" in rule or "ExpirationDate" in rule]
    (multipart,) = [rule for rule in rules if "AbortIncompleteMultipartUpload" in rule]

    # Then only objects under the upload prefix expire, after the layout's days; stored attachments never do
    assert [(rule.get("Prefix"), rule.get("ExpirationInDays")) for rule in expiring] == [
        (bucket_layout.UPLOAD_PREFIX, bucket_layout.UPLOAD_EXPIRY_DAYS)
    ]
    assert "Filter" not in expiring[0]
    assert "TagFilters" not in expiring[0]
    # and unfinished multipart uploads anywhere in the bucket are aborted after a day
    assert multipart["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert "Prefix" not in multipart
    assert "TagFilters" not in multipart


def test_cors_allows_presigned_post_uploads_and_get_downloads(attachments_bucket: Resource) -> None:
    # Given / When the attachments bucket's CORS rules (no context: the default origins)
    (rule,) = attachments_bucket[1]["Properties"]["CorsConfiguration"]["CorsRules"]

    # Then browsers may POST (upload form) and GET (download) from any origin; nothing else
    assert sorted(rule["AllowedMethods"]) == ["GET", "POST"]
    assert rule["AllowedOrigins"] == ["*"]
    assert rule["AllowedHeaders"] == ["*"]
    assert rule["MaxAge"] == 3000


def test_cors_origins_come_from_context(synth_stack: Callable[..., MessageCenterStack]) -> None:
    # Given a deployment that names its web origins in the CDK context
    origins = ["https://allegro.pl", "https://allegro.cz"]
    stack = synth_stack(**{constants.ATTACHMENTS_CORS_ORIGINS_CONTEXT_KEY: origins})

    # When synthesizing it
    buckets = Template.from_stack(stack).find_resources("AWS::S3::Bucket")

    # Then the bucket with CORS allows exactly those origins
    (rule,) = [
        rule
        for bucket in buckets.values()
        for rule in bucket["Properties"].get("CorsConfiguration", {}).get("CorsRules", [])
    ]
    assert rule["AllowedOrigins"] == origins


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ["*"]),
        (["https://allegro.pl"], ["https://allegro.pl"]),
        ('["https://allegro.pl", "https://allegro.sk"]', ["https://allegro.pl", "https://allegro.sk"]),
        ("https://allegro.pl, https://allegro.hu", ["https://allegro.pl", "https://allegro.hu"]),
    ],
)
def test_cors_origins_context_value_forms(value: Any, expected: list[str]) -> None:
    # Given a context value as cdk.json (list) or `cdk -c` (string) gives it
    # When / Then it is read as a list of origins
    assert cors_origins_from_context(value) == expected


@pytest.mark.parametrize("value", [[], "", [""], [1], {"origin": "*"}])
def test_cors_origins_context_rejects_nonsense(value: Any) -> None:
    with pytest.raises(ValueError, match=constants.ATTACHMENTS_CORS_ORIGINS_CONTEXT_KEY):
        cors_origins_from_context(value)


def test_attachments_bucket_logs_access_to_the_log_bucket(
    template: Template, attachments_bucket: Resource, access_log_bucket: Resource
) -> None:
    # Given the attachments bucket's logging configuration
    logging = attachments_bucket[1]["Properties"]["LoggingConfiguration"]
    log_bucket_id = access_log_bucket[0]

    # When reading the log bucket's policy
    statements = _bucket_policy_statements(template, log_bucket_id)
    deliveries = [s for s in statements if s["Effect"] == "Allow"]
    sources = [d["Condition"]["ArnLike"]["aws:SourceArn"] for d in deliveries]

    # Then logs go to a separate bucket that only S3 log delivery may write to, for named source
    # buckets only (this one, and the inbound-mail bucket that logs here too)
    assert log_bucket_id != attachments_bucket[0]
    assert logging["DestinationBucketName"] == {"Ref": log_bucket_id}
    for delivery in deliveries:
        assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
        assert delivery["Action"] == "s3:PutObject"
    assert _arn(attachments_bucket[0]) in sources
    assert all(set(source) == {"Fn::GetAtt"} for source in sources)
    # and the logs expire eventually
    (retention,) = access_log_bucket[1]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert retention["ExpirationInDays"] == constants.ACCESS_LOG_RETENTION.to_days()


# --- the API function's access ------------------------------------------------------------------


def test_api_role_may_use_only_the_two_prefixes(
    template: Template, api_function: Resource, attachments_bucket: Resource
) -> None:
    # Given every S3 statement of the API function's role
    statements = _api_s3_statements(template, api_function)
    bucket_id = attachments_bucket[0]
    uploads = _objects_arn(bucket_id, f"{bucket_layout.UPLOAD_PREFIX}*")
    stored = _objects_arn(bucket_id, f"{bucket_layout.STORED_PREFIX}*")

    # When expanding them into (action, resource) grants
    grants = set()
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert set(statement) == {"Effect", "Action", "Resource"}  # no NotAction/NotResource/conditions
        for action in _as_list(statement["Action"]):
            for resource in _as_list(statement["Resource"]):
                assert resource in (uploads, stored), resource  # never the bucket, never bucket/*
                grants.add((action, "uploads" if resource == uploads else "attachments"))

    # Then it reads and writes both prefixes, reads upload versions (the checked one is copied
    # and downloaded), and deletes only versions of stored copies (a refused send's own); no
    # plain delete, nothing else
    assert grants == {
        ("s3:GetObject", "uploads"),
        ("s3:GetObjectVersion", "uploads"),
        ("s3:PutObject", "uploads"),
        ("s3:GetObject", "attachments"),
        ("s3:PutObject", "attachments"),
        ("s3:DeleteObjectVersion", "attachments"),
    }


def test_api_role_has_no_bucket_wide_or_listing_permission(template: Template, api_function: Resource) -> None:
    # Given every statement of the API function's role
    role_id = api_function[1]["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]

    # When collecting its actions and S3 resources
    actions = {action for statement in statements for action in _as_list(statement["Action"])}
    s3_resources = [
        resource
        for statement in statements
        if any(action.startswith("s3:") for action in _as_list(statement["Action"]))
        for resource in _as_list(statement["Resource"])
    ]

    # Then no wildcard S3 action, no listing, and no S3 resource that is "*" or ends in a bare "/*"
    assert "*" not in actions
    assert not {a for a in actions if a.startswith("s3:") and ("*" in a or a.startswith("s3:List"))}
    assert s3_resources
    for resource in s3_resources:
        tail = resource if isinstance(resource, str) else resource["Fn::Join"][1][-1]
        assert tail not in {"*", "/*"}, resource
        assert not tail.endswith(("::*", ":*")), resource


def test_api_function_is_told_the_bucket_name(api_function: Resource, attachments_bucket: Resource) -> None:
    # Given / When the API function's environment
    variables = api_function[1]["Properties"]["Environment"]["Variables"]

    # Then ATTACHMENTS_BUCKET names the attachments bucket (not the log bucket, not a literal)
    assert variables["ATTACHMENTS_BUCKET"] == {"Ref": attachments_bucket[0]}


def test_attachment_routes_are_jwt_authorized_routes_of_the_api(template: Template) -> None:
    # Given / When the synthesized routes
    routes = {
        route["Properties"]["RouteKey"]: route["Properties"]
        for route in template.find_resources("AWS::ApiGatewayV2::Route").values()
    }

    # Then each attachment route exists and needs a token
    for route_key in ATTACHMENT_ROUTE_KEYS:
        assert routes[route_key]["AuthorizationType"] == "JWT", route_key


# --- the same bucket locally --------------------------------------------------------------------


def test_local_bucket_has_the_deployed_lifecycle_rules(attachments_bucket: Resource) -> None:
    # Given the deployed rules and the rules the local runtime puts on its bucket
    deployed = attachments_bucket[1]["Properties"]["LifecycleConfiguration"]["Rules"]
    local = emulator.attachments_lifecycle_configuration()["Rules"]

    # When rewriting the local (S3 API) rules in CloudFormation's shape
    as_cloudformation = [
        {
            "Id": rule["ID"],
            "Status": rule["Status"],
            **({"Prefix": rule["Filter"]["Prefix"]} if rule["Filter"]["Prefix"] else {}),
            **({"ExpirationInDays": rule["Expiration"]["Days"]} if "Days" in rule.get("Expiration", {}) else {}),
            **(
                {"ExpiredObjectDeleteMarker": rule["Expiration"]["ExpiredObjectDeleteMarker"]}
                if "ExpiredObjectDeleteMarker" in rule.get("Expiration", {})
                else {}
            ),
            **(
                {"NoncurrentVersionExpiration": rule["NoncurrentVersionExpiration"]}
                if "NoncurrentVersionExpiration" in rule
                else {}
            ),
            **(
                {"AbortIncompleteMultipartUpload": rule["AbortIncompleteMultipartUpload"]}
                if "AbortIncompleteMultipartUpload" in rule
                else {}
            ),
        }
        for rule in local
    ]

    # Then they are the same rules
    assert as_cloudformation == deployed


def test_local_bucket_has_the_deployed_cors_rule(attachments_bucket: Resource) -> None:
    # Given the deployed CORS rule (default origins) and the local one
    (deployed,) = attachments_bucket[1]["Properties"]["CorsConfiguration"]["CorsRules"]
    (local,) = emulator.attachments_cors_configuration()["CORSRules"]

    # When / Then a browser is allowed the same things by both
    assert sorted(local["AllowedMethods"]) == sorted(deployed["AllowedMethods"])
    assert local["AllowedOrigins"] == deployed["AllowedOrigins"]
    assert local["AllowedHeaders"] == deployed["AllowedHeaders"]
    assert local["MaxAgeSeconds"] == deployed["MaxAge"]
