"""CDK entry point (``cdk.json``: ``python3 infra/app.py``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Run as a script, Python only puts infra/ on sys.path; the app imports ``infra.*`` and the
# shared package (the single source of the table schema and the route table).
_REPO_ROOT = Path(__file__).resolve().parent.parent
for _path in (_REPO_ROOT / "layers", _REPO_ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from aws_cdk import App, Environment, Validations  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from infra.constants import STACK_NAME  # noqa: E402
from infra.stack import MessageCenterStack  # noqa: E402
from infra.waf_construct import WEB_ACL_REGION, WEB_ACL_STACK_NAME, WebAclStack  # noqa: E402
from infra.web_construct import WebConstruct  # noqa: E402


def build(app: App) -> MessageCenterStack:
    """Add the stack (and, when the account and region are known, its us-east-1 web ACL stack) and
    the cdk-nag checks that every synth (CLI and tests) must pass."""
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    stack = MessageCenterStack(
        app,
        STACK_NAME,
        description="Message Center: buyer-seller messaging API",
        # Unset without credentials: the stack is then environment-agnostic and still synthesizes.
        env=Environment(account=account, region=region),
        cross_region_references=True,
    )
    web = stack.node.find_child("Web")
    if not isinstance(web, WebConstruct):  # pragma: no cover - the stack always builds its web client
        raise TypeError("the stack has no web client construct")
    if account and region:
        web_acl = WebAclStack(
            app,
            WEB_ACL_STACK_NAME,
            description="Message Center: AWS WAF web ACL of the web distribution (CloudFront, us-east-1)",
            env=Environment(account=account, region=WEB_ACL_REGION),
        )
        web.attach_web_acl(web_acl.web_acl_arn)
    else:
        web.acknowledge_no_web_acl()
    # cdk-nag 3 is a policy-validation plugin (no longer an Aspect): an unacknowledged finding fails synth.
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return stack


def main() -> None:
    app = App()
    build(app)
    app.synth()


if __name__ == "__main__":
    main()
