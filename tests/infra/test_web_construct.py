"""The web client on AWS: a private bucket behind CloudFront (origin access control), security
headers with a strict Content-Security-Policy, the single-page app's fallback to index.html, and
the HTTP API under /messaging/* of the same distribution."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk.assertions import Template

from infra import constants
from infra.stack import MessageCenterStack
from infra.web_construct import site_source_dir

Resource = tuple[str, dict[str, Any]]


def _text(value: Any) -> str:
    """A CloudFormation string value with its references written as ``${Id}`` / ``${Id.Attr}``."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_text(part) for part in parts)
    if "Ref" in value:
        return f"${{{value['Ref']}}}"
    if "Fn::GetAtt" in value:
        resource, attribute = value["Fn::GetAtt"]
        return f"${{{resource}.{attribute}}}"
    raise AssertionError(f"unexpected value {value!r}")


def _config(distribution: Resource) -> dict[str, Any]:
    return dict(distribution[1]["Properties"]["DistributionConfig"])


def _behaviour(distribution: Resource, path_pattern: str | None) -> dict[str, Any]:
    """The cache behaviour of ``path_pattern`` (None: the default behaviour)."""
    config = _config(distribution)
    if path_pattern is None:
        return dict(config["DefaultCacheBehavior"])
    (behaviour,) = [b for b in config.get("CacheBehaviors", []) if b["PathPattern"] == path_pattern]
    return dict(behaviour)


def _origin(distribution: Resource, behaviour: dict[str, Any]) -> dict[str, Any]:
    (origin,) = [o for o in _config(distribution)["Origins"] if o["Id"] == behaviour["TargetOriginId"]]
    return dict(origin)


def _headers_policy(template: Template, behaviour: dict[str, Any]) -> dict[str, Any]:
    policy = template.to_json()["Resources"][behaviour["ResponseHeadersPolicyId"]["Ref"]]
    assert policy["Type"] == "AWS::CloudFront::ResponseHeadersPolicy"
    return dict(policy["Properties"]["ResponseHeadersPolicyConfig"])


def _csp(policy: dict[str, Any]) -> dict[str, list[str]]:
    value = _text(policy["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    directives: dict[str, list[str]] = {}
    for directive in value.split(";"):
        name, *sources = directive.split()
        directives[name] = sources
    return directives


def _custom_headers(policy: dict[str, Any]) -> dict[str, str]:
    return {item["Header"]: item["Value"] for item in policy["CustomHeadersConfig"]["Items"]}


def _site_bucket(template: Template, distribution: Resource) -> str:
    origin = _origin(distribution, _behaviour(distribution, None))
    bucket_id: str = origin["DomainName"]["Fn::GetAtt"][0]
    assert template.to_json()["Resources"][bucket_id]["Type"] == "AWS::S3::Bucket"
    return bucket_id


BEHAVIOURS = (None, constants.WEB_HASHED_ASSETS_PATH, "/messaging/*")


def test_the_site_bucket_is_private_and_read_by_this_distribution_only(
    template: Template, distribution: Resource
) -> None:
    # Given the bucket behind the distribution's default behaviour
    bucket_id = _site_bucket(template, distribution)
    resources = template.to_json()["Resources"]
    bucket = resources[bucket_id]["Properties"]
    origin = _origin(distribution, _behaviour(distribution, None))

    # Then nobody reaches it directly: public access blocked, TLS required, encrypted
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }
    # and CloudFront reads it with origin access control (signed requests), not an OAI
    oac_id = origin["OriginAccessControlId"]["Fn::GetAtt"][0]
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert resources[oac_id]["Properties"]["OriginAccessControlConfig"] | {"Name": "-"} == {
        "Name": "-",
        "OriginAccessControlOriginType": "s3",
        "SigningBehavior": "always",
        "SigningProtocol": "sigv4",
    }
    # and the bucket policy lets only this distribution get objects
    (policy,) = [
        r["Properties"]["PolicyDocument"]
        for r in resources.values()
        if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert len(allows) == 1
    assert allows[0]["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allows[0]["Action"] == "s3:GetObject"
    assert _text(allows[0]["Condition"]["StringEquals"]["AWS:SourceArn"]).endswith(
        f":distribution/${{{distribution[0]}}}"
    )


def test_every_behaviour_sends_security_headers_with_a_strict_csp(
    template: Template, distribution: Resource, attachments_bucket: Resource
) -> None:
    for path_pattern in BEHAVIOURS:
        # Given the response headers policy of each behaviour
        policy = _headers_policy(template, _behaviour(distribution, path_pattern))
        security = policy["SecurityHeadersConfig"]
        csp = _csp(policy)

        # Then the app may run only its own scripts and styles (nothing inline, no eval) and
        # cannot be framed, embed plugins or rebase its URLs
        assert csp["default-src"] == ["'self'"]
        assert csp["script-src"] == ["'self'"]
        assert csp["style-src"] == ["'self'"]
        assert csp["frame-ancestors"] == ["'none'"]
        assert csp["object-src"] == ["'none'"]
        assert csp["base-uri"] == ["'none'"]
        # and it talks only to its own origin (the API under /messaging), Cognito (sign-in) and
        # the attachments bucket's regional endpoint (presigned uploads and downloads)
        attachments_host = f"https://${{{attachments_bucket[0]}.RegionalDomainName}}"
        assert csp["connect-src"] == [
            "'self'",
            "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}",
            attachments_host,
            # the live channel (the stack's WebSocket API)
            "wss://*.execute-api.${AWS::Region}.${AWS::URLSuffix}",
        ]
        assert csp["img-src"][:3] == ["'self'", "data:", attachments_host]
        # and the usual security headers are set, overriding whatever an origin sent
        assert security["StrictTransportSecurity"] == {
            "AccessControlMaxAgeSec": 730 * 24 * 3600,
            "IncludeSubdomains": True,
            "Override": True,
        }
        assert security["ContentTypeOptions"] == {"Override": True}
        assert security["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
        assert security["ReferrerPolicy"] == {"ReferrerPolicy": "no-referrer", "Override": True}
        assert security["ContentSecurityPolicy"]["Override"] is True


def test_the_avatar_origins_may_be_shown_as_images(synth_stack: Callable[..., MessageCenterStack]) -> None:
    # Given a deployment whose avatars come from the marketplace's CDN
    stack = synth_stack(**{constants.WEB_IMAGE_ORIGINS_CONTEXT_KEY: "https://img.shop.example"})
    template = Template.from_stack(stack)
    distribution = next(iter(template.find_resources("AWS::CloudFront::Distribution").items()))

    # When reading the site's CSP
    csp = _csp(_headers_policy(template, _behaviour(distribution, None)))

    # Then the default avatar's origin and that CDN are image sources, and nothing else is added
    assert csp["img-src"][3:] == ["https://assets.message-center.example", "https://img.shop.example"]
    assert "https://img.shop.example" not in csp["connect-src"]


def test_an_image_origin_with_a_path_is_refused(synth_stack: Callable[..., MessageCenterStack]) -> None:
    with pytest.raises(ValueError, match="webImageOrigins"):
        synth_stack(**{constants.WEB_IMAGE_ORIGINS_CONTEXT_KEY: "https://img.shop.example/avatars"})


def test_http_is_redirected_to_https_and_the_api_answers_https_only(distribution: Resource) -> None:
    assert _behaviour(distribution, None)["ViewerProtocolPolicy"] == "redirect-to-https"
    assert _behaviour(distribution, constants.WEB_HASHED_ASSETS_PATH)["ViewerProtocolPolicy"] == "redirect-to-https"
    # A redirect would lose a POST's body: plain HTTP to the API is refused instead
    assert _behaviour(distribution, "/messaging/*")["ViewerProtocolPolicy"] == "https-only"


def _rewrite(code: str, uris: list[str]) -> list[str]:
    """Run the CloudFront Function's code on viewer requests for ``uris``; the URIs it forwards."""
    node = shutil.which("node")
    assert node, "node (needed by the CDK) is not on PATH"
    script = (
        f"{code}\nconst uris = JSON.parse(process.argv[1]);\n"
        "console.log(JSON.stringify(uris.map((uri) => handler({ request: { uri: uri, headers: {} } }).uri)));"
    )
    completed = subprocess.run([node, "-e", script, json.dumps(uris)], capture_output=True, text=True, check=True)
    rewritten: list[str] = json.loads(completed.stdout)
    return rewritten


def test_client_routes_fall_back_to_index_html_but_files_and_the_api_do_not(
    template: Template, distribution: Resource
) -> None:
    # Given the function on the site's viewer requests
    (association,) = _behaviour(distribution, None)["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    function = template.to_json()["Resources"][association["FunctionARN"]["Fn::GetAtt"][0]]["Properties"]
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"

    # When the browser asks for client routes and for files
    routes = ["/", "/threads/01KAXQ6Z8E4T1M2N3P4Q5R6S7V", "/attachments/01KAXQ9A", "/settings", "/new"]
    files = ["/index.html", "/config.json", "/favicon.svg", "/assets/index-D-_SYUk5.js"]
    forwarded = _rewrite(function["FunctionCode"], routes + files)

    # Then every client route gets index.html (the app routes it), every file is asked for as is
    assert forwarded == ["/index.html"] * len(routes) + files
    # and the API's and the hashed assets' behaviours run no function: an API 404 stays a 404
    assert "FunctionAssociations" not in _behaviour(distribution, "/messaging/*")
    assert "FunctionAssociations" not in _behaviour(distribution, constants.WEB_HASHED_ASSETS_PATH)
    assert _config(distribution)["DefaultRootObject"] == "index.html"
    assert "CustomErrorResponses" not in _config(distribution)


def test_hashed_assets_are_cached_for_a_year_and_pages_revalidated(template: Template, distribution: Resource) -> None:
    # Given the site's and the assets' behaviours
    assets = _behaviour(distribution, constants.WEB_HASHED_ASSETS_PATH)
    pages = _behaviour(distribution, None)

    # Then both come from the bucket, cached at the edge (a deployment invalidates everything)
    assert assets["TargetOriginId"] == pages["TargetOriginId"]
    assert assets["CachePolicyId"] == pages["CachePolicyId"] == cloudfront.CachePolicy.CACHING_OPTIMIZED.cache_policy_id
    # and browsers keep a hashed asset for a year, but revalidate index.html and config.json
    assert _custom_headers(_headers_policy(template, assets))["Cache-Control"] == "public, max-age=31536000, immutable"
    assert _custom_headers(_headers_policy(template, pages))["Cache-Control"] == "no-cache"


def test_messaging_paths_go_to_the_http_api_uncached_with_the_callers_token(
    template: Template, distribution: Resource
) -> None:
    # Given the /messaging/* behaviour
    behaviour = _behaviour(distribution, "/messaging/*")
    origin = _origin(distribution, behaviour)
    (http_api_id,) = template.find_resources("AWS::ApiGatewayV2::Api", {"Properties": {"ProtocolType": "HTTP"}})

    # Then it reaches this stack's HTTP API over HTTPS (TLS 1.2)
    assert _text(origin["DomainName"]) == f"${{{http_api_id}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}"
    assert origin["CustomOriginConfig"] == {"OriginProtocolPolicy": "https-only", "OriginSSLProtocols": ["TLSv1.2"]}
    # with every method, nothing cached, and all the viewer's headers (Authorization) and query
    # strings forwarded except Host, which must be the API's own
    assert sorted(behaviour["AllowedMethods"]) == ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
    assert behaviour["CachePolicyId"] == cloudfront.CachePolicy.CACHING_DISABLED.cache_policy_id
    assert (
        behaviour["OriginRequestPolicyId"]
        == cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER.origin_request_policy_id
    )
    # and the API decides its own caching headers
    assert "Cache-Control" not in _custom_headers(_headers_policy(template, behaviour))


def test_the_deployment_publishes_the_site_and_what_it_signs_in_with(
    template: Template, distribution: Resource, user_pool: Resource, web_client: Resource
) -> None:
    # Given the bucket deployment
    (deployment,) = template.find_resources("Custom::CDKBucketDeployment").values()
    props = deployment["Properties"]

    # Then it fills the site bucket, replacing what was there, and invalidates the distribution
    assert props["DestinationBucketName"] == {"Ref": _site_bucket(template, distribution)}
    assert props["Prune"] is True
    assert props["DistributionId"] == {"Ref": distribution[0]}
    assert props["DistributionPaths"] == ["/*"]
    # and config.json names the user pool, the web client's app client, the region and the live channel
    markers = [_text(value) for source in props["SourceMarkers"] for value in source.values()]
    (websocket_api_id,) = template.find_resources(
        "AWS::ApiGatewayV2::Api", {"Properties": {"ProtocolType": "WEBSOCKET"}}
    )
    assert markers == [
        f'"${{{user_pool[0]}}}"',
        f'"${{{web_client[0]}}}"',
        '"${AWS::Region}"',
        f'"wss://${{{websocket_api_id}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/live"',
    ]


def test_the_built_app_is_deployed_when_there_is_one_else_a_placeholder(tmp_path: Path) -> None:
    # Given a web/dist without a build
    assert site_source_dir(tmp_path) == constants.WEB_PLACEHOLDER_DIR
    assert (constants.WEB_PLACEHOLDER_DIR / "index.html").is_file()
    # When the app has been built
    (tmp_path / "index.html").write_text("<!doctype html>")
    # Then it is what gets deployed
    assert site_source_dir(tmp_path) == tmp_path


def test_the_web_url_is_the_distributions_https_address(
    template: Template, distribution: Resource, web_url: Any
) -> None:
    assert _text(web_url) == f"https://${{{distribution[0]}.DomainName}}"
    assert template.find_outputs("WebUrl")["WebUrl"]["Value"] == web_url
