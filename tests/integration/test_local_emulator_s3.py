"""The local runtime's attachments bucket, and presigned URLs against the embedded S3 endpoint.

Only the emulator runs here (a moto server on a free port), no handler: these tests pin down how
an S3 client must be configured so that the URLs it signs work from outside the process, with
plain HTTP clients (``requests``, ``curl``), the way browsers and the API's users will use them.

moto does not verify presigned signatures, expiry or POST-policy conditions (content-length-range,
Content-Type), so nothing here can show a bad or stale URL being refused: the API must check size
and content itself on upload and on use, which it does anyway.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from message_center.data import bucket_layout

from local_runtime import emulator

REGION = emulator.DEFAULT_REGION
BUCKET = emulator.DEFAULT_ATTACHMENTS_BUCKET
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ORIGIN = "https://allegro.example"

# How the API function is to build its S3 client (endpoint from AWS_ENDPOINT_URL locally, absent
# in AWS): SigV4, path-style keys, so URLs read http://host:port/<bucket>/<key>?X-Amz-...
HANDLER_S3_CONFIG = Config(signature_version="s3v4", s3={"addressing_style": "path"})


@pytest.fixture(scope="module")
def endpoint_url() -> Iterator[str]:
    aws = emulator.AwsEmulator(port=0)
    aws.start()
    try:
        yield aws.endpoint_url
    finally:
        aws.stop()


@pytest.fixture(scope="module")
def resources(endpoint_url: str) -> emulator.Resources:
    return emulator.provision(endpoint_url, REGION, "MessageCenter")


@pytest.fixture(scope="module")
def s3(endpoint_url: str, resources: emulator.Resources) -> Any:
    """A client configured like the API handler's."""
    return boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token="testing",
        region_name=REGION,
    ).client("s3", endpoint_url=endpoint_url, config=HANDLER_S3_CONFIG)


def test_provision_creates_the_attachments_bucket_like_the_deployed_one(resources: emulator.Resources, s3: Any) -> None:
    # Given a provisioned emulator
    bucket = resources.attachments_bucket

    # When reading the bucket's configuration back
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    (cors,) = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    (encryption,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    versioning = s3.get_bucket_versioning(Bucket=bucket)

    # Then uploads expire after the layout's days, multipart uploads are aborted, CORS allows browsers
    assert bucket == BUCKET
    expiring = [rule for rule in lifecycle if "Days" in rule.get("Expiration", {})]
    assert [(r["Filter"]["Prefix"], r["Expiration"]["Days"]) for r in expiring] == [
        (bucket_layout.UPLOAD_PREFIX, bucket_layout.UPLOAD_EXPIRY_DAYS)
    ]
    assert any(r.get("AbortIncompleteMultipartUpload") == {"DaysAfterInitiation": 1} for r in lifecycle)
    assert sorted(cors["AllowedMethods"]) == ["GET", "POST"]
    assert cors["AllowedOrigins"] == ["*"]
    # and it is private, encrypted and versioned, as deployed
    assert set(block.values()) == {True}
    assert encryption["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert versioning["Status"] == "Enabled"


def test_function_settings_and_lookup_name_the_bucket(endpoint_url: str, resources: emulator.Resources) -> None:
    # Given / When the settings the local runtime gives the API function, and a later lookup by name
    settings = emulator.function_settings(endpoint_url, REGION, resources, "http://127.0.0.1:8000").api
    found = emulator.find_resources(endpoint_url, REGION)

    # Then both name the provisioned bucket
    assert settings.attachments_bucket == BUCKET
    assert settings.aws_endpoint_url == endpoint_url
    assert found == resources


def test_presigned_put_then_get_round_trip_over_plain_http(endpoint_url: str, s3: Any) -> None:
    # Given presigned PUT and GET URLs for an upload key
    key = f"{bucket_layout.UPLOAD_PREFIX}put-round-trip"
    put_url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": BUCKET, "Key": key, "ContentType": "application/pdf"}, ExpiresIn=300
    )
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=300)

    # When uploading and downloading through them with a plain HTTP client
    uploaded = requests.put(put_url, data=PDF, headers={"Content-Type": "application/pdf"}, timeout=10)
    downloaded = requests.get(get_url, timeout=10)

    # Then both point at the embedded endpoint, path style, and the bytes come back unchanged
    assert put_url.startswith(f"{endpoint_url}/{BUCKET}/{key}?")
    assert get_url.startswith(f"{endpoint_url}/{BUCKET}/{key}?")
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in get_url
    assert uploaded.status_code == 200, uploaded.text
    assert downloaded.status_code == 200, downloaded.text
    assert downloaded.content == PDF
    assert downloaded.headers["Content-Type"] == "application/pdf"


def test_presigned_post_uploads_a_form_like_a_browser(endpoint_url: str, s3: Any) -> None:
    # Given a presigned POST for one upload key, with the conditions the API would set
    key = f"{bucket_layout.UPLOAD_PREFIX}post-form"
    post = s3.generate_presigned_post(
        BUCKET,
        key,
        Fields={"Content-Type": "image/png"},
        Conditions=[{"Content-Type": "image/png"}, ["content-length-range", 1, 25 * 1024 * 1024]],
        ExpiresIn=300,
    )

    # When a browser-like client posts the form with the file last
    response = requests.post(post["url"], data=post["fields"], files={"file": ("photo.png", PNG)}, timeout=10)

    # Then the form goes to the bucket on the embedded endpoint and the object is stored under that key
    assert post["url"] == f"{endpoint_url}/{BUCKET}"
    assert response.status_code == 204, response.text
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentLength"] == len(PNG)
    assert head["ContentType"] == "image/png"


def test_copy_to_the_stored_prefix_and_download(s3: Any) -> None:
    # Given an uploaded object
    upload_key = f"{bucket_layout.UPLOAD_PREFIX}copied"
    stored_key = f"{bucket_layout.STORED_PREFIX}copied"
    s3.put_object(Bucket=BUCKET, Key=upload_key, Body=PDF, ContentType="application/pdf")

    # When the API copies it to the stored prefix and presigns a download
    s3.copy_object(Bucket=BUCKET, Key=stored_key, CopySource={"Bucket": BUCKET, "Key": upload_key})
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": stored_key}, ExpiresIn=300)

    # Then the stored copy downloads through the URL
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.content == PDF


def test_browser_preflight_gets_the_bucket_cors_rule(s3: Any) -> None:
    # Given the URLs a browser would use: the POST form target and a presigned download
    key = f"{bucket_layout.UPLOAD_PREFIX}preflight"
    s3.put_object(Bucket=BUCKET, Key=key, Body=PDF)
    post_url = s3.generate_presigned_post(BUCKET, key, ExpiresIn=300)["url"]
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=300)

    for url, method in ((post_url, "POST"), (get_url, "GET")):
        # When the browser sends its CORS preflight
        response = requests.options(
            url, headers={"Origin": ORIGIN, "Access-Control-Request-Method": method}, timeout=10
        )

        # Then the bucket's rule answers it (not the emulator's allow-everything default)
        assert response.status_code == 200, (method, response.text)
        assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert response.headers["Access-Control-Allow-Methods"] == "POST, GET"
        assert response.headers["Access-Control-Max-Age"] == "3000"


def test_unsigned_requests_are_refused(endpoint_url: str, s3: Any) -> None:
    # Given an object in the private bucket
    key = f"{bucket_layout.UPLOAD_PREFIX}private"
    s3.put_object(Bucket=BUCKET, Key=key, Body=PDF)

    # When fetching it without a presigned URL
    response = requests.get(f"{endpoint_url}/{BUCKET}/{key}", timeout=10)

    # Then access is denied
    assert response.status_code == 403


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_presigned_urls_work_with_curl(s3: Any, tmp_path: Any) -> None:
    # Given a presigned PUT and GET for one key, and a file on disk
    key = f"{bucket_layout.UPLOAD_PREFIX}curl"
    upload = tmp_path / "invoice.pdf"
    upload.write_bytes(PDF)
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=300)
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=300)

    # When uploading and downloading with curl, as the users would
    subprocess.run(["curl", "-sSf", "-T", str(upload), put_url], check=True, timeout=30)
    downloaded = subprocess.run(["curl", "-sSf", get_url], check=True, capture_output=True, timeout=30)

    # Then the same bytes come back
    assert downloaded.stdout == PDF
