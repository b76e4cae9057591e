"""The e-mail channel's shared parts: the relay domain's SES identity and the reply-token key.

Outgoing e-mail copies (the stream function) are sent From a masked address of the relay domain
with a Reply-To thread address signed with the key below; inbound mail (a later construct in this
module's concern) verifies those signatures with the same key.

Deploy-time steps, outside CloudFormation: SES verifies the domain and signs with Easy DKIM only
once the three DKIM CNAME records (stack outputs ``RelayDomainDkim1..3``) are published in the
relay domain's DNS zone; and while the SES account is in the sandbox, mail reaches verified
recipients only.
"""

from __future__ import annotations

import re
from typing import Any

from aws_cdk import Acknowledgment, RemovalPolicy, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from constructs import Construct
from message_center.deployment import Env

from infra import constants

# Sending a MIME message we built (SendRawEmail, SES v1) or a v2 SendEmail (raw or simple content).
SEND_ACTIONS = ("ses:SendRawEmail", "ses:SendEmail")
TOKEN_KEY_READ_ACTIONS = ("secretsmanager:GetSecretValue",)

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def relay_domain_from_context(value: Any) -> str:
    """The relay domain from the ``relayDomain`` context value (``None`` gives the default)."""
    if value is None:
        return constants.DEFAULT_RELAY_DOMAIN
    domain = value.strip().lower() if isinstance(value, str) else value
    if not isinstance(domain, str) or not _DOMAIN.match(domain):
        raise ValueError(f"context {constants.RELAY_DOMAIN_CONTEXT_KEY!r} must be a DNS domain name, got {value!r}")
    return domain


class MailConstruct(Construct):
    """SES domain identity (Easy DKIM) of the relay domain and the HMAC key of reply addresses."""

    def __init__(self, scope: Construct, construct_id: str, *, relay_domain: str) -> None:
        super().__init__(scope, construct_id)
        self.relay_domain = relay_domain
        # Verified and DKIM-signed once the CNAME records in self.identity.dkim_records are in DNS
        # (see the module docstring); until then SES refuses to send from the domain.
        self.identity = ses.EmailIdentity(
            self,
            "RelayDomainIdentity",
            identity=ses.Identity.domain(relay_domain),
            dkim_identity=ses.DkimIdentity.easy_dkim(ses.EasyDkimSigningKeyLength.RSA_2048_BIT),
            dkim_signing=True,
        )
        self.token_key = secretsmanager.Secret(
            self,
            "MailTokenKey",
            secret_name=constants.MAIL_TOKEN_SECRET_NAME,
            description="HMAC key signing the per-thread Reply-To addresses of Message Center e-mails",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=constants.MAIL_TOKEN_KEY_LENGTH,
                exclude_punctuation=True,
            ),
            # Losing the key would orphan every reply address in mail already sent.
            removal_policy=RemovalPolicy.RETAIN,
        )
        Validations.of(self.token_key).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SMG4",
                reason="Rotating the HMAC key would invalidate the reply address of every e-mail "
                "already sent; rotation needs a grace period in which the previous key still "
                "verifies (a two-key secret), which is future work.",
            )
        )

    @property
    def identity_arn(self) -> str:
        """``arn:aws:ses:<region>:<account>:identity/<relay domain>``."""
        return self.identity.email_identity_arn

    def grant_reply_addressing(self, function: lambda_.Function, *, configure: bool = True) -> None:
        """Let a function sign and verify reply addresses: read access to the key and, with
        ``configure``, the variables naming the domain and the key."""
        function.add_to_role_policy(
            iam.PolicyStatement(actions=list(TOKEN_KEY_READ_ACTIONS), resources=[self.token_key.secret_arn])
        )
        if configure:
            function.add_environment(Env.RELAY_DOMAIN, self.relay_domain)
            function.add_environment(Env.MAIL_TOKEN_SECRET_ARN, self.token_key.secret_arn)

    def grant_send(self, function: lambda_.Function) -> None:
        """Let a function send mail From the relay domain's identity, and from nothing else."""
        function.add_to_role_policy(iam.PolicyStatement(actions=list(SEND_ACTIONS), resources=[self.identity_arn]))
