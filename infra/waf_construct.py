"""AWS WAF in front of the Message Center, on its CloudFront distribution.

Why on CloudFront and not on the API: AWS WAF protects REST APIs of API Gateway but not HTTP APIs
(a web ACL cannot be associated with an HTTP API stage), and the Message Center's API is an HTTP
API. Browsers reach it through the web client's distribution under ``/messaging/*``
(infra/web_construct.py), so the web ACL sits on that distribution. Callers that use the HTTP
API's own ``ApiUrl`` directly are outside the web ACL; they still meet the JWT authorizer and the
stage and per-route throttles (infra/api_construct.py).

A web ACL for CloudFront must be created in us-east-1, whatever the region of the stack using
it: it lives in a small stack of its own there (``MessageCenterWebAcl``), and the main stack
reads its ARN across regions. Both need an account and a region known at synth, which every
deploy has (the CDK CLI resolves them from the credentials); an environment-agnostic synth (a
developer's offline ``make synth``) builds the main stack alone, without the web ACL.

Rules, in order: AWS's managed common rule set (OWASP-style injection, XSS, bad paths and
headers), with its 8 KB body-size rule only counted (attachment uploads and long messages are
legitimate bodies above it; the API itself bounds body sizes), and a rate-based rule blocking a
client address that sends more than ``RATE_LIMIT_PER_5_MINUTES`` API requests within 5 minutes.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

# CloudFront's web ACLs live in us-east-1 (scope CLOUDFRONT).
WEB_ACL_REGION = "us-east-1"
WEB_ACL_STACK_NAME = "MessageCenterWebAcl"
COMMON_RULE_SET = "AWSManagedRulesCommonRuleSet"
# Counted, not blocked: bodies above 8 KB are attachment uploads and long messages.
COUNTED_COMMON_RULES = ("SizeRestrictions_BODY",)
# Per client IP over 5 minutes, API paths only (the static site is cached and cheap). A busy user
# makes a few requests a minute; an office behind one address has room for hundreds of them.
RATE_LIMIT_PER_5_MINUTES = 3000
API_PATH_PREFIX = "/messaging/"
METRIC_PREFIX = "MessageCenter"


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=f"{METRIC_PREFIX}{name}", sampled_requests_enabled=True
    )


def _common_rule_set() -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name=COMMON_RULE_SET,
        priority=0,
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS",
                name=COMMON_RULE_SET,
                rule_action_overrides=[
                    wafv2.CfnWebACL.RuleActionOverrideProperty(
                        name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                    )
                    for rule in COUNTED_COMMON_RULES
                ],
            )
        ),
        visibility_config=_visibility("CommonRuleSet"),
    )


def _api_rate_limit() -> wafv2.CfnWebACL.RuleProperty:
    api_paths: Any = wafv2.CfnWebACL.StatementProperty(
        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
            positional_constraint="STARTS_WITH",
            search_string=API_PATH_PREFIX,
            text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
        )
    )
    return wafv2.CfnWebACL.RuleProperty(
        name="ApiRequestsPerClient",
        priority=1,
        action=wafv2.CfnWebACL.RuleActionProperty(block={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                limit=RATE_LIMIT_PER_5_MINUTES,
                aggregate_key_type="IP",
                evaluation_window_sec=300,
                scope_down_statement=api_paths,
            )
        ),
        visibility_config=_visibility("ApiRequestsPerClient"),
    )


class WebAclStack(Stack):
    """The distribution's web ACL (scope CLOUDFRONT), in us-east-1."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="CLOUDFRONT",
            description="Message Center web client and API on CloudFront",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=[_common_rule_set(), _api_rate_limit()],
            visibility_config=_visibility("WebAcl"),
        )
        CfnOutput(self, "WebAclArn", value=self.web_acl.attr_arn, description="Attached to the web distribution")

    @property
    def web_acl_arn(self) -> str:
        return self.web_acl.attr_arn
