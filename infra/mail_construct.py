"""The e-mail channel's shared parts: the relay domain's SES identity and the reply-token key.

Outgoing e-mail copies (the stream function) are sent From a masked address of the relay domain
with a Reply-To thread address signed with the key below; inbound mail (a later construct in this
module's concern) verifies those signatures with the same key.

Deploy-time steps, outside CloudFormation: SES verifies the domain and signs with Easy DKIM only
once the three DKIM CNAME records (stack outputs ``RelayDomainDkim1..3``) are published in the
relay domain's DNS zone, next to the records this construct prints (``RelayDomainMx``, the custom
MAIL FROM domain's ``MailFromMx`` and ``MailFromSpf``, and ``RelayDomainDmarc``); and while the SES
account is in the sandbox, mail reaches verified recipients only.

The relay domain is required context (``-c relayDomain=relay.shop.example``): there is no sensible
default, since SES can only verify a domain whose DNS zone you control. cdk.json carries a
reserved ``.example`` domain so that a developer's offline ``make synth`` works; a synth that knows
its account (the CLI's, with credentials: every deploy) refuses reserved domains, whose identity
could never verify.

Nothing here has a fixed name: the key's secret is named by CloudFormation (a second stack, or a
redeploy after ``cdk destroy`` left the retained secret behind, never collides), and the SES
identity is the relay domain itself, so each stack needs its own relay domain.
"""

from __future__ import annotations

import re
from typing import Any

from aws_cdk import Acknowledgment, CfnOutput, Fn, RemovalPolicy, Stack, Token, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from constructs import Construct
from message_center.deployment import Env

from infra import constants
from infra.regions import inbound_smtp_endpoint

# The stream function sends the MIME message it built with SES v1 SendRawEmail, and nothing else.
SEND_ACTIONS = ("ses:SendRawEmail",)
TOKEN_KEY_READ_ACTIONS = ("secretsmanager:GetSecretValue",)
# Bounces and complaints come back to bounce.<relay domain> (custom MAIL FROM): SPF then aligns
# with the From domain, which DMARC needs.
MAIL_FROM_SUBDOMAIN = "bounce"
SPF_RECORD = '"v=spf1 include:amazonses.com ~all"'
# Quarantine what fails both aligned DKIM (SES signs with the relay domain) and aligned SPF.
DMARC_RECORD = '"v=DMARC1; p=quarantine; adkim=s; aspf=r"'

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# RFC 2606 / RFC 6761: names that can never be registered, so SES could never verify them.
_RESERVED_TLDS = ("example", "test", "invalid", "localhost")
_RESERVED_DOMAINS = ("example.com", "example.net", "example.org")


def relay_domain_from_context(value: Any) -> str:
    """The relay domain from the required ``relayDomain`` context value."""
    if value is None:
        raise ValueError(
            f"context {constants.RELAY_DOMAIN_CONTEXT_KEY!r} is required: the domain of the masked relay "
            "addresses, whose DNS zone you control (e.g. -c relayDomain=relay.shop.example.com); see docs/deploy.md"
        )
    domain = value.strip().lower() if isinstance(value, str) else value
    if not isinstance(domain, str) or not _DOMAIN.match(domain):
        raise ValueError(f"context {constants.RELAY_DOMAIN_CONTEXT_KEY!r} must be a DNS domain name, got {value!r}")
    return domain


def is_reserved_domain(domain: str) -> bool:
    """Whether ``domain`` lies under a name reserved for examples and tests (never registrable)."""
    return domain.rsplit(".", 1)[-1] in _RESERVED_TLDS or any(
        domain == reserved or domain.endswith(f".{reserved}") for reserved in _RESERVED_DOMAINS
    )


class MailConstruct(Construct):
    """SES domain identity (Easy DKIM) of the relay domain and the HMAC key of reply addresses."""

    def __init__(self, scope: Construct, construct_id: str, *, relay_domain: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        if is_reserved_domain(relay_domain) and not Token.is_unresolved(stack.account):
            raise ValueError(
                f"relay domain {relay_domain!r} is reserved for examples: SES could never verify it. "
                f"Deploy with -c {constants.RELAY_DOMAIN_CONTEXT_KEY}=<a domain whose DNS zone you control> "
                "(see docs/deploy.md)"
            )
        self.relay_domain = relay_domain
        self.mail_from_domain = f"{MAIL_FROM_SUBDOMAIN}.{relay_domain}"
        # Verified and DKIM-signed once the CNAME records in self.identity.dkim_records are in DNS
        # (see the module docstring); until then SES refuses to send from the domain.
        self.identity = ses.EmailIdentity(
            self,
            "RelayDomainIdentity",
            identity=ses.Identity.domain(relay_domain),
            dkim_identity=ses.DkimIdentity.easy_dkim(ses.EasyDkimSigningKeyLength.RSA_2048_BIT),
            dkim_signing=True,
            mail_from_domain=self.mail_from_domain,
            # Without the MX record SES keeps sending with its own MAIL FROM (amazonses.com).
            mail_from_behavior_on_mx_failure=ses.MailFromBehaviorOnMxFailure.USE_DEFAULT_VALUE,
        )
        # No secret_name: CloudFormation names it, so it never collides (see the module docstring).
        self.token_key = secretsmanager.Secret(
            self,
            "MailTokenKey",
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
        self._dns_outputs(stack)

    def _dns_outputs(self, stack: Stack) -> None:
        """The records to publish besides the DKIM CNAMEs (those are the stack's ``RelayDomainDkim*``)."""
        records = {
            "RelayDomainMx": (
                Fn.join(" ", [self.relay_domain, "MX", "10", inbound_smtp_endpoint(stack.region)]),
                "Lets SES receive replies for the relay domain (activate the receipt rule set too)",
            ),
            "MailFromMx": (
                Fn.join(" ", [self.mail_from_domain, "MX", "10", f"feedback-smtp.{stack.region}.amazonses.com"]),
                "Custom MAIL FROM domain: bounces and complaints return to SES",
            ),
            "MailFromSpf": (
                f"{self.mail_from_domain} TXT {SPF_RECORD}",
                "SPF of the custom MAIL FROM domain (aligned with the relay domain for DMARC)",
            ),
            "RelayDomainDmarc": (
                f"_dmarc.{self.relay_domain} TXT {DMARC_RECORD}",
                "DMARC policy of the relay domain",
            ),
        }
        for output_id, (value, description) in records.items():
            output = CfnOutput(self, output_id, value=value, description=f"DNS record: {description}")
            output.override_logical_id(output_id)

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
        """Let a function send mail from addresses of the relay domain, and from nothing else.

        SES authorizes a send against the From identity and, while the account is in the SES
        sandbox, against each recipient's verified identity too; so the statement covers this
        account's identities in this region, and the ``ses:FromAddress`` condition keeps the
        sender to the relay domain.
        """
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=list(SEND_ACTIONS),
                resources=[Stack.of(self).format_arn(service="ses", resource="identity", resource_name="*")],
                conditions={"StringLike": {"ses:FromAddress": f"*@{self.relay_domain}"}},
            )
        )
        if function.role is None:  # pragma: no cover - every function here has its own role
            raise ValueError(f"{function.node.path} has no role")
        Validations.of(function.role).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::{_account_identities_finding(Stack.of(self))}]",
                reason="In the SES sandbox a send is also authorized against the recipient's verified "
                "identity; the ses:FromAddress condition still limits the sender to the relay domain.",
            )
        )


def _account_identities_finding(stack: Stack) -> str:
    """How cdk-nag names ``identity/*``: pseudo parameters as ``<AWS::...>``, except those the
    synth already knows (the CLI sets the account and region, and with them the partition)."""

    def known(value: str, pseudo: str) -> str:
        return f"<AWS::{pseudo}>" if Token.is_unresolved(value) else value

    return (
        f"arn:{known(stack.partition, 'Partition')}:ses:{known(stack.region, 'Region')}:"
        f"{known(stack.account, 'AccountId')}:identity/*"
    )
