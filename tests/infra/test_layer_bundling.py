from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, DockerImage, Stack
from aws_cdk import aws_lambda as lambda_

from infra import layer_bundling
from infra.layer_bundling import LocalLayerBundler, layer_code, pip_install_command, read_runtime_dependencies

REQUIREMENTS = ["pydantic>=2.7,<3", "aws-lambda-powertools[tracer]>=3.20,<4"]


@pytest.fixture
def shared_package(tmp_path: Path) -> Path:
    """A small package with the bytecode a local test run leaves behind."""
    package = tmp_path / "src" / "shared_pkg"
    (package / "domain" / "__pycache__").mkdir(parents=True)
    (package / "__init__.py").write_text('"""Shared."""\n')
    (package / "domain" / "__init__.py").write_text("")
    (package / "domain" / "rules.py").write_text("LIMIT = 1\n")
    (package / "domain" / "__pycache__" / "rules.cpython-311.pyc").write_bytes(b"\x00")
    (package / "stale.pyc").write_bytes(b"\x00")
    return package


@pytest.fixture
def pip_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Replace pip with a fake that records its argv and installs one marker module."""
    calls: list[list[str]] = []

    def fake_run(command: list[str], **_kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        target = Path(command[command.index("--target") + 1])
        (target / "fake_dependency").mkdir(parents=True)
        (target / "fake_dependency" / "__init__.py").write_text("")
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(layer_bundling.subprocess, "run", fake_run)
    return calls


def _bundler(package: Path) -> LocalLayerBundler:
    return LocalLayerBundler(
        package_dir=package,
        requirements=REQUIREMENTS,
        platform="manylinux2014_aarch64",
        python_version="3.12",
    )


def test_runtime_dependencies_are_read_from_pyproject(tmp_path: Path) -> None:
    # Given a pyproject with runtime and dev dependencies
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "x"\ndependencies = ["pydantic>=2.7,<3", "boto3>=1.35"]\n'
        '[project.optional-dependencies]\ndev = ["pytest"]\n'
    )

    # When reading what the layer ships
    dependencies = read_runtime_dependencies(pyproject)

    # Then only [project].dependencies count, verbatim and in order
    assert dependencies == ["pydantic>=2.7,<3", "boto3>=1.35"]


def test_pip_command_installs_wheels_for_the_lambda_platform(tmp_path: Path) -> None:
    # Given the layer's site-packages folder
    target = tmp_path / "python"

    # When building the pip command
    command = pip_install_command(REQUIREMENTS, target, platform="manylinux2014_aarch64", python_version="3.12")

    # Then pip of this interpreter fetches only CPython 3.12 ARM64 wheels into the folder, no bytecode
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    pairs = dict(itertools.pairwise(command))
    assert pairs["--target"] == str(target)
    assert pairs["--platform"] == "manylinux2014_aarch64"
    assert pairs["--implementation"] == "cp"
    assert pairs["--python-version"] == "3.12"
    assert "--only-binary=:all:" in command
    assert "--no-compile" in command
    assert command[-len(REQUIREMENTS) :] == REQUIREMENTS


def test_try_bundle_installs_dependencies_and_copies_the_package(
    tmp_path: Path, shared_package: Path, pip_calls: list[list[str]]
) -> None:
    # Given an empty asset output folder
    output = tmp_path / "asset"
    output.mkdir()

    # When the bundler runs
    bundled = _bundler(shared_package).try_bundle(str(output), image=DockerImage.from_registry("never-pulled"))

    # Then pip installed into python/ and the package sits beside its dependencies, without bytecode
    site_packages = output / "python"
    assert bundled is True
    assert pip_calls == [
        pip_install_command(REQUIREMENTS, site_packages, platform="manylinux2014_aarch64", python_version="3.12")
    ]
    copied = sorted(str(p.relative_to(site_packages)) for p in site_packages.rglob("*") if p.is_file())
    assert copied == [
        "fake_dependency/__init__.py",
        "shared_pkg/__init__.py",
        "shared_pkg/domain/__init__.py",
        "shared_pkg/domain/rules.py",
    ]


def test_cdk_bundles_the_layer_locally_instead_of_in_docker(
    tmp_path: Path, shared_package: Path, pip_calls: list[list[str]]
) -> None:
    # Given a stack with a layer whose code comes from layer_code, and bundling enabled
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\ndependencies = ["python-ulid>=3"]\n')
    app = App(outdir=str(tmp_path / "cdk.out"))
    stack = Stack(app, "LayerStack")
    lambda_.LayerVersion(
        stack,
        "Layer",
        code=layer_code(
            package_dir=shared_package,
            pyproject=pyproject,
            platform="manylinux2014_aarch64",
            python_version="3.12",
        ),
    )

    # When CDK synthesizes the app (through jsii, as `cdk synth` does)
    app.synth()

    # Then the Python bundler ran once with the pyproject deps and its output is the staged asset
    assert len(pip_calls) == 1
    assert pip_calls[0][-1] == "python-ulid>=3"
    (staged,) = (tmp_path / "cdk.out").glob("asset.*")
    assert (staged / "python" / "shared_pkg" / "domain" / "rules.py").is_file()
    assert (staged / "python" / "fake_dependency" / "__init__.py").is_file()


# Distributions only the local runtime (or the tests) use: the SMTP server stand-in, the AWS
# emulator, the JWT check of the local gateway and its WebSocket API, with what they alone pull in.
LOCAL_ONLY = {
    "aiosmtpd",
    "atpublic",
    "moto",
    "flask",
    "flask-cors",
    "werkzeug",
    "pyjwt",
    "pytest",
    "aws-cdk-lib",
    "websockets",
}


def _requirement_closure(requirements: list[str]) -> dict[str, set[str]]:
    """Each distribution the requirements install (from this environment's metadata, following
    dependencies with their markers, extras included), mapped to its top-level import names."""
    from importlib import metadata

    from packaging.requirements import Requirement

    seen: dict[str, set[str]] = {}
    pending = [(Requirement(text), "") for text in requirements]
    while pending:
        requirement, extra = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = requirement.name.lower().replace("_", "-")
        try:
            distribution = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            continue  # a platform-specific dependency not installed here
        extras = set(requirement.extras)
        key = name + ("[" + ",".join(sorted(extras)) + "]" if extras else "")
        if key in seen:
            continue
        top_level = distribution.read_text("top_level.txt") or ""
        files = {str(path).split("/")[0].removesuffix(".py") for path in distribution.files or ()}
        seen[key] = {line.strip() for line in top_level.splitlines() if line.strip()} or {
            part for part in files if not part.endswith((".dist-info", ".data")) and not part.startswith("__")
        }
        for dependency in distribution.requires or ():
            parsed = Requirement(dependency)
            for chosen in extras or {""}:
                pending.append((parsed, chosen))
    return seen


def test_the_layer_ships_no_local_only_package() -> None:
    # Given the dependencies the layer bundles (the project's runtime dependencies)
    requirements = read_runtime_dependencies(Path(__file__).resolve().parents[2] / "pyproject.toml")

    # When following them to every distribution they install
    closure = _requirement_closure(requirements)
    distributions = {key.split("[")[0] for key in closure}
    top_level = set().union(*closure.values())

    # Then the layer holds the runtime's packages and none the local runtime alone uses
    assert {"aws-lambda-powertools", "pynamodb", "pydantic", "pillow", "nh3"} <= distributions
    assert {"aws_lambda_powertools", "pynamodb", "pydantic", "PIL"} <= top_level
    assert not distributions & LOCAL_ONLY, f"local-only packages in the layer: {distributions & LOCAL_ONLY}"
    assert not top_level & {"aiosmtpd", "moto", "flask", "werkzeug", "jwt", "public", "websockets"}
