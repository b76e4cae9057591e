"""Where a Message Center can be deployed: a region where SES receives mail, and push applications
of the stack's own region and account. Both are refused at synth, with a message saying what to do."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aws_cdk.assertions import Template

from infra import constants
from infra.regions import SES_RECEIVING_REGIONS, require_ses_receiving_region
from infra.stack import MessageCenterStack
from tests.infra.conftest import REPO_ROOT

ACCOUNT = "123456789012"
RELAY_DOMAIN = "relay.shop-messages.eu"
Synth = Callable[..., MessageCenterStack]


def _synth_in(synth_stack: Synth, monkeypatch: pytest.MonkeyPatch, region: str, **context: str) -> MessageCenterStack:
    """The stack as the CLI synthesizes it for ``region`` (as on every deploy)."""
    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", ACCOUNT)
    monkeypatch.setenv("CDK_DEFAULT_REGION", region)
    return synth_stack(relayDomain=RELAY_DOMAIN, **context)


@pytest.mark.parametrize("region", ["eu-central-2", "eu-north-1", "ap-northeast-2", "sa-east-1"])
def test_a_region_without_ses_receiving_is_refused_naming_the_allowed_ones(
    synth_stack: Synth, monkeypatch: pytest.MonkeyPatch, region: str
) -> None:
    # Given the CLI targeting a region where SES does not receive mail (in eu-central-2 the
    # receipt-rule resource types do not even exist)
    # When / Then the synth refuses it and names the regions that work
    with pytest.raises(ValueError, match=f"region '{region}' cannot host the Message Center") as refusal:
        _synth_in(synth_stack, monkeypatch, region)
    for allowed in SES_RECEIVING_REGIONS:
        assert allowed in str(refusal.value)


@pytest.mark.parametrize("region", ["eu-west-1", "eu-central-1", "us-east-1"])
def test_a_region_with_ses_receiving_synthesizes(
    synth_stack: Synth, monkeypatch: pytest.MonkeyPatch, region: str
) -> None:
    # Given / When the CLI targeting a region where SES receives mail
    stack = _synth_in(synth_stack, monkeypatch, region)

    # Then the stack, with its receipt rule, is built for that region
    assert stack.region == region
    assert len(Template.from_stack(stack).find_resources("AWS::SES::ReceiptRule")) == 1


def test_an_environment_agnostic_synth_is_not_refused(stack: MessageCenterStack) -> None:
    # Given a developer's offline synth (no region known: the CLI cannot deploy it either)
    # When / Then it synthesizes; the region is checked whenever one is known
    assert stack.region.startswith("${Token[")
    require_ses_receiving_region(stack.region)


def test_the_deploy_guide_lists_exactly_the_allowed_regions() -> None:
    # Given the deploy guide's region section
    guide = (REPO_ROOT / "docs" / "deploy.md").read_text()

    # When / Then it names every region the app accepts
    for region in SES_RECEIVING_REGIONS:
        assert f"`{region}`" in guide, region


# --- push applications --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "arn", "what"),
    [
        (constants.PUSH_APNS_APPLICATION_ARN_CONTEXT_KEY, f"arn:aws:sns:us-east-1:{ACCOUNT}:app/APNS/shop", "region"),
        (constants.PUSH_FCM_APPLICATION_ARN_CONTEXT_KEY, f"arn:aws:sns:eu-central-1:{ACCOUNT}:app/GCM/shop", "region"),
        (constants.PUSH_FCM_APPLICATION_ARN_CONTEXT_KEY, "arn:aws:sns:eu-west-1:210987654321:app/GCM/shop", "account"),
    ],
)
def test_a_push_application_of_another_region_or_account_is_refused_at_synth(
    synth_stack: Synth, monkeypatch: pytest.MonkeyPatch, key: str, arn: str, what: str
) -> None:
    # Given a stack for eu-west-1 in account 123456789012 and a platform application elsewhere
    # When / Then the synth refuses it: the functions' SNS clients would never find it, so every
    # device registration would fail at run time
    with pytest.raises(ValueError, match=f"push application {arn} is in {what} .* but the stack deploys to {what}"):
        _synth_in(synth_stack, monkeypatch, "eu-west-1", **{key: arn})


def test_push_applications_of_the_stacks_region_and_account_synthesize(
    synth_stack: Synth, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given both platform applications in the stack's region and account
    stack = _synth_in(
        synth_stack,
        monkeypatch,
        "eu-west-1",
        **{
            constants.PUSH_APNS_APPLICATION_ARN_CONTEXT_KEY: f"arn:aws:sns:eu-west-1:{ACCOUNT}:app/APNS/shop",
            constants.PUSH_FCM_APPLICATION_ARN_CONTEXT_KEY: f"arn:aws:sns:eu-west-1:{ACCOUNT}:app/GCM/shop",
        },
    )

    # When / Then the stack is built and the API may register devices with them
    policies = Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    assert f"arn:aws:sns:eu-west-1:{ACCOUNT}:app/APNS/shop" in str(policies)


def test_the_template_needs_bootstrap_version_6_and_the_guide_says_so(template: Template) -> None:
    # Given the template's bootstrap check and the deploy guide
    rule = template.to_json()["Rules"]["CheckBootstrapVersion"]
    guide = (REPO_ROOT / "docs" / "deploy.md").read_text()

    # When reading the versions the template refuses
    (assertion,) = rule["Assertions"]
    refused = assertion["Assert"]["Fn::Not"][0]["Fn::Contains"][0]

    # Then versions 1 to 5 are refused, and the guide bootstraps both regions before the first deploy
    assert refused == ["1", "2", "3", "4", "5"]
    assert "version 6" in guide
    assert "cdk bootstrap aws://$ACCOUNT/eu-central-1 aws://$ACCOUNT/us-east-1" in guide
