"""The web client on AWS: the built single-page app in a private bucket behind CloudFront, and the
HTTP API under ``/messaging/*`` of the same distribution, so the browser talks to one origin (no CORS).

- The bucket is reachable only through the distribution (origin access control); HTTP redirects
  to HTTPS.
- Every response carries security headers, with a Content-Security-Policy that lets the app load
  only its own files and talk only to its own origin, Cognito (sign-in) and the attachments bucket
  (presigned uploads and downloads).
- Client routes (``/threads/ID``, ``/settings``...) are answered with ``index.html`` by a CloudFront
  Function on the site's behaviour only, so an API 404 stays a 404.
- Hashed assets (``/assets/*``) are cached for a year; ``index.html`` and ``config.json`` are
  revalidated on every load; a deployment invalidates the distribution.
- ``config.json`` (the user pool and client the app signs in with) is written by the deployment
  next to the app, as the local runtime serves it.

What is deployed is ``web/dist`` when it was built before synth, else a placeholder page that says
how to build it (so that a fresh clone synthesizes without Node tooling, and offline).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import cast

from aws_cdk import Acknowledgment, Annotations, CfnElement, Stack, Token, Validations
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra import constants
from infra.building_blocks import secure_bucket

# Client routes have no file extension in their last segment; files (index.html, config.json,
# assets/...) keep their path, so a missing file is still an error rather than the app.
SPA_FALLBACK_FUNCTION_CODE = """\
function handler(event) {
  var request = event.request;
  var last = request.uri.split('/').pop();
  if (last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
"""

API_PATH_PATTERN = "/messaging/*"


def _asset_objects_finding(stack: Stack) -> str:
    """How cdk-nag names the staged assets' ARN: pseudo parameters as ``<AWS::...>``, except those
    the synth already knows (the CLI sets the region, and with it the partition)."""

    def known(value: str, pseudo: str) -> str:
        return f"<AWS::{pseudo}>" if Token.is_unresolved(value) else value

    account, region = known(stack.account, "AccountId"), known(stack.region, "Region")
    return f"arn:{known(stack.partition, 'Partition')}:s3:::cdk-hnb659fds-assets-{account}-{region}/*"


def site_source_dir(dist: Path = constants.WEB_DIST_DIR) -> Path:
    """The folder to deploy: the built app if ``dist`` holds one, else the placeholder page."""
    return dist if (dist / "index.html").is_file() else constants.WEB_PLACEHOLDER_DIR


def content_security_policy(
    *, region: str, url_suffix: str, bucket_hosts: Sequence[str], image_origins: Sequence[str]
) -> str:
    """The app's CSP: its own scripts and styles only (no inline code, no framing); it connects to
    its own origin (the API under /messaging), Cognito's endpoint (SRP sign-in, token renewal,
    forgotten passwords) and the attachments bucket (presigned POST uploads, and the download each
    302 of the API leads to); images from itself, data: URIs, the bucket and the avatar origins."""
    bucket_sources = " ".join(f"https://{host}" for host in bucket_hosts)
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": " ".join(["'self'", "data:", bucket_sources, *image_origins]),
        "font-src": "'self'",
        # The live channel: the stack's WebSocket API (its id is not known when this is built).
        "connect-src": f"'self' https://cognito-idp.{region}.{url_suffix} {bucket_sources} "
        f"wss://*.execute-api.{region}.{url_suffix}",
        "manifest-src": "'self'",
        "media-src": "'none'",
        "object-src": "'none'",
        "worker-src": "'none'",
        "frame-src": "'none'",
        "frame-ancestors": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items()) + "; upgrade-insecure-requests"


class WebConstruct(Construct):
    """The static site's bucket and the distribution; ``route_api`` and ``publish`` complete it
    once the API and the user pool exist (they need the distribution's URL first)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        site_dir: Path,
        attachments_bucket: s3.IBucket,
        access_log_bucket: s3.IBucket,
        image_origins: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self._site_dir = site_dir
        if site_dir == constants.WEB_PLACEHOLDER_DIR:
            Annotations.of(self).add_warning_v2(
                "message-center:web-client-not-built",
                "web/dist has no index.html: a placeholder page is deployed instead of the web client "
                "(build it with `cd web && npm ci && npm run build`, then synth again).",
            )
        # Only build output: nothing to keep apart from the deployment that wrote it; retained
        # anyway (like every bucket here) so a stack deletion never fails on a non-empty bucket.
        self.bucket = secure_bucket(
            self,
            "SiteBucket",
            lifecycle_rules=[],
            server_access_logs_bucket=access_log_bucket,
            logs_prefix="web-bucket/",
        )
        stack = Stack.of(self)
        csp = content_security_policy(
            region=stack.region,
            url_suffix=stack.url_suffix,
            # boto3 signs virtual-hosted URLs on the regional endpoint.
            bucket_hosts=[attachments_bucket.bucket_regional_domain_name],
            image_origins=image_origins,
        )
        self._api_headers = self._headers_policy("ApiHeaders", csp, cache_control=None)
        site_origin = origins.S3BucketOrigin.with_origin_access_control(self.bucket)
        spa_fallback = cloudfront.Function(
            self,
            "SpaFallback",
            comment="Client routes of the web client are answered with index.html",
            code=cloudfront.FunctionCode.from_inline(SPA_FALLBACK_FUNCTION_CODE),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Message Center web client and API",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=site_origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self._headers_policy(
                    "PageHeaders", csp, cache_control=constants.WEB_PAGE_CACHE_CONTROL
                ),
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=spa_fallback, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
            additional_behaviors={
                constants.WEB_HASHED_ASSETS_PATH: cloudfront.BehaviorOptions(
                    origin=site_origin,
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                    cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                    response_headers_policy=self._headers_policy(
                        "AssetHeaders", csp, cache_control=constants.WEB_ASSETS_CACHE_CONTROL
                    ),
                )
            },
            # The marketplaces are in Europe: the cheapest price class serves them from nearby.
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
        )
        Validations.of(self.distribution).acknowledge(
            Acknowledgment(
                id="AwsSolutions-CFR1",
                reason="No geo restriction: buyers and sellers use the marketplaces from anywhere, "
                "and every request to the API is authenticated.",
            ),
            Acknowledgment(
                id="AwsSolutions-CFR3",
                reason="No CloudFront standard logs: they need an ACL-enabled bucket, which every bucket "
                "here refuses; API calls are logged by the HTTP API's access log and the site "
                "bucket's reads by S3 server access logs.",
            ),
            Acknowledgment(
                id="AwsSolutions-CFR4",
                reason="The distribution uses CloudFront's default certificate (no custom domain yet), "
                "for which the minimum TLS version cannot be set; a custom domain with an ACM "
                "certificate and TLSv1.2_2021 replaces it.",
            ),
        )

    def attach_web_acl(self, web_acl_arn: str) -> None:
        """Put the distribution behind an AWS WAF web ACL (infra/waf_construct.py)."""
        self.distribution.attach_web_acl_id(web_acl_arn)

    def acknowledge_no_web_acl(self) -> None:
        """An environment-agnostic synth has no web ACL to attach (it lives in us-east-1 and is
        referenced across regions, which needs a known account and region)."""
        Validations.of(self.distribution).acknowledge(
            Acknowledgment(
                id="AwsSolutions-CFR2",
                reason="Environment-agnostic synth only: every deploy (account and region known) attaches "
                "the us-east-1 web ACL of infra/waf_construct.py, which cannot be referenced without them.",
            )
        )

    @property
    def url(self) -> str:
        """The web client's address (``PUBLIC_WEB_URL``): ``https://<distribution domain>``."""
        return f"https://{self.distribution.distribution_domain_name}"

    def route_api(self, http_api: apigwv2.IHttpApi) -> None:
        """``/messaging/*`` to the HTTP API: every method, never cached, the caller's headers
        (Authorization) and query strings forwarded, Host set to the API's own."""
        stack = Stack.of(self)
        self.distribution.add_behavior(
            API_PATH_PATTERN,
            origins.HttpOrigin(
                f"{http_api.api_id}.execute-api.{stack.region}.{stack.url_suffix}",
                protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
                origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            ),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            response_headers_policy=self._api_headers,
        )

    def publish(self, client_config: Mapping[str, str]) -> s3deploy.BucketDeployment:
        """Deploy the site and ``config.json`` (``client_config``: what the app signs in with) and
        invalidate the distribution's cache."""
        deployment = s3deploy.BucketDeployment(
            self,
            "Deployment",
            destination_bucket=self.bucket,
            sources=[
                s3deploy.Source.asset(str(self._site_dir)),
                s3deploy.Source.json_data("config.json", dict(client_config)),
            ],
            distribution=self.distribution,
            distribution_paths=["/*"],
            prune=True,
        )
        # The deployment's handler is one CDK-provided function per stack (not under this
        # construct): its role reads the staged asset and writes this bucket only.
        bucket_id = Stack.of(self).get_logical_id(cast(CfnElement, self.bucket.node.default_child))
        handler = deployment.handler_role.node.scope
        if handler is None:  # pragma: no cover - the role always belongs to the handler function
            raise ValueError("the bucket deployment's role has no function")
        Validations.of(handler).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                reason="CDK's bucket deployment handler writes its own logs with the basic execution role; "
                "it runs only while CloudFormation deploys the site.",
            ),
            *(
                Acknowledgment(
                    id=f"AwsSolutions-IAM5[{finding}]",
                    reason="CDK's bucket deployment grants copy the staged asset (a CDK asset bucket "
                    "object) into the site bucket, replacing what was there, and invalidate the "
                    "distribution (CreateInvalidation has no narrower resource in CDK's grant).",
                )
                for finding in (
                    "Action::s3:GetBucket*",
                    "Action::s3:GetObject*",
                    "Action::s3:List*",
                    "Action::s3:Abort*",
                    "Action::s3:DeleteObject*",
                    f"Resource::{_asset_objects_finding(Stack.of(self))}",
                    f"Resource::<{bucket_id}.Arn>/*",
                    "Resource::*",
                )
            ),
            Acknowledgment(
                id="AwsSolutions-L1",
                reason="The runtime of CDK's bucket deployment handler is chosen by the CDK version "
                "(it ships the AWS CLI layer it runs with); upgrading aws-cdk-lib upgrades it.",
            ),
        )
        return deployment

    def _headers_policy(
        self, construct_id: str, csp: str, *, cache_control: str | None
    ) -> cloudfront.ResponseHeadersPolicy:
        custom = [
            cloudfront.ResponseCustomHeader(
                header="Permissions-Policy",
                value="camera=(), microphone=(), geolocation=(), payment=(), usb=()",
                override=True,
            ),
            cloudfront.ResponseCustomHeader(header="Cross-Origin-Opener-Policy", value="same-origin", override=True),
        ]
        if cache_control is not None:
            custom.append(cloudfront.ResponseCustomHeader(header="Cache-Control", value=cache_control, override=True))
        return cloudfront.ResponseHeadersPolicy(
            self,
            construct_id,
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=csp, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=constants.WEB_HSTS_MAX_AGE, include_subdomains=True, override=True
                ),
            ),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(custom_headers=custom),
        )
