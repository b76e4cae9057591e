"""What a new API container does on Lambda: only what the request needs (issue #13).

The timings are `make bench`'s (benchmarks/cold_start.py); these tests check behaviour that users
and the bill see: which AWS clients a first request builds, and which routes exist on Lambda.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.session import Session

from tests.support.api import build_event, call, invoke


@pytest.fixture
def clients_built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The service names of the botocore clients created from now on (boto3's and pynamodb's
    alike); request it after the fixtures that set data up."""
    built: list[str] = []
    create_client = Session.create_client

    def recording(self: Session, service_name: str, *args: object, **kwargs: object) -> object:
        built.append(service_name)
        return create_client(self, service_name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Session, "create_client", recording)
    return built


def test_a_first_list_threads_request_builds_only_the_table_client(users, aws, clients_built):
    # Given a new container: the API's services are built afresh from its settings
    from functions.api import handler

    handler.container.install(aws.api)

    # When its first request lists the caller's threads
    response = call("api_list_threads", user_id=users["anna_kowalska"])

    # Then the inbox is answered with the DynamoDB connection alone: no S3, SNS or Secrets Manager client
    assert response.status == 200
    assert clients_built == ["dynamodb"]


def test_the_first_send_builds_no_push_or_secrets_client(users, aws, question_thread, clients_built):
    # Given a new container
    from functions.api import handler

    handler.container.install(aws.api)

    # When its first request is a message in an existing thread (no attachments)
    response = call(
        "api_write_in_thread",
        user_id=users["anna_kowalska"],
        path={"threadId": question_thread},
        body={"text": "Czy wysyłka będzie jutro?", "attachments": []},
    )

    # Then it is stored using the table alone
    assert response.status == 201
    assert clients_built == ["dynamodb"]


def test_the_lambda_handler_has_no_swagger_ui(aws):
    # Given the API handler as Lambda runs it (the local runtime adds Swagger UI itself)
    event = build_event("api_openapi", user_id=None)
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/swagger"
    event["routeKey"] = "GET /swagger"

    # When /swagger is requested
    response = invoke(event)

    # Then there is no such route, while the OpenAPI document is still served with its security scheme
    assert response.status == 404
    document = call("api_openapi", user_id=None).json
    assert document["components"]["securitySchemes"]["bearer"]["bearerFormat"] == "JWT"
    assert document["security"] == [{"bearer": []}]


def _lambda_like_environment(package: str) -> dict[str, str]:
    """Where Powertools' tracer is on, as in Lambda."""
    root = Path(__file__).resolve().parents[2]
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_REGION": "eu-central-1",
        "AWS_LAMBDA_FUNCTION_NAME": f"message-center-{package}",
        "LAMBDA_TASK_ROOT": str(root / "functions"),
        "PYTHONPATH": os.pathsep.join((str(root), str(root / "layers"))),
    }


def _patched_after(package: str, statements: str) -> str:
    probe = (
        f"import functions.{package}.handler as handler; {statements}; from aws_xray_sdk.core import patcher; "
        "print(handler.tracer.disabled, sorted(patcher._PATCHED_MODULES))"
    )
    environment = _lambda_like_environment(package)
    completed = subprocess.run(
        [sys.executable, "-c", probe], env=environment, capture_output=True, text=True, check=True
    )
    return completed.stdout.split("\n")[0]


@pytest.mark.parametrize("package", ["api", "stream", "inbound_mail"])
def test_a_cold_start_instruments_only_the_aws_sdk(package):
    # Given a Lambda-like environment, where Powertools' tracer is on
    # When the handler is imported, as at a cold start
    patched = _patched_after(package, "pass")

    # Then X-Ray wraps the AWS SDK (boto3 and pynamodb go through botocore), and nothing else
    assert patched == "False ['botocore']"


def test_an_http_translation_provider_is_traced_once_configured():
    # Given a cold-started stream function in a Lambda-like environment
    # When an HTTP translation provider's session is built (Google or DeepL configured)
    patched = _patched_after(
        "stream", "from message_center.adapters.translation.http import retrying_session; retrying_session()"
    )

    # Then its requests are traced too
    assert patched == "False ['botocore', 'requests']"
