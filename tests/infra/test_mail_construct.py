"""The relay domain's SES identity, the reply-token key, and who may use them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import Validations
from aws_cdk.assertions import Template

from infra import constants
from infra.mail_construct import relay_domain_from_context
from infra.stack import MessageCenterStack

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


def _identity_arn(identity_id: str) -> dict[str, Any]:
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":ses:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":identity/",
                {"Ref": identity_id},
            ],
        ]
    }


def test_relay_domain_is_an_ses_domain_identity_signing_with_easy_dkim(relay_identity: Resource) -> None:
    # Given / When the synthesized SES identity
    props = relay_identity[1]["Properties"]

    # Then it is the (default) relay domain, DKIM-signed with SES-managed 2048-bit keys
    assert props["EmailIdentity"] == constants.DEFAULT_RELAY_DOMAIN
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


def test_only_the_stream_function_sends_mail_and_only_from_the_relay_identity(
    template: Template, stream_function: Resource, api_function: Resource, relay_identity: Resource
) -> None:
    # Given the SES statements of both functions' roles
    stream_statements = _statements(template, stream_function, "ses:")
    api_statements = _statements(template, api_function, "ses:")

    # When / Then the stream function may send raw and v2 mail as the relay domain, nothing else
    (statement,) = stream_statements
    assert set(statement) == {"Effect", "Action", "Resource"}
    assert statement["Effect"] == "Allow"
    assert sorted(_as_list(statement["Action"])) == ["ses:SendEmail", "ses:SendRawEmail"]
    assert statement["Resource"] == _identity_arn(relay_identity[0])
    # and the API sends no mail at all
    assert api_statements == []


def test_both_functions_may_read_the_token_key_and_no_other_secret(
    template: Template, stream_function: Resource, api_function: Resource, mail_token_secret: Resource
) -> None:
    for function in (stream_function, api_function):
        # Given / When the Secrets Manager statements of the function's role
        (statement,) = _statements(template, function, "secretsmanager:")

        # Then it may read the value of the token key only
        assert statement["Effect"] == "Allow", function[0]
        assert statement["Action"] == "secretsmanager:GetSecretValue", function[0]
        assert statement["Resource"] == {"Ref": mail_token_secret[0]}, function[0]
    # and the stream function (which signs reply addresses) is told where the key and the domain are,
    # the API (which reads neither) is not
    variables = stream_function[1]["Properties"]["Environment"]["Variables"]
    assert variables["MAIL_TOKEN_SECRET_ARN"] == {"Ref": mail_token_secret[0]}
    assert variables["RELAY_DOMAIN"] == constants.DEFAULT_RELAY_DOMAIN
    api_variables = api_function[1]["Properties"]["Environment"]["Variables"]
    assert "RELAY_DOMAIN" not in api_variables and "MAIL_TOKEN_SECRET_ARN" not in api_variables


def test_token_key_is_a_generated_64_character_key_kept_with_the_stack_gone(
    mail_token_secret: Resource,
) -> None:
    # Given / When the synthesized secret
    _, definition = mail_token_secret
    props = definition["Properties"]

    # Then CloudFormation generates a 64-character alphanumeric key under a fixed name, and
    # deleting the stack never takes it (it would orphan every reply address already sent)
    assert props["Name"] == "message-center/mail-token-key"
    assert props["GenerateSecretString"] == {"PasswordLength": 64, "ExcludePunctuation": True}
    assert "SecretString" not in props
    assert definition["DeletionPolicy"] == "Retain"
    assert definition["UpdateReplacePolicy"] == "Retain"


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
        (None, "relay.message-center.example"),
        ("mail.allegro.pl", "mail.allegro.pl"),
        (" Relay.Allegro.CZ ", "relay.allegro.cz"),
    ],
)
def test_relay_domain_context_values(value: Any, expected: str) -> None:
    assert relay_domain_from_context(value) == expected


@pytest.mark.parametrize(
    "value",
    ["", "localhost", "relay..example", "-relay.example", "relay.example.", "a b.example", 42, ["x.pl"]],
)
def test_relay_domain_context_rejects_non_domains(value: Any) -> None:
    with pytest.raises(ValueError, match=constants.RELAY_DOMAIN_CONTEXT_KEY):
        relay_domain_from_context(value)
