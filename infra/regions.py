"""Where the Message Center can run: a region in which SES receives mail.

Inbound mail (replies by e-mail) needs SES email receiving, which only some regions offer; in the
others the receipt-rule resource types do not exist (eu-central-2, for example), or the stack
deploys and mail to the relay domain is never received. The list below is SES's table of email
receiving endpoints (``inbound-smtp.<region>.amazonaws.com``) in the AWS General Reference ("Amazon
Simple Email Service endpoints and quotas"); a region added there is added here (and to
docs/deploy.md, which a test keeps in step).

A synth that knows its region (the CDK CLI sets ``CDK_DEFAULT_REGION`` from the profile, and needs
a region to deploy at all) refuses any other region, naming the allowed ones.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Token

SES_RECEIVING_REGIONS: Final = (
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "ca-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-central-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-northeast-1",
)


def inbound_smtp_endpoint(region: str) -> str:
    """The host the relay domain's MX record points at."""
    return f"inbound-smtp.{region}.amazonaws.com"


def require_ses_receiving_region(region: str) -> None:
    """Refuse a region where SES does not receive mail; an unresolved region is not checked."""
    if Token.is_unresolved(region) or region in SES_RECEIVING_REGIONS:
        return
    raise ValueError(
        f"region {region!r} cannot host the Message Center: SES receives e-mail (replies to the relay "
        f"domain) only in {', '.join(SES_RECEIVING_REGIONS)}. Deploy to one of them "
        "(AWS_REGION=<region> or the profile's region), see docs/deploy.md."
    )
