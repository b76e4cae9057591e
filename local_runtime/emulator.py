"""The embedded AWS emulator (moto server) and the resources the Message Center needs in it."""

from __future__ import annotations

import logging
import secrets
import socket
from dataclasses import dataclass
from typing import Any

import boto3
import requests
from botocore.config import Config
from message_center.data.bucket_layout import (
    STORED_DUPLICATE_EXPIRY_DAYS,
    STORED_PREFIX,
    UPLOAD_EXPIRY_DAYS,
    UPLOAD_PREFIX,
)
from message_center.data.realtime_items import REALTIME_TTL_ATTRIBUTE, create_realtime_table_request
from message_center.data.schema import create_table_request
from message_center.deployment import (
    IDEMPOTENCY_KEY_ATTRIBUTE,
    IDEMPOTENCY_TTL_ATTRIBUTE,
    INBOUND_MAIL,
    WEB_CLIENT_ROUTES,
)
from message_center.settings import (
    ApiSettings,
    DirectorySettings,
    InboundMailSettings,
    RealtimeEventsSettings,
    RealtimeSettings,
    StreamSettings,
)
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from local_runtime import moto_fixes
from local_runtime.in_process import InProcessEmulator
from local_runtime.moto_fixes import DynamoDBFixes
from local_runtime.state import RuntimeState

DEFAULT_REGION = "eu-central-1"
DEFAULT_TABLE_NAME = "MessageCenter"
DEFAULT_ATTACHMENTS_BUCKET = "message-center-attachments-local"
# Raw inbound mail, as SES's S3 action stores it (here: the local SMTP server), under this prefix.
DEFAULT_INBOUND_MAIL_BUCKET = "message-center-inbound-mail-local"
INBOUND_MAIL_PREFIX = INBOUND_MAIL.prefix
# Powertools idempotency records of the notification channels.
IDEMPOTENCY_TABLE_NAME = "MessageCenterIdempotency"
# Real time: WebSocket connections and the users' event feeds (TTL on expiresAt).
REALTIME_TABLE_NAME = "MessageCenterRealtime"
# Where the real-time handlers post to connections until the local runtime serves the WebSocket
# management API itself (then it passes its own URL): nothing listens here, and without a
# WebSocket server no connection exists to post to.
UNSERVED_WEBSOCKET_MANAGEMENT_URL = "http://127.0.0.1:9/websocket-management-not-served"
# Domain of the masked relay addresses; verified in SES (moto refuses to send from unverified sources).
RELAY_DOMAIN = "relay.message-center.test"
# HMAC key of the signed reply addresses.
MAIL_TOKEN_SECRET_NAME = "message-center/mail-token-key"  # noqa: S105  # a name, not a secret
# SNS mobile push platform applications, with dummy credentials (the emulator accepts any).
APNS_APPLICATION_NAME = "message-center-apns"
FCM_APPLICATION_NAME = "message-center-fcm"
USER_POOL_NAME = "message-center-local"
USER_POOL_CLIENT_NAME = "message-center-local-api"
# How a client must be configured for its presigned URLs to reach the emulator (see s3_client).
S3_CLIENT_CONFIG = Config(signature_version="s3v4", s3={"addressing_style": "path"})
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


@dataclass(frozen=True)
class Resources:
    table_name: str
    user_pool_id: str
    user_pool_client_id: str
    attachments_bucket: str
    idempotency_table_name: str
    relay_domain: str
    mail_token_secret_arn: str
    push_apns_application_arn: str
    push_fcm_application_arn: str
    inbound_mail_bucket: str = DEFAULT_INBOUND_MAIL_BUCKET
    realtime_table_name: str = REALTIME_TABLE_NAME


class AwsEmulator:
    """A moto server on ``host:port`` (port 0: any free port), started with a clean slate, with
    moto's DynamoDB fixed for long runs under load while it runs (see ``local_runtime.moto_fixes``),
    and serving this process's own boto3 calls without a socket (see ``local_runtime.in_process``)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._server: ThreadedMotoServer | None = None
        self.dynamodb_fixes = DynamoDBFixes()
        self._in_process: InProcessEmulator | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the AWS emulator is not running")
        return self._server.get_host_and_port()[1]

    @property
    def endpoint_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def start(self) -> int:
        """Start serving in a daemon thread; return the bound port."""
        # werkzeug logs every request moto serves: keep the runtime's output readable.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        if self._port:
            _ensure_free(self._host, self._port)
        self._server = ThreadedMotoServer(ip_address=self._host, port=self._port, verbose=False)
        self._server.start()
        # moto's backends are process-wide: a runtime started earlier in this process (tests)
        # must not leak its tables and users into this one.
        requests.post(f"{self.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()
        self.dynamodb_fixes.install()  # after the reset, which would track DynamoDB models again
        assert self._server._server is not None  # set once started
        self._in_process = InProcessEmulator(self._server._server, self._host)
        self._in_process.install()
        return self.port

    def stop(self) -> None:
        if self._in_process is not None:
            self._in_process.uninstall()
            self._in_process = None
        self.dynamodb_fixes.uninstall()
        if self._server is None:
            return
        self._server.stop()
        # ThreadedMotoServer.stop() shuts the loop down but leaves the socket open.
        if self._server._server is not None:
            self._server._server.server_close()
        self._server = None


def _ensure_free(host: str, port: int) -> None:
    # ThreadedMotoServer binds in its own thread and waits forever if that fails: fail here instead.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def client(service: str, endpoint_url: str | None, region: str) -> Any:
    """A boto3 client for the emulator, independent of the caller's AWS configuration
    (``endpoint_url`` None: moto mocking this process, as in the tests)."""
    return boto3.session.Session(
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=DUMMY_CREDENTIALS["AWS_SESSION_TOKEN"],
        region_name=region,
    ).client(service, endpoint_url=endpoint_url)  # type: ignore[call-overload]  # service chosen at run time


def s3_client(endpoint_url: str | None, region: str) -> Any:
    """An S3 client whose presigned URLs work against the emulator.

    SigV4 and path-style addressing (``http://host:port/bucket/key``): the emulator answers on one
    host, so virtual-hosted URLs (``bucket.localhost``) would not resolve. botocore picks path style
    for an IP endpoint anyway; saying so keeps ``localhost`` endpoints working too.
    """
    return boto3.session.Session(
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=DUMMY_CREDENTIALS["AWS_SESSION_TOKEN"],
        region_name=region,
    ).client("s3", endpoint_url=endpoint_url, config=S3_CLIENT_CONFIG)


# What the deployed bucket has (infra/attachments_construct.py; tests/infra compare the two).
def attachments_lifecycle_configuration() -> dict[str, Any]:
    """Unused uploads (and their replaced versions and delete markers) expire; duplicate stored
    copies expire once noncurrent; incomplete multipart uploads are aborted after a day."""
    return {
        "Rules": [
            {
                "ID": "expire-unused-uploads",
                "Filter": {"Prefix": UPLOAD_PREFIX},
                "Status": "Enabled",
                "Expiration": {"Days": UPLOAD_EXPIRY_DAYS},
                "NoncurrentVersionExpiration": {"NoncurrentDays": UPLOAD_EXPIRY_DAYS},
            },
            {
                "ID": "remove-expired-upload-delete-markers",
                "Filter": {"Prefix": UPLOAD_PREFIX},
                "Status": "Enabled",
                "Expiration": {"ExpiredObjectDeleteMarker": True},
            },
            {
                "ID": "expire-duplicate-stored-copies",
                "Filter": {"Prefix": STORED_PREFIX},
                "Status": "Enabled",
                "NoncurrentVersionExpiration": {"NoncurrentDays": STORED_DUPLICATE_EXPIRY_DAYS},
            },
            {
                "ID": "abort-incomplete-multipart-uploads",
                "Filter": {"Prefix": ""},
                "Status": "Enabled",
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
            },
        ]
    }


def attachments_cors_configuration() -> dict[str, Any]:
    """Browser uploads by presigned POST and downloads by presigned GET, from any origin."""
    return {
        "CORSRules": [
            {
                "AllowedMethods": ["POST", "GET"],
                "AllowedOrigins": ["*"],
                "AllowedHeaders": ["*"],
                "MaxAgeSeconds": 3000,
            }
        ]
    }


def _private_bucket(endpoint_url: str | None, region: str, bucket: str) -> Any:
    """Create ``bucket`` like the stack does: no public access, encrypted at rest. Returns the client."""
    s3 = s3_client(endpoint_url, region)
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **location)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    return s3


def provision_attachments_bucket(endpoint_url: str | None, region: str, bucket: str) -> None:
    """The attachments bucket: private, encrypted, versioned (a message copies the checked
    version of an upload), with the deployed lifecycle rules and CORS."""
    s3 = _private_bucket(endpoint_url, region, bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=attachments_lifecycle_configuration())
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=attachments_cors_configuration())


def provision_inbound_mail_bucket(endpoint_url: str | None, region: str, bucket: str) -> None:
    """The bucket SES's S3 action writes raw inbound mail to: private, encrypted, raw mail expiring."""
    s3 = _private_bucket(endpoint_url, region, bucket)
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "expire-raw-inbound-mail",
                    "Filter": {"Prefix": INBOUND_MAIL_PREFIX},
                    "Status": "Enabled",
                    "Expiration": {"Days": INBOUND_MAIL.retention_days},
                }
            ]
        },
    )


def provision(
    endpoint_url: str | None,
    region: str,
    table_name: str = DEFAULT_TABLE_NAME,
    attachments_bucket: str = DEFAULT_ATTACHMENTS_BUCKET,
    inbound_mail_bucket: str = DEFAULT_INBOUND_MAIL_BUCKET,
    *,
    mail_token_key: str | None = None,
) -> Resources:
    """Create everything the functions use: the table, the attachments bucket, the inbound mail
    bucket, the Cognito user pool with its app client, and the notification resources (see
    ``provision_notifications``). The one provisioning routine: ``serve`` runs it against the
    emulator, the tests and the benchmarks against moto in their own process (``endpoint_url``
    None)."""
    client("dynamodb", endpoint_url, region).create_table(**create_table_request(table_name))
    provision_realtime_table(endpoint_url, region)
    provision_attachments_bucket(endpoint_url, region, attachments_bucket)
    provision_inbound_mail_bucket(endpoint_url, region, inbound_mail_bucket)
    cognito = client("cognito-idp", endpoint_url, region)
    pool = cognito.create_user_pool(
        PoolName=USER_POOL_NAME,
        # The username is the marketplace login; e-mail is an attribute, not a sign-in alias.
        Schema=[{"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True}],
        AutoVerifiedAttributes=["email"],
        UsernameConfiguration={"CaseSensitive": False},
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        # As in infra/identity_construct.py, so a password that works here works there.
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 12,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": True,
                "TemporaryPasswordValidityDays": 3,
            }
        },
    )["UserPool"]
    app_client = cognito.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName=USER_POOL_CLIENT_NAME,
        GenerateSecret=False,
        # The deployed client allows SRP only; locally `message-center token` signs in with the admin flow,
        # and the web client with USER_PASSWORD_AUTH: moto accepts any SRP password proof (local_runtime.web).
        ExplicitAuthFlows=[
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ],
    )["UserPoolClient"]
    notifications = provision_notifications(endpoint_url, region, mail_token_key=mail_token_key)
    return Resources(
        table_name,
        pool["Id"],
        app_client["ClientId"],
        attachments_bucket,
        **notifications,
        inbound_mail_bucket=inbound_mail_bucket,
    )


def provision_realtime_table(endpoint_url: str | None, region: str, table_name: str = REALTIME_TABLE_NAME) -> None:
    """The connections/event-feed table, with TTL (as infra/realtime_construct.py creates it)."""
    dynamodb = client("dynamodb", endpoint_url, region)
    dynamodb.create_table(**create_realtime_table_request(table_name))
    dynamodb.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": REALTIME_TTL_ATTRIBUTE}
    )


def provision_notifications(
    endpoint_url: str | None, region: str, *, mail_token_key: str | None = None
) -> dict[str, str]:
    """The notification pipeline's resources; returns the matching ``Resources`` fields.

    - the Powertools idempotency table (``id`` key, TTL on ``expiration``, on demand);
    - the relay domain verified in SES, so that mail from any relay address is accepted;
    - the Secrets Manager secret with a fresh random HMAC key for signed reply addresses;
    - an APNs (sandbox) and an FCM platform application for SNS mobile push.
    """
    dynamodb = client("dynamodb", endpoint_url, region)
    dynamodb.create_table(
        TableName=IDEMPOTENCY_TABLE_NAME,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": IDEMPOTENCY_KEY_ATTRIBUTE, "AttributeType": "S"}],
        KeySchema=[{"AttributeName": IDEMPOTENCY_KEY_ATTRIBUTE, "KeyType": "HASH"}],
    )
    dynamodb.update_time_to_live(
        TableName=IDEMPOTENCY_TABLE_NAME,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": IDEMPOTENCY_TTL_ATTRIBUTE},
    )
    client("ses", endpoint_url, region).verify_domain_identity(Domain=RELAY_DOMAIN)
    secret = client("secretsmanager", endpoint_url, region).create_secret(
        Name=MAIL_TOKEN_SECRET_NAME,
        Description="HMAC key of the signed reply addresses (local runtime: random per start)",
        SecretString=mail_token_key or secrets.token_urlsafe(48),  # 64 characters
    )
    sns = client("sns", endpoint_url, region)
    apns = sns.create_platform_application(
        Name=APNS_APPLICATION_NAME,
        Platform="APNS_SANDBOX",
        Attributes={"PlatformCredential": "local-dummy-key", "PlatformPrincipal": "local-dummy-certificate"},
    )
    fcm = sns.create_platform_application(
        Name=FCM_APPLICATION_NAME, Platform="GCM", Attributes={"PlatformCredential": "local-dummy-server-key"}
    )
    return {
        "idempotency_table_name": IDEMPOTENCY_TABLE_NAME,
        "relay_domain": RELAY_DOMAIN,
        "mail_token_secret_arn": secret["ARN"],
        "push_apns_application_arn": apns["PlatformApplicationArn"],
        "push_fcm_application_arn": fcm["PlatformApplicationArn"],
    }


def resources_of(running: RuntimeState) -> Resources:
    """The resources a running local runtime's state names."""
    return Resources(
        running.table_name,
        running.user_pool_id,
        running.user_pool_client_id,
        running.attachments_bucket,
        running.idempotency_table_name,
        running.relay_domain,
        running.mail_token_secret_arn,
        running.push_apns_application_arn,
        running.push_fcm_application_arn,
        running.inbound_mail_bucket,
    )


def find_resources(
    endpoint_url: str,
    region: str,
    table_name: str = DEFAULT_TABLE_NAME,
    attachments_bucket: str = DEFAULT_ATTACHMENTS_BUCKET,
) -> Resources:
    """The resources ``provision`` created in a running emulator, found by name."""
    cognito = client("cognito-idp", endpoint_url, region)
    pools = [p for p in cognito.list_user_pools(MaxResults=60)["UserPools"] if p["Name"] == USER_POOL_NAME]
    if not pools:
        raise LookupError(f"no user pool {USER_POOL_NAME!r} at {endpoint_url}")
    clients = cognito.list_user_pool_clients(UserPoolId=pools[0]["Id"], MaxResults=60)["UserPoolClients"]
    matching = [c for c in clients if c["ClientName"] == USER_POOL_CLIENT_NAME]
    if not matching:
        raise LookupError(f"no app client {USER_POOL_CLIENT_NAME!r} at {endpoint_url}")
    buckets = {bucket["Name"] for bucket in s3_client(endpoint_url, region).list_buckets()["Buckets"]}
    if attachments_bucket not in buckets:
        raise LookupError(f"no attachments bucket {attachments_bucket!r} at {endpoint_url}")
    return Resources(
        table_name,
        pools[0]["Id"],
        matching[0]["ClientId"],
        attachments_bucket,
        **_find_notifications(endpoint_url, region),
    )


def _find_notifications(endpoint_url: str, region: str) -> dict[str, str]:
    if IDEMPOTENCY_TABLE_NAME not in client("dynamodb", endpoint_url, region).list_tables()["TableNames"]:
        raise LookupError(f"no idempotency table {IDEMPOTENCY_TABLE_NAME!r} at {endpoint_url}")
    secrets_manager = client("secretsmanager", endpoint_url, region)
    try:
        secret_arn = secrets_manager.describe_secret(SecretId=MAIL_TOKEN_SECRET_NAME)["ARN"]
    except secrets_manager.exceptions.ResourceNotFoundException:
        raise LookupError(f"no secret {MAIL_TOKEN_SECRET_NAME!r} at {endpoint_url}") from None
    applications = {
        application["PlatformApplicationArn"].rpartition("/")[2]: application["PlatformApplicationArn"]
        for application in client("sns", endpoint_url, region).list_platform_applications()["PlatformApplications"]
    }
    for name in (APNS_APPLICATION_NAME, FCM_APPLICATION_NAME):
        if name not in applications:
            raise LookupError(f"no SNS platform application {name!r} at {endpoint_url}")
    return {
        "idempotency_table_name": IDEMPOTENCY_TABLE_NAME,
        "relay_domain": RELAY_DOMAIN,
        "mail_token_secret_arn": secret_arn,
        "push_apns_application_arn": applications[APNS_APPLICATION_NAME],
        "push_fcm_application_arn": applications[FCM_APPLICATION_NAME],
    }


def issuer(region: str, user_pool_id: str) -> str:
    """The ``iss`` of the pool's tokens (moto issues the real Cognito URL)."""
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def jwks_url(endpoint_url: str, user_pool_id: str) -> str:
    """Where the emulator publishes the pool's signing keys."""
    return f"{endpoint_url}/{user_pool_id}/.well-known/jwks.json"


def issue_tokens(endpoint_url: str, region: str, resources: Resources, login: str, password: str) -> dict[str, str]:
    """Sign ``login`` in (ADMIN_USER_PASSWORD_AUTH) and return Cognito's AuthenticationResult."""
    result = client("cognito-idp", endpoint_url, region).admin_initiate_auth(
        UserPoolId=resources.user_pool_id,
        ClientId=resources.user_pool_client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": login, "PASSWORD": password},
    )
    tokens: dict[str, str] = result["AuthenticationResult"]
    return tokens


@dataclass(frozen=True)
class FunctionSettings:
    """Each function's settings, naming the emulator's resources (as the stack names the real ones)."""

    api: ApiSettings
    stream: StreamSettings
    inbound_mail: InboundMailSettings
    directory: DirectorySettings
    realtime: RealtimeSettings
    realtime_events: RealtimeEventsSettings


def function_settings(
    endpoint_url: str | None,
    region: str,
    resources: Resources,
    api_url: str,
    *,
    translation_providers: str = "dev",
    websocket_management_url: str = UNSERVED_WEBSOCKET_MANAGEMENT_URL,
) -> FunctionSettings:
    """The settings the deployed functions get from the stack, pointed at the emulator.

    ``endpoint_url``: the emulator's URL (None: moto in this process, as the tests run it).
    ``api_url`` is the local gateway's URL (known once it is bound): it serves the web client at
    ``/`` as well, so e-mails link to it (``PUBLIC_WEB_URL``). ``websocket_management_url``: the
    WebSocket management API the real-time handlers post to.
    """
    channel: dict[str, Any] = {
        "realtime_table_name": resources.realtime_table_name,
        "websocket_management_url": websocket_management_url,
    }
    core: dict[str, Any] = {"region": region, "aws_endpoint_url": endpoint_url, "table_name": resources.table_name}
    push: dict[str, Any] = {
        "push_apns_application_arn": resources.push_apns_application_arn,
        "push_fcm_application_arn": resources.push_fcm_application_arn,
    }
    replies: dict[str, Any] = {
        "relay_domain": resources.relay_domain,
        "mail_token_secret_id": resources.mail_token_secret_arn,
    }
    return FunctionSettings(
        api=ApiSettings(
            **core,
            **push,
            attachments_bucket=resources.attachments_bucket,
            translation_providers=translation_providers,
            realtime_table_name=resources.realtime_table_name,
        ),
        stream=StreamSettings(
            **core,
            **push,
            **replies,
            translation_providers=translation_providers,
            idempotency_table_name=resources.idempotency_table_name,
            # The gateway serves the web client at / (same origin as the API).
            public_web_url=api_url,
            notification_settings_url=f"{api_url}{WEB_CLIENT_ROUTES.settings}",
        ),
        inbound_mail=InboundMailSettings(
            **core,
            **replies,
            attachments_bucket=resources.attachments_bucket,
            inbound_mail_bucket=resources.inbound_mail_bucket,
            inbound_mail_prefix=INBOUND_MAIL_PREFIX,
        ),
        directory=DirectorySettings(**core, user_pool_id=resources.user_pool_id),
        realtime=RealtimeSettings(
            **core,
            **channel,
            token_issuer=issuer(region, resources.user_pool_id),
            token_audiences=resources.user_pool_client_id,
            # In-process moto answers the issuer's own JWKS URL; the emulator serves it under its endpoint.
            token_jwks_url=jwks_url(endpoint_url, resources.user_pool_id) if endpoint_url else None,
        ),
        realtime_events=RealtimeEventsSettings(
            **core, **channel, translation_providers=translation_providers, public_web_url=api_url
        ),
    )


def moto_data(endpoint_url: str, timeout: float = 10.0) -> dict[str, Any]:
    """The emulator's whole state as ``GET /moto-api/data.json`` reports it (service → model → instances)."""
    response = requests.get(f"{endpoint_url}/moto-api/data.json", timeout=timeout)
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


# What the local outbox reads of each model (see local_runtime.outbox for the document's shape).
_SENT_EMAIL_FIELDS = {
    "RawMessage": ("id", "source", "destinations", "raw_data"),
    "Message": ("id", "source", "destinations", "subject", "body"),
    "TemplateMessage": ("id", "source", "destinations", "template", "template_data"),
}
_PUSH_ENDPOINT_FIELDS = ("arn", "token", "custom_user_data", "enabled", "attributes")


class SentMessages:
    """What SES sent and SNS published to devices in this process's emulator, as new parts of a
    ``/moto-api/data.json`` document (``{"ses": {...}, "sns": {"PlatformEndpoint": [...]}}``, the
    fields the local outbox reads), taken straight from moto's models.

    Each call returns only what was sent since the previous one (every e-mail once; each device
    endpoint with the messages published to it since), so the outbox's work after a stream batch
    is proportional to that batch; ``data.json`` instead serialises the whole emulator (every
    service, every model) on each request. Not thread-safe: one caller at a time (the outbox).
    """

    def __init__(self) -> None:
        # model name → (the instance list read, how many of it were read); moto's reset replaces lists.
        self._emails_read: dict[str, tuple[int, int]] = {}
        self._pushes_read: dict[str, int] = {}  # endpoint ARN → messages read

    def __call__(self) -> dict[str, Any]:
        from moto.core.model_instances import model_data

        ses: dict[str, list[dict[str, Any]]] = {}
        for name, fields in _SENT_EMAIL_FIELDS.items():
            instances = self._unread(name, getattr(model_data["ses"].get(name), "instances_tracked", []))
            ses[name] = [{field: getattr(instance, field, None) for field in fields} for instance in instances]
        endpoints = []
        tracked = getattr(model_data["sns"].get("PlatformEndpoint"), "instances_tracked", [])
        for endpoint in list(tracked):
            messages = list(endpoint.messages.items())
            read = self._pushes_read.get(endpoint.arn, 0)
            if len(messages) <= read:
                continue
            self._pushes_read[endpoint.arn] = len(messages)
            endpoints.append(
                {
                    **{field: getattr(endpoint, field, None) for field in _PUSH_ENDPOINT_FIELDS},
                    "messages": dict(messages[read:]),
                }
            )
        return {"ses": ses, "sns": {"PlatformEndpoint": endpoints}}

    def _unread(self, name: str, instances: list[Any]) -> list[Any]:
        listed, read = self._emails_read.get(name, (0, 0))
        if listed != id(instances):
            read = 0
        current = list(instances)
        self._emails_read[name] = (id(instances), len(current))
        return current[read:]


def prune_stream_iterators(keep: int = 100) -> int:
    """Forget all but the ``keep`` newest DynamoDB Streams shard iterators of the in-process emulator.

    moto keeps every iterator it ever handed out (each ``GetRecords`` returns a new one) and lists
    them all in ``/moto-api/data.json``: polling a stream every 200 ms would add 18,000 a hour, grow
    the process by megabytes and make ``data.json`` (the local outbox's source) slower and slower.
    A poller only ever uses its newest iterator. Best effort: reaches into moto's internals, so any
    surprise there is logged once and pruning stops. Returns how many were dropped.
    """
    if _pruning["failed"]:
        return 0
    try:
        from moto.core.model_instances import model_data
        from moto.dynamodbstreams.models import dynamodbstreams_backends

        dropped = 0
        with moto_fixes.serialised:  # no GetRecords adds one meanwhile
            for account_backends in list(dynamodbstreams_backends.values()):
                for backend in list(account_backends.values()):
                    iterators = backend.shard_iterators
                    stale = list(iterators)[:-keep] if keep else list(iterators)
                    for arn in stale:
                        iterators.pop(arn, None)
                    dropped += len(stale)
        tracked = model_data.get("dynamodbstreams", {}).get("ShardIterator")
        if tracked is not None:
            instances = tracked.instances_tracked  # type: ignore[attr-defined]
            del instances[: max(0, len(instances) - keep)]
        return dropped
    except Exception:  # moto's internals changed: keep running, just without pruning
        _pruning["failed"] = True
        logging.getLogger(__name__).warning("cannot prune the emulator's stream iterators", exc_info=True)
        return 0


_pruning = {"failed": False}


def housekeeping() -> None:
    """Now and then between stream polls: keep the emulator's stream iterators and the stream
    records already read from piling up (see ``prune_stream_iterators`` and
    ``moto_fixes.trim_read_stream_records``)."""
    prune_stream_iterators(keep=10)  # the poller only ever uses its newest one
    moto_fixes.trim_read_stream_records()
