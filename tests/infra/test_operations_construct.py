"""Operations: every alarm notifies someone, one dashboard shows the service, sending routes have
their own throttles, and AWS WAF guards the distribution the browsers use."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk.assertions import Template
from message_center.api.contract import ROUTES

from infra.api_construct import ROUTE_THROTTLES
from infra.operations_construct import ALARM_EMAIL_CONTEXT_KEY, alarm_email_from_context
from infra.stack import MessageCenterStack
from infra.waf_construct import RATE_LIMIT_PER_5_MINUTES, WEB_ACL_REGION, WEB_ACL_STACK_NAME
from local_runtime.cost_model import ALARMS_IN_STACK, WAF_RULES_IN_STACK
from tests.infra.conftest import REPO_ROOT, Resource

ACCOUNT = "123456789012"
REGION = "eu-west-1"
SENDING_ROUTES = {"POST /messaging/messages", "POST /messaging/threads/{threadId}/messages"}


def _alarm_topic(template: Template) -> str:
    (topic_id,) = template.find_resources("AWS::SNS::Topic")
    return topic_id


def test_every_alarm_notifies_the_alarm_topic_when_it_fires_and_when_it_recovers(template: Template) -> None:
    # Given every CloudWatch alarm of the stack, and its one SNS topic
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    topic_id = _alarm_topic(template)

    # When / Then each one names the topic as its alarm and OK action (an alarm without an action
    # fires unseen)
    assert len(alarms) >= 8
    for alarm_id, alarm in alarms.items():
        properties = alarm["Properties"]
        assert properties.get("AlarmActions") == [{"Ref": topic_id}], alarm_id
        assert properties.get("OKActions") == [{"Ref": topic_id}], alarm_id


def test_the_alarm_topic_only_accepts_tls_and_is_an_output(template: Template) -> None:
    # Given the topic and its policy
    topic_id = _alarm_topic(template)
    (policy,) = template.find_resources("AWS::SNS::TopicPolicy").values()

    # When / Then plain-HTTP publishing is denied, and operators find the topic in the outputs
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )
    outputs = template.find_outputs("*")
    assert outputs["AlarmTopicArn"]["Value"] == {"Ref": topic_id}
    assert "DashboardName" in outputs


def test_the_alarm_email_context_subscribes_that_address(synth_stack: Callable[..., MessageCenterStack]) -> None:
    # Given a deployment naming an on-call address
    template = Template.from_stack(synth_stack(**{ALARM_EMAIL_CONTEXT_KEY: "oncall@shop-messages.eu"}))

    # When reading the topic's subscriptions
    subscriptions = template.find_resources("AWS::SNS::Subscription")

    # Then that address is subscribed by e-mail to the alarm topic
    assert [(s["Properties"]["Protocol"], s["Properties"]["Endpoint"]) for s in subscriptions.values()] == [
        ("email", "oncall@shop-messages.eu")
    ]
    (subscription,) = subscriptions.values()
    assert subscription["Properties"]["TopicArn"] == {"Ref": _alarm_topic(template)}


def test_without_an_alarm_email_the_topic_has_no_subscriber_yet(template: Template) -> None:
    assert template.find_resources("AWS::SNS::Subscription") == {}


@pytest.mark.parametrize("value", ["oncall", "on call@shop.eu", 42, ["a@b.eu"]])
def test_alarm_email_context_rejects_non_addresses(value: Any) -> None:
    with pytest.raises(ValueError, match=ALARM_EMAIL_CONTEXT_KEY):
        alarm_email_from_context(value)


def test_api_5xx_and_ses_reputation_have_alarms(template: Template) -> None:
    # Given the alarms' metrics
    metrics = {
        (a["Properties"].get("Namespace"), a["Properties"].get("MetricName"))
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
    }

    # When / Then the API's server errors and the SES account's bounce and complaint rates are watched
    assert ("AWS/ApiGateway", "5xx") in metrics
    assert ("AWS/SES", "Reputation.BounceRate") in metrics
    assert ("AWS/SES", "Reputation.ComplaintRate") in metrics


def test_the_dashboard_shows_api_functions_queues_stream_ses_and_translation(
    template: Template, api_function: Resource, stream_function: Resource
) -> None:
    # Given the stack's one dashboard
    (dashboard,) = template.find_resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])

    # When / Then its widgets cover what the operations guide names
    for title in (
        "API requests and errors",
        "API latency (ms)",
        "Function errors",
        "Function throttles",
        "Function duration p99 (ms)",
        "Dead-letter queue depth",
        "Stream iterator age (ms)",
        "SES bounce and complaint rate",
        "Translated characters per provider",
    ):
        assert f'\\"title\\":\\"{title}\\"' in body, title
    for metric in ("4xx", "5xx", "Latency", "Errors", "Throttles", "Duration", "IteratorAge"):
        assert f'\\"{metric}\\"' in body, metric
    assert "ApproximateNumberOfMessagesVisible" in body
    assert "Reputation.BounceRate" in body and "Reputation.ComplaintRate" in body
    assert "TranslatedCharacters" in body
    # and it draws the real functions' metrics
    for function in (api_function, stream_function):
        assert json.dumps({"Ref": function[0]}) in json.dumps(dashboard["Properties"]["DashboardBody"])


# --- per-route throttles ----------------------------------------------------------------------------


def test_sending_routes_have_their_own_throttles_below_the_stage_default(template: Template) -> None:
    # Given the HTTP API's stage
    (stage,) = template.find_resources("AWS::ApiGatewayV2::Stage").values()
    properties = stage["Properties"]
    default = properties["DefaultRouteSettings"]

    # When reading its per-route settings
    route_settings = properties["RouteSettings"]

    # Then both message-sending routes (and attachment uploads, translations) have limits of their
    # own, lower than the stage-wide default that every other route shares
    assert set(route_settings) >= SENDING_ROUTES
    assert set(route_settings) == set(ROUTE_THROTTLES)
    for route_key, settings in route_settings.items():
        assert 0 < settings["ThrottlingRateLimit"] < default["ThrottlingRateLimit"], route_key
        assert settings["ThrottlingRateLimit"] <= settings["ThrottlingBurstLimit"] < default["ThrottlingBurstLimit"]
    # and the stage is created after the routes its settings name (CloudFormation refuses unknown routes)
    routes = template.find_resources("AWS::ApiGatewayV2::Route")
    assert set(routes) <= set(stage["DependsOn"])


def test_throttled_routes_are_routes_of_the_contract() -> None:
    assert set(ROUTE_THROTTLES) <= {route.route_key for route in ROUTES}


# --- AWS WAF ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def deployed_app(synth_stack: Callable[..., MessageCenterStack]) -> Any:
    """The app as a deploy synthesizes it: the CLI knows the account and region."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CDK_DEFAULT_ACCOUNT", ACCOUNT)
        patch.setenv("CDK_DEFAULT_REGION", REGION)
        stack = synth_stack(relayDomain="relay.shop-messages.eu")
    return stack.node.root


def test_the_web_acl_lives_in_us_east_1_with_the_common_rule_set_and_a_rate_limit(deployed_app: Any) -> None:
    # Given the web ACL stack of a deploy
    acl_stack = deployed_app.node.find_child(WEB_ACL_STACK_NAME)
    (web_acl,) = Template.from_stack(acl_stack).find_resources("AWS::WAFv2::WebACL").values()
    properties = web_acl["Properties"]

    # When / Then it is a CloudFront web ACL in us-east-1 (the only place CloudFront's can live)
    assert acl_stack.region == WEB_ACL_REGION == "us-east-1"
    assert acl_stack.account == ACCOUNT
    assert properties["Scope"] == "CLOUDFRONT"
    assert properties["DefaultAction"] == {"Allow": {}}
    rules = {rule["Name"]: rule for rule in properties["Rules"]}
    # with AWS's managed common rule set, blocking (only its body-size rule counted: uploads)
    common = rules["AWSManagedRulesCommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
    assert (common["VendorName"], common["Name"]) == ("AWS", "AWSManagedRulesCommonRuleSet")
    assert rules["AWSManagedRulesCommonRuleSet"]["OverrideAction"] == {"None": {}}
    assert common["RuleActionOverrides"] == [{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]
    # and a per-client rate limit on the API paths
    rate = rules["ApiRequestsPerClient"]
    assert rate["Action"] == {"Block": {}}
    statement = rate["Statement"]["RateBasedStatement"]
    assert (statement["AggregateKeyType"], statement["Limit"]) == ("IP", RATE_LIMIT_PER_5_MINUTES)
    assert statement["ScopeDownStatement"]["ByteMatchStatement"]["SearchString"] == "/messaging/"


def test_a_deploy_puts_the_distribution_behind_the_web_acl(deployed_app: Any) -> None:
    # Given the main stack of a deploy
    stack = deployed_app.node.find_child("MessageCenterStack")
    (distribution,) = Template.from_stack(stack).find_resources("AWS::CloudFront::Distribution").values()

    # When reading the distribution's web ACL
    web_acl = distribution["Properties"]["DistributionConfig"]["WebACLId"]

    # Then it is the us-east-1 web ACL, read across regions from that stack's output, and the
    # main stack deploys after it
    reference = web_acl["Fn::GetStackOutput"]
    assert (reference["StackName"], reference["Region"]) == (WEB_ACL_STACK_NAME, "us-east-1")
    assert WEB_ACL_STACK_NAME in [dependency.stack_name for dependency in stack.dependencies]


def test_an_environment_agnostic_synth_has_no_web_acl_and_says_why(
    template: Template, distribution: Resource, stack: MessageCenterStack
) -> None:
    # Given a developer's offline synth (no account or region)
    # When / Then there is no web ACL stack to reference, and the distribution names none
    assert "WebACLId" not in distribution[1]["Properties"]["DistributionConfig"]
    assert stack.node.root.node.try_find_child(WEB_ACL_STACK_NAME) is None


def test_why_waf_is_on_cloudfront_and_not_on_the_api_is_documented() -> None:
    # Given the WAF module and the deploy guide
    module = (REPO_ROOT / "infra" / "waf_construct.py").read_text()
    guide = (REPO_ROOT / "docs" / "deploy.md").read_text()

    # When / Then both say that HTTP APIs cannot take a web ACL, hence CloudFront in us-east-1
    for text in (module, guide):
        assert "HTTP API" in text
        assert "us-east-1" in text
        assert "cannot be associated" in text or "cannot take" in text


def test_the_cost_model_counts_the_alarms_and_web_acl_rules_the_stack_has(
    template: Template, deployed_app: Any
) -> None:
    # Given the stack's alarms and the web ACL's rules
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    acl_stack = deployed_app.node.find_child(WEB_ACL_STACK_NAME)
    (web_acl,) = Template.from_stack(acl_stack).find_resources("AWS::WAFv2::WebACL").values()

    # When / Then `message-center cost` prices as many as are deployed
    assert len(alarms) == ALARMS_IN_STACK
    assert len(web_acl["Properties"]["Rules"]) == WAF_RULES_IN_STACK
