"""Builds the shared Lambda layer on the host: pip installs wheels for the Lambda platform.

No Docker: ``pip --platform`` fetches the Linux/ARM64 wheels whatever the host is, and the shared
package is pure Python, so a plain copy is enough.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
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
        # Bytecode compiled by the host interpreter would not match the Lambda Python version.
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
        command = pip_install_command(
            self._requirements, site_packages, platform=self._platform, python_version=self._python_version
        )
        subprocess.run(command, check=True)  # noqa: S603 - fixed argv from pyproject, no shell
        copy_package(self._package_dir, site_packages / self._package_dir.name)
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
