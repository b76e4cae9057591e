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


def build(app: App) -> MessageCenterStack:
    """Add the stack and the cdk-nag checks that every synth (CLI and tests) must pass."""
    stack = MessageCenterStack(
        app,
        STACK_NAME,
        description="Message Center: buyer-seller messaging API",
        # Unset without credentials: the stack is then environment-agnostic and still synthesizes.
        env=Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")),
    )
    # cdk-nag 3 is a policy-validation plugin (no longer an Aspect): an unacknowledged finding fails synth.
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return stack


def main() -> None:
    app = App()
    build(app)
    app.synth()


if __name__ == "__main__":
    main()
