from __future__ import annotations

from collections.abc import Callable

import pytest
from aws_cdk import Validations
from aws_cdk.assertions import Annotations, Match, Template
from cdk_nag import AwsSolutionsChecks

from infra.stack import MessageCenterStack


def test_aws_solutions_checks_leave_no_unacknowledged_finding(stack: MessageCenterStack) -> None:
    # Given the stack as `cdk synth` builds it
    # When running the AWS Solutions rule pack over it
    report = AwsSolutionsChecks().validate_scope(stack)

    # Then no error or warning is left that was not acknowledged with a reason
    findings = [
        (violation.rule_name, resource.construct_path)
        for violation in report.violations
        for resource in violation.violating_resources
    ]
    assert findings == []
    assert report.success


def test_synthesis_reports_no_errors(template: Template, stack: MessageCenterStack) -> None:
    # Given a synthesized stack (cdk-nag is a validation plugin: a finding fails synthesis itself)
    # When reading the construct annotations
    errors = Annotations.from_stack(stack).find_error("*", Match.any_value())

    # Then CDK reported no errors
    assert errors == []


def test_every_acknowledgment_states_a_reason(stack: MessageCenterStack) -> None:
    # Given every rule acknowledged anywhere in the stack
    acknowledged = {
        rule: reason
        for construct in stack.node.find_all()
        for entry in construct.node.metadata
        if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule, reason in entry.data.items()
    }

    # When / Then each one is a cdk-nag rule with a written reason
    assert acknowledged
    for rule, reason in acknowledged.items():
        assert "AwsSolutions-" in rule
        assert len(reason.split()) >= 5, rule


def test_a_stack_for_a_given_account_and_region_has_no_finding_either(
    synth_stack: Callable[..., MessageCenterStack], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the CLI's environment naming an account and a region (literal ARNs, not pseudo parameters)
    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", "123456789012")
    monkeypatch.setenv("CDK_DEFAULT_REGION", "eu-central-1")
    stack = synth_stack(relayDomain="relay.shop-messages.eu")

    for scope in stack.node.root.node.children:  # the stack and its us-east-1 web ACL stack
        # When running the AWS Solutions rule pack over each
        report = AwsSolutionsChecks().validate_scope(scope)

        # Then every acknowledgment still matches its finding
        assert [(v.rule_name, r.construct_path) for v in report.violations for r in v.violating_resources] == []
