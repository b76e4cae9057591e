"""Cold starts as Lambda has them: import time per function, the first send, the layer's size.

    python -m benchmarks.cold_start [--runs N]

The layer and each function's code are built the way ``cdk synth`` builds them
(``infra.layer_bundling``: pip wheels for the platform, unchecked-hash bytecode compiled by Python
3.12), once for this machine's architecture, to run, and once for the Lambda platform
(manylinux2014_aarch64), to weigh. Every measurement is a fresh interpreter of the runtime's
version (``benchmarks/cold_start_child.py``) with only the function's code and the layer on its
path, writing no bytecode (Lambda's /opt and /var/task are read-only), in a Lambda-like
environment (function name, task root, Powertools variables, an X-Ray trace header): a container.

The layer leaves the AWS SDK to the runtime, so each container also has, after the layer, what
stands in for Lambda's /var/runtime: boto3 as pyproject requires it, installed for this machine.

- Cold import: each function's ``<package>.handler`` next to ``import boto3`` (median of ``--runs``
  containers each, interleaved, so they share the machine's noise), and their ratio.
- First send: a container whose first request is a send, against a moto server (started here,
  so its CPU is not the container's), and then warm sends: handler CPU of each.
- First request: the AWS clients a list-threads request on a new container builds.
- Layer: the unzipped size of the Lambda platform's layer asset, and its largest entries.

Prints Markdown (the README pastes it as is).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHILD = Path(__file__).with_name("cold_start_child.py")
REGION = "eu-central-1"
RUNS = 7
WARM_SENDS = 5
# The goals of issue #13, printed beside the figures.
IMPORT_RATIO_GOAL = 1.5
FIRST_SEND_EXTRA_CPU_GOAL_MS = 100
LAYER_GOAL_MB = 60
LAMBDA_PLATFORM = "manylinux2014_aarch64"
BUYER, OFFER = "anna_kowalska", "12790441001"  # a buyer and an offer of local_runtime/demo_directory.json
MB = 1_000_000


def handler_packages(functions_dir: Path = ROOT / "functions") -> list[str]:
    """Every function in ``functions/`` (a folder with a ``handler.py``)."""
    return sorted(entry.name for entry in functions_dir.iterdir() if (entry / "handler.py").is_file())


def host_platform() -> str:
    """The manylinux platform tag of this machine, so the built layer runs here."""
    machine = platform.machine().lower()
    return "manylinux2014_aarch64" if machine in ("aarch64", "arm64") else f"manylinux2014_{machine}"


# -- building as synth does -------------------------------------------------------------------


def build_layer(output: Path, *, platform_tag: str) -> Path:
    """The layer asset as synth builds it (for ``platform_tag``); returns its site directory."""
    from aws_cdk import DockerImage

    from infra import constants
    from infra.layer_bundling import LAYER_SITE_PACKAGES, LocalLayerBundler, read_runtime_dependencies

    output.mkdir(parents=True)
    bundler = LocalLayerBundler(
        package_dir=constants.SHARED_PACKAGE_DIR,
        requirements=read_runtime_dependencies(constants.PYPROJECT_PATH),
        platform=platform_tag,
        python_version=constants.LAYER_PYTHON_VERSION,
    )
    bundler.try_bundle(str(output), image=DockerImage.from_registry("unused-local-bundling-only"))
    return output / LAYER_SITE_PACKAGES


def build_runtime_sdk(output: Path) -> Path:
    """What stands in for Lambda's /var/runtime: the AWS SDK the Python runtime provides and the
    layer leaves out (``infra.layer_bundling.RUNTIME_PROVIDED``), installed by pip for this machine
    from pyproject's boto3 requirement and compiled like the layer. Returns its directory."""
    from infra import constants
    from infra.layer_bundling import (
        RUNTIME_PROVIDED,
        compile_bytecode,
        read_runtime_dependencies,
        requirement_name,
    )

    sdk = [text for text in read_runtime_dependencies(constants.PYPROJECT_PATH) if requirement_name(text) == "boto3"]
    if requirement_name(sdk[0]) not in RUNTIME_PROVIDED:  # pragma: no cover - a constant of the bundler
        raise RuntimeError("the layer ships boto3; no runtime SDK is needed")
    output.mkdir(parents=True)
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile"]
    subprocess.run([*pip, "--target", str(output), *sdk], check=True)  # noqa: S603 - fixed argv
    compile_bytecode(output, python_version=constants.LAYER_PYTHON_VERSION, mounted_at="/var/runtime")
    return output


def build_function(output: Path, package: str) -> Path:
    """A function's code asset as synth builds it; returns the task root."""
    from aws_cdk import DockerImage

    from infra import constants
    from infra.layer_bundling import LocalFunctionBundler

    output.mkdir(parents=True)
    bundler = LocalFunctionBundler(
        functions_dir=constants.FUNCTIONS_DIR, package=package, python_version=constants.LAYER_PYTHON_VERSION
    )
    bundler.try_bundle(str(output), image=DockerImage.from_registry("unused-local-bundling-only"))
    return output


def runtime_python() -> str:
    from infra import constants
    from infra.layer_bundling import find_python

    return find_python(constants.LAYER_PYTHON_VERSION)


def unzipped_bytes(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file() and not path.is_symlink())


def largest_entries(site: Path, count: int = 8) -> list[tuple[str, int]]:
    sizes = [
        (entry.name, unzipped_bytes(entry) if entry.is_dir() else entry.stat().st_size) for entry in site.iterdir()
    ]
    return sorted(sizes, key=lambda pair: pair[1], reverse=True)[:count]


# -- one container ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Container:
    """How to start a fresh Lambda-like interpreter for one function."""

    python: str
    task: Path
    layer: Path
    environment: Mapping[str, str]
    # The runtime's own packages (Lambda's /var/runtime: the AWS SDK), after the layer on the path.
    runtime: Path | None = None

    @property
    def path(self) -> str:
        return os.pathsep.join(str(entry) for entry in (self.layer, self.runtime) if entry is not None)

    def run(self, job: Mapping[str, Any]) -> dict[str, Any]:
        with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8", delete=False) as file:
            json.dump(job, file)
        try:
            completed = subprocess.run(  # noqa: S603 (the runtime's interpreter, our own script)
                [self.python, "-S", "-B", str(CHILD), str(self.task), self.path, file.name],
                env=dict(self.environment),
                cwd=self.task,
                capture_output=True,
                text=True,
                check=False,
                timeout=300,
            )
        finally:
            os.unlink(file.name)
        if completed.returncode != 0:
            raise RuntimeError(f"container failed ({job.get('module')}):\n{completed.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
        return result


def lambda_environment(task: Path, function_name: str, extra: Mapping[str, str] = {}) -> dict[str, str]:
    """What Lambda sets for a Python function (and the stack adds), nothing of this shell."""
    from message_center.deployment import POWERTOOLS_ENVIRONMENT

    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "LAMBDA_TASK_ROOT": str(task),
        "PYTHONDONTWRITEBYTECODE": "1",
        **POWERTOOLS_ENVIRONMENT,
        **extra,
    }


# -- cold import ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Imports:
    """Median import CPU and wall seconds per module; ``boto3`` is the yardstick. The ratio is of
    CPU time: on a shared machine the wall clock also counts the time spent waiting for a core."""

    seconds: Mapping[str, float]
    runs: int
    wall_seconds: Mapping[str, float] = field(default_factory=dict)

    def ratio(self, module: str) -> float:
        return self.seconds[module] / self.seconds["boto3"]


def measure_imports(containers: Mapping[str, Container], runs: int = RUNS) -> Imports:
    """``import boto3`` and each function's ``<package>.handler``, each in ``runs`` fresh containers,
    interleaved. ``containers`` maps package to its container."""
    any_container = next(iter(containers.values()))
    modules: list[tuple[str, Container]] = [("boto3", any_container)]
    modules += [(f"{package}.handler", container) for package, container in containers.items()]
    cpu: dict[str, list[float]] = {module: [] for module, _ in modules}
    wall: dict[str, list[float]] = {module: [] for module, _ in modules}
    for _ in range(runs):
        for module, container in modules:
            result = container.run({"module": module})
            cpu[module].append(result["import_cpu_seconds"])
            wall[module].append(result["import_seconds"])
    return Imports(
        {module: statistics.median(values) for module, values in cpu.items()},
        runs,
        {module: statistics.median(values) for module, values in wall.items()},
    )


# -- first send -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FirstRequests:
    first_send_ms: float
    warm_send_ms: float
    list_threads_first_ms: float
    list_threads_clients: tuple[str, ...]
    first_send_clients: tuple[str, ...]
    model_load_ms: float
    containers: int

    @property
    def extra_ms(self) -> float:
        return self.first_send_ms - self.warm_send_ms


def settings_environment(settings: Any) -> dict[str, str]:
    """A settings model as the environment variables the stack would set (each field's first name)."""
    from pydantic import AliasChoices

    environment: dict[str, str] = {}
    for name, info in type(settings).model_fields.items():
        value = getattr(settings, name)
        alias = info.validation_alias
        variable = alias.choices[0] if isinstance(alias, AliasChoices) else alias
        if value is not None and isinstance(variable, str):
            environment[variable] = str(value)
    return environment


def _api_fixture(endpoint_url: str) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
    """Resources in the emulator, the demo directory, and a thread of the buyer with a seller.
    Returns the API's environment, a send event in that thread and a list-threads event."""
    from functions.api import handler
    from local_runtime import emulator
    from local_runtime.directory import DEMO_DIRECTORY, load_directory, read_directory
    from tests.support.api import build_event, invoke

    resources = emulator.provision(endpoint_url, REGION)
    settings = emulator.function_settings(endpoint_url, REGION, resources, api_url="http://127.0.0.1:9")
    buyer = load_directory(read_directory(DEMO_DIRECTORY), settings.directory).user_ids[BUYER]
    handler.container.install(settings.api)
    with redirect_stdout(io.StringIO()):  # the handler's metrics
        started = invoke(
            build_event("api_write_new_message", user_id=buyer, body={"offer": {"id": OFFER}, "text": "Dzień dobry!"})
        )
    if started.status != 201:
        raise RuntimeError(f"could not start a thread: {started.status} {started.raw_body}")
    thread_id = started.json["thread"]["id"]
    send = build_event(
        "api_write_in_thread",
        user_id=buyer,
        path={"threadId": thread_id},
        body={"text": "Czy mogę odebrać zamówienie osobiście w sobotę rano?", "attachments": []},
    )
    listing = build_event("api_list_threads", user_id=buyer)
    return settings_environment(settings.api), send, listing


def measure_first_requests(
    python: str, task: Path, layer: Path, endpoint_url: str, runs: int = RUNS, runtime: Path | None = None
) -> FirstRequests:
    """Per container: the first send, then warm sends (handler CPU); and separately the first
    list-threads request and the language model's load."""
    environment, send, listing = _api_fixture(endpoint_url)
    container = Container(python, task, layer, lambda_environment(task, "message-center-api", environment), runtime)
    first: list[float] = []
    warm: list[float] = []
    listing_first: list[float] = []
    model: list[float] = []
    clients: dict[str, tuple[str, ...]] = {}
    for _ in range(runs):
        sends = container.run(
            {"module": "api.handler", "handler": "lambda_handler", "events": [send] * (1 + WARM_SENDS)}
        )
        invocations = sends["invocations"]
        if any(invocation["status"] != 201 for invocation in invocations):
            raise RuntimeError(f"a send failed: {invocations}")
        first.append(invocations[0]["cpu_seconds"])
        warm.append(statistics.median(invocation["cpu_seconds"] for invocation in invocations[1:]))
        clients["send"] = tuple(invocations[0]["clients"])
        lists = container.run({"module": "api.handler", "handler": "lambda_handler", "events": [listing]})
        listing_first.append(lists["invocations"][0]["cpu_seconds"])
        clients["list"] = tuple(lists["invocations"][0]["clients"])
        loaded = container.run({"module": "message_center.domain.language", "calls": ["warm_up"]})
        model.append(loaded["warm_up_cpu_seconds"])
    return FirstRequests(
        first_send_ms=statistics.median(first) * 1000,
        warm_send_ms=statistics.median(warm) * 1000,
        list_threads_first_ms=statistics.median(listing_first) * 1000,
        list_threads_clients=clients["list"],
        first_send_clients=clients["send"],
        model_load_ms=statistics.median(model) * 1000,
        containers=runs,
    )


# -- the report -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    python: str
    imports: Imports
    first: FirstRequests
    layer_bytes: int
    layer_largest: Sequence[tuple[str, int]]


def _verdict(met: bool) -> str:
    return "yes" if met else "**NO**"


def render(report: Report) -> str:
    imports, first = report.imports, report.first
    lines = [
        f"Runtime interpreter: `{report.python}`; layer and function code built as synth builds them, "
        "bytecode as shipped, none written.",
        "",
        f"| cold import (fresh container, median of {imports.runs}) | CPU s | wall s | × `import boto3` (CPU) "
        f"| ≤ {IMPORT_RATIO_GOAL}× |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for module, seconds in imports.seconds.items():
        ratio = imports.ratio(module)
        verdict = "—" if module == "boto3" else _verdict(ratio <= IMPORT_RATIO_GOAL)
        wall = imports.wall_seconds.get(module, float("nan"))
        lines.append(f"| `import {module}` | {seconds:.3f} | {wall:.3f} | {ratio:.2f} | {verdict} |")
    lines += [
        "",
        f"| API function, handler CPU (median of {first.containers} containers) | ms |",
        "| --- | ---: |",
        f"| first send after a cold start | {first.first_send_ms:.1f} |",
        f"| warm send (median of the next {WARM_SENDS}) | {first.warm_send_ms:.1f} |",
        f"| first send beyond a warm one (goal ≤ {FIRST_SEND_EXTRA_CPU_GOAL_MS}) | {first.extra_ms:.1f} "
        f"({_verdict(first.extra_ms <= FIRST_SEND_EXTRA_CPU_GOAL_MS)}) |",
        f"| language model load (`warm_up()` in a fresh container) | {first.model_load_ms:.1f} |",
        f"| first list-threads after a cold start | {first.list_threads_first_ms:.1f} |",
        "",
        f"AWS clients built by the first request of a container: list threads: "
        f"{', '.join(first.list_threads_clients) or 'none'}; send: {', '.join(first.first_send_clients) or 'none'}.",
        "",
        f"Layer ({LAMBDA_PLATFORM}, as synth builds it): {report.layer_bytes / MB:.1f} MB unzipped "
        f"(goal ≤ {LAYER_GOAL_MB} MB: {_verdict(report.layer_bytes <= LAYER_GOAL_MB * MB)}); largest: "
        + ", ".join(f"{name} {size / MB:.1f}" for name, size in report.layer_largest)
        + ".",
    ]
    return "\n".join(lines)


def measure(runs: int = RUNS, *, progress: Callable[[str], None] = lambda _: None) -> Report:
    from local_runtime.emulator import AwsEmulator

    python = runtime_python()
    with tempfile.TemporaryDirectory(prefix="cold-start-") as scratch:
        work = Path(scratch)
        progress(f"building the layer for this machine ({host_platform()}) ...")
        layer = build_layer(work / "layer-host", platform_tag=host_platform())
        runtime = build_runtime_sdk(work / "var-runtime")
        tasks = {package: build_function(work / "task" / package, package) for package in handler_packages()}
        containers = {
            package: Container(python, task, layer, lambda_environment(task, f"message-center-{package}"), runtime)
            for package, task in tasks.items()
        }
        progress("measuring cold imports ...")
        imports = measure_imports(containers, runs)
        progress("measuring first and warm requests ...")
        aws = AwsEmulator()
        aws.start()
        try:
            first = measure_first_requests(python, tasks["api"], layer, aws.endpoint_url, runs, runtime)
        finally:
            aws.stop()
        if host_platform() == LAMBDA_PLATFORM:
            lambda_layer = layer
        else:
            progress(f"building the layer for Lambda ({LAMBDA_PLATFORM}) ...")
            lambda_layer = build_layer(work / "layer-lambda", platform_tag=LAMBDA_PLATFORM)
        return Report(python, imports, first, unzipped_bytes(lambda_layer.parent), largest_entries(lambda_layer))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=RUNS, help="containers per measurement")
    options = parser.parse_args(argv)
    started = time.perf_counter()
    report = measure(options.runs, progress=lambda text: print(text, file=sys.stderr, flush=True))
    print(render(report))
    print(f"\nCold-start run time: {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
