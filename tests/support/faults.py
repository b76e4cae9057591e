"""Failures injected where they happen in production: at the AWS SDK boundary, or as the Lambda
runtime ending an invocation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError


class LambdaTimeout(BaseException):
    """The runtime ending an invocation at its deadline: not an ``Exception``, so no ``except
    Exception`` in the code under test sees it, and nothing after it runs (as when the sandbox is
    frozen mid-call)."""


@dataclass
class Fault:
    """Which calls of one AWS operation fail (1-based, counting every call while it is active)."""

    operation: str  # "<service>.<Operation>", e.g. "ses.SendRawEmail"
    failing_calls: frozenset[int]
    raises: type[BaseException] = EndpointConnectionError
    calls: int = 0
    failed: list[int] = field(default_factory=list)

    def __call__(self, **_: Any) -> None:
        self.calls += 1
        if self.calls in self.failing_calls:
            self.failed.append(self.calls)
            if self.raises is EndpointConnectionError:
                service = self.operation.split(".")[0]
                raise EndpointConnectionError(endpoint_url=f"https://{service}.eu-central-1.amazonaws.com")
            raise self.raises(f"{self.operation} call {self.calls}")


@contextmanager
def failing(operation: str, *calls: int, raises: type[BaseException] = EndpointConnectionError) -> Iterator[Fault]:
    """Make the given calls of ``operation`` fail, as seen by boto3 clients created while this is
    active (the functions build theirs on their first invocation)."""
    fault = Fault(operation, frozenset(calls), raises)
    events = boto3._get_default_session().events  # the session boto3.client() builds clients from
    unique_id = f"fault-{id(fault)}"
    events.register(f"before-call.{operation}", fault, unique_id=unique_id)
    try:
        yield fault
    finally:
        events.unregister(f"before-call.{operation}", unique_id=unique_id)


@contextmanager
def answering(operation: str, status: int, code: str, message: str = "") -> Iterator[Fault]:
    """Make every call of ``operation`` get AWS's error answer ``status``/``code`` (a ClientError
    raised by botocore's own error path), for answers moto never gives: S3's 403 AccessDenied
    for a missing key when the caller may not list the bucket, SNS refusing a platform
    application of another region. Seen by clients created while this is active."""
    fault = Fault(operation, frozenset())

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        fault.calls += 1
        fault.failed.append(fault.calls)
        http = AWSResponse(url=f"https://{operation}.test", status_code=status, headers={}, raw=None)
        parsed = {
            "Error": {"Code": code, "Message": message or code},
            "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}},
        }
        return http, parsed

    events = boto3._get_default_session().events
    unique_id = f"answer-{id(fault)}"
    events.register(f"before-call.{operation}", answer, unique_id=unique_id)
    try:
        yield fault
    finally:
        events.unregister(f"before-call.{operation}", unique_id=unique_id)
