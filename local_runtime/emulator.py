"""The embedded AWS emulator (moto server) and the resources the Message Center needs in it."""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from typing import Any

import boto3
import requests
from botocore.config import Config
from message_center.data import bucket_layout
from message_center.data.schema import create_table_request
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

DEFAULT_REGION = "eu-central-1"
DEFAULT_TABLE_NAME = "MessageCenter"
DEFAULT_ATTACHMENTS_BUCKET = "message-center-attachments-local"
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


class AwsEmulator:
    """A moto server on ``host:port`` (port 0: any free port), started with a clean slate."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._server: ThreadedMotoServer | None = None

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
        return self.port

    def stop(self) -> None:
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


def client(service: str, endpoint_url: str, region: str) -> Any:
    """A boto3 client for the emulator, independent of the caller's AWS configuration."""
    return boto3.session.Session(
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=DUMMY_CREDENTIALS["AWS_SESSION_TOKEN"],
        region_name=region,
    ).client(service, endpoint_url=endpoint_url)  # type: ignore[call-overload]  # service chosen at run time


def s3_client(endpoint_url: str, region: str) -> Any:
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
    """Unused uploads expire; incomplete multipart uploads are aborted after a day."""
    return {
        "Rules": [
            {
                "ID": "expire-unused-uploads",
                "Filter": {"Prefix": bucket_layout.UPLOAD_PREFIX},
                "Status": "Enabled",
                "Expiration": {"Days": bucket_layout.UPLOAD_EXPIRY_DAYS},
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


def provision_attachments_bucket(endpoint_url: str, region: str, bucket: str) -> None:
    """The attachments bucket: private, encrypted, with the deployed lifecycle rules and CORS."""
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
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration=attachments_lifecycle_configuration()
    )
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=attachments_cors_configuration())


def provision(
    endpoint_url: str,
    region: str,
    table_name: str,
    attachments_bucket: str = DEFAULT_ATTACHMENTS_BUCKET,
) -> Resources:
    """Create the table, the attachments bucket and the Cognito user pool with its app client."""
    client("dynamodb", endpoint_url, region).create_table(**create_table_request(table_name))
    provision_attachments_bucket(endpoint_url, region, attachments_bucket)
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
        # The deployed client allows SRP only; locally `message-center token` signs in with the admin flow.
        ExplicitAuthFlows=[
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ],
    )["UserPoolClient"]
    return Resources(table_name, pool["Id"], app_client["ClientId"], attachments_bucket)


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
    return Resources(table_name, pools[0]["Id"], matching[0]["ClientId"], attachments_bucket)


def issuer(region: str, user_pool_id: str) -> str:
    """The ``iss`` of the pool's tokens (moto issues the real Cognito URL)."""
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def jwks_url(endpoint_url: str, user_pool_id: str) -> str:
    """Where the emulator publishes the pool's signing keys."""
    return f"{endpoint_url}/{user_pool_id}/.well-known/jwks.json"


def issue_tokens(
    endpoint_url: str, region: str, resources: Resources, login: str, password: str
) -> dict[str, str]:
    """Sign ``login`` in (ADMIN_USER_PASSWORD_AUTH) and return Cognito's AuthenticationResult."""
    result = client("cognito-idp", endpoint_url, region).admin_initiate_auth(
        UserPoolId=resources.user_pool_id,
        ClientId=resources.user_pool_client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": login, "PASSWORD": password},
    )
    tokens: dict[str, str] = result["AuthenticationResult"]
    return tokens


def handler_environment(endpoint_url: str, region: str, resources: Resources) -> dict[str, str]:
    """The environment the deployed functions get from the stack, pointed at the emulator."""
    return {
        **DUMMY_CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "TABLE_NAME": resources.table_name,
        "USER_POOL_ID": resources.user_pool_id,
        "USER_POOL_CLIENT_ID": resources.user_pool_client_id,
        "ATTACHMENTS_BUCKET": resources.attachments_bucket,
    }
