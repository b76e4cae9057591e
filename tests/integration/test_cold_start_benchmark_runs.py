"""``python -m benchmarks.cold_start`` measures real containers (here on the checkout and this
environment's packages instead of the built layer, which needs pip and minutes).

Not a timed test: it proves the measurements run against the current handlers and that the report
prints every figure with its goal.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path

import pytest

from benchmarks.cold_start import (
    Container,
    FirstRequests,
    Imports,
    Report,
    handler_packages,
    lambda_environment,
    measure_first_requests,
    measure_imports,
    render,
)

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
# The shared package and this environment's packages, in the place of the layer.
LAYER = os.pathsep.join((str(ROOT / "layers"), sysconfig.get_paths()["purelib"]))


def _container(package: str) -> Container:
    return Container(
        sys.executable,
        FUNCTIONS,
        Path(LAYER),
        lambda_environment(FUNCTIONS, f"message-center-{package}"),
    )


def test_every_function_is_imported_next_to_boto3() -> None:
    # Given a container per function
    containers = {package: _container(package) for package in handler_packages()}

    # When measuring cold imports once
    imports = measure_imports(containers, runs=1)

    # Then each function and boto3 took time, and the ratios are to boto3
    assert set(imports.seconds) == {"boto3", *(f"{package}.handler" for package in handler_packages())}
    assert {"api", "stream", "inbound_mail"} <= set(handler_packages())
    assert all(seconds > 0 for seconds in imports.seconds.values())
    assert imports.ratio("boto3") == 1.0


def test_a_first_send_in_a_new_container_is_measured() -> None:
    # Given the moto server the containers talk to
    from local_runtime.emulator import AwsEmulator

    aws = AwsEmulator()
    aws.start()
    try:
        # When one container sends (first and warm) and another lists threads
        first = measure_first_requests(_container("api").python, FUNCTIONS, Path(LAYER), aws.endpoint_url, runs=1)
    finally:
        aws.stop()

    # Then the figures are there, and the first requests built the DynamoDB client alone
    assert first.first_send_ms > first.warm_send_ms > 0
    assert first.model_load_ms > 0
    assert first.list_threads_clients == ("dynamodb",)
    assert first.first_send_clients == ("dynamodb",)


@pytest.mark.parametrize(("ratio", "verdict"), [(1.2, "yes"), (2.0, "**NO**")])
def test_the_report_prints_each_figure_with_its_goal(ratio: float, verdict: str) -> None:
    # Given measurements
    report = Report(
        python="/usr/bin/python3.12",
        imports=Imports({"boto3": 0.2, "api.handler": 0.2 * ratio}, runs=3, wall_seconds={"boto3": 0.3}),
        first=FirstRequests(150.0, 10.0, 60.0, ("dynamodb",), ("dynamodb",), 30.0, 3),
        layer_bytes=58_000_000,
        layer_largest=[("botocore", 25_000_000)],
    )

    # When rendered
    text = render(report)

    # Then the import ratio, the first send beyond a warm one and the layer size carry verdicts
    assert f"| `import api.handler` | {0.2 * ratio:.3f} | nan | {ratio:.2f} | {verdict} |" in text
    assert "| `import boto3` | 0.200 | 0.300 | 1.00 | — |" in text
    assert "| first send beyond a warm one (goal ≤ 100) | 140.0 (**NO**) |" in text
    assert "58.0 MB unzipped (goal ≤ 60 MB: yes)" in text
    assert "list threads: dynamodb; send: dynamodb" in text
