from __future__ import annotations

import io
import itertools
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, DockerImage, Stack
from aws_cdk import aws_lambda as lambda_
from message_center.domain import language_model

from infra import layer_bundling
from infra.layer_bundling import (
    BytecodeCompilerNotFoundError,
    LocalFunctionBundler,
    LocalLayerBundler,
    find_python,
    layer_code,
    pip_install_command,
    read_runtime_dependencies,
)
from tests.support.language_model import write_tiny_model

REQUIREMENTS = ["pydantic>=2.7,<3", "aws-lambda-powertools[tracer]>=3.20,<4"]
# PEP 552: the flags word of a .pyc; 0b01 is hash-based, 0b10 would make Python check the source.
UNCHECKED_HASH = 0b01


def _pyc_flags(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[4:8], "little")


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
    """Replace pip with a fake that records its argv and installs one marker module (the bytecode
    compiler and the interpreter look-up run for real)."""
    calls: list[list[str]] = []
    real_run = subprocess.run

    def fake_run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        if command[1:4] != ["-m", "pip", "install"]:
            return real_run(command, **kwargs)
        calls.append(command)
        target = Path(command[command.index("--target") + 1])
        if "--no-deps" in command:  # py3langid alone, for its model
            (target / "py3langid" / "data").mkdir(parents=True)
            write_tiny_model(target / "py3langid" / "data" / "model.npz.xz", ["pl", "en"])
            return subprocess.CompletedProcess(command, 0)
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

    # Then pip of this interpreter fetches only CPython 3.12 ARM64 wheels into the folder, and
    # compiles nothing (the host interpreter's bytecode would be of the wrong version)
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

    # Then pip installed into python/ and the package sits beside its dependencies, with bytecode
    # of Python 3.12 only (the local 3.11 leftovers are gone): the dependency's as sourceless
    # bytecode, the package's beside its sources
    site_packages = output / "python"
    assert bundled is True
    assert pip_calls == [
        pip_install_command(REQUIREMENTS, site_packages, platform="manylinux2014_aarch64", python_version="3.12")
    ]
    copied = sorted(str(p.relative_to(site_packages)) for p in site_packages.rglob("*") if p.is_file())
    assert copied == [
        "fake_dependency/__init__.pyc",
        "shared_pkg/__init__.py",
        "shared_pkg/__pycache__/__init__.cpython-312.pyc",
        "shared_pkg/domain/__init__.py",
        "shared_pkg/domain/__pycache__/__init__.cpython-312.pyc",
        "shared_pkg/domain/__pycache__/rules.cpython-312.pyc",
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
    assert (staged / "python" / "fake_dependency" / "__init__.pyc").is_file()
    # and the shared package ships bytecode of the runtime's version, valid without checking the source
    bytecode = staged / "python" / "shared_pkg" / "domain" / "__pycache__" / "rules.cpython-312.pyc"
    assert _pyc_flags(bytecode) == UNCHECKED_HASH


# Distributions only the local runtime (or the tests) use: the SMTP server stand-in, the AWS
# emulator, the JWT check of the local gateway and its WebSocket API, with what they alone pull in.
# (PyJWT is not among them: the WebSocket $connect handler verifies access tokens with it.)
LOCAL_ONLY = {"aiosmtpd", "atpublic", "moto", "flask", "flask-cors", "werkzeug", "pytest", "aws-cdk-lib", "websockets"}


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
    assert not top_level & {"aiosmtpd", "moto", "flask", "werkzeug", "public", "websockets"}


def test_function_code_ships_its_package_compiled_for_the_runtime(tmp_path: Path) -> None:
    # Given functions/ with two handler packages and bytecode a local test run left behind
    functions = tmp_path / "functions"
    for package in ("api", "stream"):
        (functions / package / "__pycache__").mkdir(parents=True)
        (functions / package / "__init__.py").write_text("")
        (functions / package / "handler.py").write_text("def lambda_handler(event, context):\n    return event\n")
        (functions / package / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"\x00")
    (functions / "__init__.py").write_text("")
    output = tmp_path / "asset"
    output.mkdir()

    # When the api function's code is bundled
    bundler = LocalFunctionBundler(functions_dir=functions, package="api", python_version="3.12")
    bundler.try_bundle(str(output), image=DockerImage.from_registry("never-pulled"))

    # Then the asset holds api alone, with unchecked-hash bytecode of Python 3.12 and none of the host's
    files = sorted(str(p.relative_to(output)) for p in output.rglob("*") if p.is_file())
    assert files == [
        "__init__.py",
        "__pycache__/__init__.cpython-312.pyc",
        "api/__init__.py",
        "api/__pycache__/__init__.cpython-312.pyc",
        "api/__pycache__/handler.cpython-312.pyc",
        "api/handler.py",
    ]
    assert _pyc_flags(output / "api" / "__pycache__" / "handler.cpython-312.pyc") == UNCHECKED_HASH


def test_a_machine_without_the_runtime_python_cannot_build_the_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a machine with no Python 3.99 on PATH or in pyenv
    monkeypatch.setenv("PYENV_ROOT", "/nonexistent")

    # When the bundler looks for the interpreter to compile with
    with pytest.raises(BytecodeCompilerNotFoundError) as raised:
        find_python("3.99")

    # Then synth stops with a message saying what to install
    assert "python3.99" in str(raised.value)


def test_the_layer_ships_py3langids_model_prepared_without_py3langid_or_numpy(
    tmp_path: Path, shared_package: Path, pip_calls: list[list[str]]
) -> None:
    # Given runtime dependencies that include py3langid (whose own scorer needs numpy)
    bundler = LocalLayerBundler(
        package_dir=shared_package,
        requirements=["pydantic>=2.7,<3", "py3langid>=0.4,<0.5"],
        platform="manylinux2014_aarch64",
        python_version="3.12",
    )
    output = tmp_path / "asset"
    output.mkdir()

    # When the layer is bundled
    bundler.try_bundle(str(output), image=DockerImage.from_registry("never-pulled"))

    # Then the dependencies are installed without py3langid, py3langid alone (no numpy) elsewhere,
    # and only its model ships, prepared, in the shared package
    site_packages = output / "python"
    installed, model_only = pip_calls
    assert installed[-1] == "pydantic>=2.7,<3"
    assert Path(installed[installed.index("--target") + 1]) == site_packages
    assert "--no-deps" in model_only
    assert model_only[-1] == "py3langid>=0.4,<0.5"
    assert Path(model_only[model_only.index("--target") + 1]) != site_packages
    prepared = site_packages / "shared_pkg" / "domain" / "language_model.bin"
    assert language_model.load_prepared(prepared).classify("aaa")[0] == "pl"
    assert not (site_packages / "py3langid").exists()


# -- what the layer leaves out (issue #13: ≤ 60 MB unzipped) ------------------------------------


def _distribution(site: Path, name: str, files: dict[str, str], requires: Sequence[str] = ()) -> None:
    """An installed distribution as pip --target leaves it: its files and a dist-info naming them."""
    info = site / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "".join([f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n", *(f"Requires-Dist: {r}\n" for r in requires)])
    )
    for relative, text in files.items():
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        (site / relative).write_text(text)
    record = [*files, f"{info.name}/METADATA", f"{info.name}/RECORD", f"../../bin/{name}-script"]
    (info / "RECORD").write_text("".join(f"{entry},,\n" for entry in record))


def test_the_layer_leaves_the_aws_sdk_and_what_only_it_needs_to_the_runtime(tmp_path: Path) -> None:
    # Given what pip installs for boto3, pynamodb (needs botocore), requests (needs urllib3) and
    # Powertools (needs jmespath): botocore needs jmespath, python-dateutil (six) and urllib3 too
    site = tmp_path / "python"
    _distribution(site, "boto3", {"boto3/__init__.py": ""}, ["botocore>=1.35", "s3transfer", "jmespath"])
    _distribution(
        site,
        "botocore",
        {"botocore/__init__.py": "", "botocore/data/s3.json": "{}"},
        ["jmespath", "python-dateutil", "urllib3"],
    )
    _distribution(site, "s3transfer", {"s3transfer/__init__.py": ""}, ["botocore"])
    _distribution(site, "python-dateutil", {"dateutil/__init__.py": ""}, ["six"])
    _distribution(site, "six", {"six.py": ""})
    _distribution(site, "jmespath", {"jmespath/__init__.py": ""})
    _distribution(site, "urllib3", {"urllib3/__init__.py": ""})
    _distribution(site, "pynamodb", {"pynamodb/__init__.py": ""}, ["botocore>=1.12"])
    _distribution(site, "requests", {"requests/__init__.py": ""}, ["urllib3<3", 'PySocks; extra == "socks"'])
    _distribution(site, "aws-lambda-powertools", {"aws_lambda_powertools/__init__.py": ""}, ["jmespath"])
    outside = tmp_path / "bin" / "boto3-script"
    outside.parent.mkdir()
    outside.write_text("")

    # When the layer drops what the runtime provides
    removed = layer_bundling.remove_runtime_provided(
        site, ["boto3>=1.35", "pynamodb", "requests", "aws-lambda-powertools[tracer]"]
    )

    # Then the SDK and what only it needs are gone, files and metadata, and what our other
    # dependencies need stays (nothing outside the layer's folder is touched)
    assert removed == ["boto3", "botocore", "python-dateutil", "s3transfer", "six"]
    assert sorted(entry.name for entry in site.iterdir() if not entry.name.endswith(".dist-info")) == [
        "aws_lambda_powertools",
        "jmespath",
        "pynamodb",
        "requests",
        "urllib3",
    ]
    assert {entry.name for entry in site.glob("*.dist-info")} == {
        f"{name}-1.0.dist-info" for name in ("aws_lambda_powertools", "jmespath", "pynamodb", "requests", "urllib3")
    }
    assert outside.exists()


def _run_312(site: Path, code: str) -> str:
    """Run ``code`` in Python 3.12 (the runtime's version) with only ``site`` on the path and no
    bytecode written, as on Lambda's read-only /opt."""
    completed = subprocess.run(
        [find_python("3.12"), "-S", "-B", "-c", f"import sys; sys.path[:0] = [{str(site)!r}]\n{code}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


def test_dependencies_ship_as_sourceless_bytecode_and_the_package_keeps_its_sources(tmp_path: Path) -> None:
    # Given a layer folder with a third-party package, a third-party module and our package
    site = tmp_path / "python"
    (site / "dependency" / "sub").mkdir(parents=True)
    (site / "dependency" / "__init__.py").write_text("from .sub.rules import LIMIT\n")
    (site / "dependency" / "sub" / "__init__.py").write_text("")
    (site / "dependency" / "sub" / "rules.py").write_text("LIMIT = 3\n")
    (site / "single.py").write_text("NAME = 'single'\n")
    (site / "ours").mkdir()
    (site / "ours" / "__init__.py").write_text("def fail():\n    raise ValueError('ours')\n")

    # When the layer is compiled
    layer_bundling.compile_sourceless(site, keep_sources="ours", python_version="3.12", mounted_at="/opt/python")

    # Then the third-party code is bytecode beside where its sources were (no source, no __pycache__),
    # ours keeps its sources with unchecked-hash bytecode, and Python 3.12 imports all of it from there
    files = sorted(str(p.relative_to(site)) for p in site.rglob("*") if p.is_file())
    assert files == [
        "dependency/__init__.pyc",
        "dependency/sub/__init__.pyc",
        "dependency/sub/rules.pyc",
        "ours/__init__.py",
        "ours/__pycache__/__init__.cpython-312.pyc",
        "single.pyc",
    ]
    assert _pyc_flags(site / "dependency" / "sub" / "rules.pyc") == UNCHECKED_HASH
    printed = _run_312(
        site,
        "import dependency, single, ours\n"
        "print(dependency.LIMIT, single.NAME, dependency.__file__, ours.__cached__ is not None)\n"
        "try:\n    ours.fail()\nexcept ValueError as error:\n"
        "    import traceback; print(traceback.format_exc().splitlines()[-2].strip())",
    )
    assert printed.splitlines() == [
        f"3 single {site}/dependency/__init__.pyc True",
        "raise ValueError('ours')",
    ]


@pytest.fixture(scope="module")
def host_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real layer (pip and all), built as synth builds it but for this machine's architecture,
    so that Python 3.12 here can run it (benchmarks.cold_start does the same)."""
    from benchmarks.cold_start import build_layer, host_platform

    return build_layer(tmp_path_factory.mktemp("layer") / "asset", platform_tag=host_platform())


def test_the_built_layer_ships_neither_the_aws_sdk_nor_unused_pillow_libraries(host_layer: Path) -> None:
    # Given the layer as synth builds it
    # When looking at what it holds
    entries = {entry.name for entry in host_layer.iterdir()}
    pillow_files = {str(p.relative_to(host_layer)) for p in (host_layer / "pillow.libs").iterdir()}
    pillow_files |= {str(p.relative_to(host_layer)) for p in (host_layer / "PIL").glob("_*.so")}

    # Then the runtime's SDK is left to the runtime, and Pillow keeps only what its core needs
    assert not entries & {"boto3", "botocore", "s3transfer", "dateutil", "six.py", "six.pyc"}
    assert not [name for name in entries if name.startswith(("boto3-", "botocore-", "s3transfer-"))]
    assert {"pynamodb", "aws_lambda_powertools", "jmespath", "urllib3", "PIL", "message_center"} <= entries
    assert not [name for name in pillow_files if any(part in name for part in ("avif", "webp", "freetype", "cms"))]
    assert [name for name in pillow_files if "_imaging." in name]


def test_the_built_layer_checks_every_allowed_attachment_and_verifies_tokens_under_python_312(
    host_layer: Path, tmp_path: Path
) -> None:
    # Given the five image formats and a PDF users may attach, an AES-encrypted PDF that opens
    # without a password, and a WebSocket access token signed with RS256
    import base64
    import json

    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from pypdf import PdfReader, PdfWriter

    from tests.support.files import allowed_files

    files = {name: content for name, (content, _) in allowed_files().items()}
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(files["invoice.pdf"])))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-256")
    encrypted = io.BytesIO()
    writer.write(encrypted)
    files["encrypted.pdf"] = encrypted.getvalue()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode({"sub": "anna"}, key, algorithm="RS256")
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    job = tmp_path / "job.json"
    job.write_text(
        json.dumps(
            {
                "files": {name: base64.b64encode(content).decode() for name, content in files.items()},
                "token": token,
                "public": public.decode(),
            }
        )
    )

    # When Python 3.12 inspects each with the layer's code alone, and verifies the token
    printed = _run_312(
        host_layer,
        "import base64, json, jwt\n"
        "from message_center.domain.file_types import inspect\n"
        f"job = json.load(open({str(job)!r}))\n"
        "for name, content in sorted(job['files'].items()):\n"
        "    found = inspect(base64.b64decode(content))\n"
        "    print(name, found.format.name if found.format else found.refusal)\n"
        "print(jwt.decode(job['token'], job['public'], algorithms=['RS256'])['sub'])\n",
    )

    # Then every file is recognised as what it is, and the token verifies
    assert printed.splitlines() == [
        "animation.gif GIF",
        "encrypted.pdf PDF",
        "invoice.pdf PDF",
        "photo.jpeg JPEG",
        "photo.jpg JPEG",
        "photo.png PNG",
        "scan.bmp BMP",
        "scan.tif TIFF",
        "scan.tiff TIFF",
        "anna",
    ]
