"""The relay domain's SES identity, the reply-token key, and who may use them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import Validations
from aws_cdk.assertions import Template

from infra import constants
from infra.mail_construct import is_reserved_domain, relay_domain_from_context
from infra.stack import MessageCenterStack
from tests.infra.conftest import REPO_ROOT

ACCOUNT = "123456789012"

Resource = tuple[str, dict[str, Any]]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(template: Template, function: Resource, prefix: str) -> list[dict[str, Any]]:
    """The role statements of ``function`` with any action of the service ``prefix``."""
    role_id = function[1]["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if any(action.startswith(prefix) for action in _as_list(statement["Action"]))
    ]


# Every SES identity of the stack's account and region (see the sending test).
ACCOUNT_IDENTITIES = {
    "Fn::Join": [
        "",
        [
            "arn:",
            {"Ref": "AWS::Partition"},
            ":ses:",
            {"Ref": "AWS::Region"},
            ":",
            {"Ref": "AWS::AccountId"},
            ":identity/*",
        ],
    ]
}


def test_relay_domain_is_an_ses_domain_identity_signing_with_easy_dkim(relay_identity: Resource) -> None:
    # Given / When the synthesized SES identity
    props = relay_identity[1]["Properties"]

    # Then it is the relay domain (cdk.json's synth-only one), DKIM-signed with SES-managed 2048-bit keys
    assert props["EmailIdentity"] == constants.DEV_RELAY_DOMAIN
    assert props["DkimAttributes"] == {"SigningEnabled": True}
    assert props["DkimSigningAttributes"] == {"NextSigningKeyLength": "RSA_2048_BIT"}
    assert "DomainSigningPrivateKey" not in props["DkimSigningAttributes"]  # Easy DKIM, not BYODKIM


def test_dkim_records_to_publish_are_stack_outputs(template: Template, relay_identity: Resource) -> None:
    # Given the stack outputs
    outputs = {name: o for name, o in template.find_outputs("*").items() if name.startswith("RelayDomainDkim")}

    # When reading what each one joins
    joined = [output["Value"]["Fn::Join"] for output in outputs.values()]

    # Then the three CNAME records SES needs in DNS are printed after deploy
    assert len(outputs) == 3
    for number, (separator, (name, record_type, value)) in enumerate(sorted(joined, key=str), start=1):
        assert separator == " "
        assert name == {"Fn::GetAtt": [relay_identity[0], f"DkimDNSTokenName{number}"]}
        assert record_type == "CNAME"
        assert value == {"Fn::GetAtt": [relay_identity[0], f"DkimDNSTokenValue{number}"]}


def test_only_the_stream_function_sends_mail_and_only_from_the_relay_domain(
    template: Template, stream_function: Resource, api_function: Resource
) -> None:
    # Given the SES statements of both functions' roles
    stream_statements = _statements(template, stream_function, "ses:")
    api_statements = _statements(template, api_function, "ses:")

    # When / Then the stream function may send raw mail (the one call it makes), From addresses of
    # the relay domain only, authorized against any identity of the account: in the SES sandbox a
    # send is also authorized against the recipient's verified identity, which a policy naming
    # only the relay identity refused (every e-mail copy ended in the dead-letter queue)
    (statement,) = stream_statements
    assert set(statement) == {"Effect", "Action", "Resource", "Condition"}
    assert statement["Effect"] == "Allow"
    assert _as_list(statement["Action"]) == ["ses:SendRawEmail"]
    assert statement["Resource"] == ACCOUNT_IDENTITIES
    assert statement["Condition"] == {"StringLike": {"ses:FromAddress": f"*@{constants.DEV_RELAY_DOMAIN}"}}
    # and the API sends no mail at all
    assert api_statements == []


def test_only_the_functions_that_sign_or_verify_reply_addresses_may_read_the_token_key(
    template: Template, stream_function: Resource, api_function: Resource, mail_token_secret: Resource
) -> None:
    # Given / When the Secrets Manager statements of the stream function's role
    (statement,) = _statements(template, stream_function, "secretsmanager:")

    # Then it may read the value of the token key only
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "secretsmanager:GetSecretValue"
    assert statement["Resource"] == {"Ref": mail_token_secret[0]}
    # and the API, which neither signs nor verifies reply addresses, may read no secret at all
    assert _statements(template, api_function, "secretsmanager:") == []
    # The stream function (which signs reply addresses) is told where the key and the domain are,
    # the API (which reads neither) is not
    variables = stream_function[1]["Properties"]["Environment"]["Variables"]
    assert variables["MAIL_TOKEN_SECRET_ARN"] == {"Ref": mail_token_secret[0]}
    assert variables["RELAY_DOMAIN"] == constants.DEV_RELAY_DOMAIN
    api_variables = api_function[1]["Properties"]["Environment"]["Variables"]
    assert "RELAY_DOMAIN" not in api_variables and "MAIL_TOKEN_SECRET_ARN" not in api_variables


def test_token_key_is_a_generated_64_character_key_under_a_generated_name_kept_with_the_stack_gone(
    mail_token_secret: Resource,
) -> None:
    # Given / When the synthesized secret
    _, definition = mail_token_secret
    props = definition["Properties"]

    # Then CloudFormation generates a 64-character alphanumeric key under a name of its own (a
    # second stack, or a redeploy after `cdk destroy` left the retained secret, never collides
    # with a fixed name), and deleting the stack never takes it (it would orphan every reply
    # address already sent)
    assert "Name" not in props
    assert props["GenerateSecretString"] == {"PasswordLength": 64, "ExcludePunctuation": True}
    assert "SecretString" not in props
    assert definition["DeletionPolicy"] == "Retain"
    assert definition["UpdateReplacePolicy"] == "Retain"


def test_the_relay_identity_is_named_by_its_domain_and_goes_with_the_stack(
    synth_stack: Any, relay_identity: Resource
) -> None:
    # Given two stacks with their own relay domains
    identities = [
        next(
            iter(
                Template.from_stack(synth_stack(relayDomain=domain)).find_resources("AWS::SES::EmailIdentity").values()
            )
        )
        for domain in ("relay.first-shop.example", "relay.second-shop.example")
    ]

    # When / Then each identity is its stack's domain (no fixed name shared by both), and the
    # default one is deleted with its stack, so a redeploy after `cdk destroy` creates it afresh
    assert [i["Properties"]["EmailIdentity"] for i in identities] == [
        "relay.first-shop.example",
        "relay.second-shop.example",
    ]
    assert relay_identity[1].get("DeletionPolicy", "Delete") == "Delete"


def test_dns_records_to_publish_besides_dkim_are_stack_outputs(template: Template) -> None:
    # Given the stack outputs
    outputs = template.find_outputs("*")
    domain = constants.DEV_RELAY_DOMAIN

    # When / Then the relay domain's MX points at SES's inbound endpoint of the stack's region
    region = {"Ref": "AWS::Region"}
    assert outputs["RelayDomainMx"]["Value"] == {
        "Fn::Join": [" ", [f"{domain} MX 10", {"Fn::Join": ["", ["inbound-smtp.", region, ".amazonaws.com"]]}]]
    }
    # a custom MAIL FROM domain returns bounces to SES and has its SPF record
    assert outputs["MailFromMx"]["Value"] == {
        "Fn::Join": [" ", [f"bounce.{domain} MX 10", {"Fn::Join": ["", ["feedback-smtp.", region, ".amazonses.com"]]}]]
    }
    assert outputs["MailFromSpf"]["Value"] == f'bounce.{domain} TXT "v=spf1 include:amazonses.com ~all"'
    assert outputs["RelayDomainDmarc"]["Value"].startswith(f'_dmarc.{domain} TXT "v=DMARC1; p=quarantine;')


def test_the_identity_sends_with_the_custom_mail_from_domain(relay_identity: Resource) -> None:
    # Given / When the identity's MAIL FROM attributes
    attributes = relay_identity[1]["Properties"]["MailFromAttributes"]

    # Then bounces go to bounce.<relay domain>, and sending goes on while its MX is not yet published
    assert attributes == {
        "MailFromDomain": f"bounce.{constants.DEV_RELAY_DOMAIN}",
        "BehaviorOnMxFailure": "USE_DEFAULT_VALUE",
    }


def test_token_key_rotation_is_acknowledged_with_the_reason(stack: MessageCenterStack) -> None:
    # Given the secret construct
    secret = stack.node.find_child("Mail").node.find_child("MailTokenKey")

    # When reading its acknowledged cdk-nag rules
    acknowledged = {
        rule.split("::")[-1]: reason
        for entry in secret.node.metadata
        if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule, reason in entry.data.items()
    }

    # Then SMG4 (no rotation) is deliberate: rotating would break reply addresses already sent
    assert "reply address" in acknowledged["AwsSolutions-SMG4"]


def test_relay_domain_comes_from_context(synth_stack: Any) -> None:
    # Given a deployment naming its relay domain
    template = Template.from_stack(synth_stack(**{constants.RELAY_DOMAIN_CONTEXT_KEY: "Relay.Allegro.Example"}))

    # When reading the SES identity
    identities = template.find_resources("AWS::SES::EmailIdentity")

    # Then it is that domain (DNS names are case-insensitive: lowered once here)
    assert [i["Properties"]["EmailIdentity"] for i in identities.values()] == ["relay.allegro.example"]
    assert json.dumps(template.to_json()).count("Relay.Allegro.Example") == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("mail.allegro.pl", "mail.allegro.pl"),
        (" Relay.Allegro.CZ ", "relay.allegro.cz"),
    ],
)
def test_relay_domain_context_values(value: Any, expected: str) -> None:
    assert relay_domain_from_context(value) == expected


@pytest.mark.parametrize(
    "value",
    [None, "", "localhost", "relay..example", "-relay.example", "relay.example.", "a b.example", 42, ["x.pl"]],
)
def test_relay_domain_context_rejects_a_missing_value_and_non_domains(value: Any) -> None:
    with pytest.raises(ValueError, match=constants.RELAY_DOMAIN_CONTEXT_KEY):
        relay_domain_from_context(value)


def test_without_a_relay_domain_the_app_refuses_to_synth(synth_stack: Any) -> None:
    # Given a synth without the relayDomain context (cdk.json's value removed)
    # When / Then it fails, naming the key
    with pytest.raises(ValueError, match="'relayDomain' is required"):
        synth_stack(relayDomain=None)


def test_a_synth_for_an_account_refuses_the_reserved_development_domain(
    synth_stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the CLI's environment naming an account (as on every deploy) and cdk.json's relay domain
    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", ACCOUNT)
    monkeypatch.setenv("CDK_DEFAULT_REGION", "eu-west-1")

    # When / Then the synth refuses it: SES could never verify a reserved .example domain
    with pytest.raises(ValueError, match="reserved for examples"):
        synth_stack()
    # while a real domain synthesizes
    template = Template.from_stack(synth_stack(relayDomain="relay.shop-messages.eu"))
    assert len(template.find_resources("AWS::SES::EmailIdentity")) == 1


def test_the_development_relay_domain_in_cdk_json_is_reserved() -> None:
    # Given the relay domain cdk.json gives developers' offline synths
    domain = json.loads((REPO_ROOT / "cdk.json").read_text())["context"][constants.RELAY_DOMAIN_CONTEXT_KEY]

    # When / Then it is the documented one, and can never be deployed
    assert domain == constants.DEV_RELAY_DOMAIN
    assert is_reserved_domain(domain)


@pytest.mark.parametrize(
    ("domain", "reserved"),
    [
        ("relay.message-center.example", True),
        ("relay.shop.test", True),
        ("mail.example.com", True),
        ("example.org", True),
        ("relay.example.company.pl", False),
        ("myexample.com", False),
        ("relay.allegro.pl", False),
    ],
)
def test_reserved_domains(domain: str, reserved: bool) -> None:
    assert is_reserved_domain(domain) is reserved
