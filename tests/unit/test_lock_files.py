"""The lock files (requirements/*.txt, written by `make lock`) against pyproject.toml.

`make install` installs only what the lock files pin, so a dependency added to pyproject.toml
without `make lock` would silently be missing; these tests fail instead, naming it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>[^\s;\\]+)")


def _pins(lock: str) -> dict[str, set[Version]]:
    """Every pinned version per package (a universal lock may pin two, under exclusive markers)."""
    pins: dict[str, set[Version]] = {}
    for line in (ROOT / "requirements" / lock).read_text().splitlines():
        match = PIN.match(line)
        if match:
            pins.setdefault(canonicalize_name(match["name"]), set()).add(Version(match["version"]))
    return pins


def _direct(*groups: str) -> list[Requirement]:
    """The direct dependencies: ``dependencies`` and the named extras (without the project itself)."""
    texts = list(PROJECT["dependencies"]) if "runtime" in groups else []
    for group in groups:
        texts += PROJECT["optional-dependencies"].get(group, [])
    requirements = [Requirement(text) for text in texts]
    return [r for r in requirements if canonicalize_name(r.name) != canonicalize_name(PROJECT["name"])]


def _unlocked(requirements: list[Requirement], pins: dict[str, set[Version]]) -> list[str]:
    problems = []
    for requirement in requirements:
        versions = pins.get(canonicalize_name(requirement.name))
        if not versions:
            problems.append(f"{requirement}: not in the lock")
        elif not all(requirement.specifier.contains(v, prereleases=True) for v in versions):
            problems.append(f"{requirement}: locked at {', '.join(map(str, sorted(versions)))}")
    return problems


@pytest.mark.parametrize(
    ("lock", "groups"),
    [("runtime.txt", ("runtime",)), ("dev.txt", ("runtime", "local", "dev"))],
)
def test_every_direct_dependency_is_pinned_within_its_bounds(lock: str, groups: tuple[str, ...]) -> None:
    # Given pyproject.toml's dependencies for the lock file's set
    # Then each is pinned there at a version its bounds allow (else: run `make lock`)
    assert _unlocked(_direct(*groups), _pins(lock)) == [], "pyproject.toml changed: run `make lock`"


def test_the_layer_lock_holds_no_local_or_test_only_package() -> None:
    runtime = _pins("runtime.txt")
    only_outside = {canonicalize_name(r.name) for r in _direct("local", "dev")} - {
        canonicalize_name(r.name) for r in _direct("runtime")
    }
    assert only_outside, "the local and dev extras name packages of their own"
    assert sorted(only_outside & runtime.keys()) == []


def test_dev_installs_the_runtime_packages_at_the_layers_versions() -> None:
    # The tests run against exactly what the Lambda layer ships.
    runtime, dev = _pins("runtime.txt"), _pins("dev.txt")
    assert {name: dev.get(name) for name in runtime} == runtime


def test_every_pin_carries_hashes() -> None:
    # pip installs with --require-hashes: a pin without one would fail the install.
    for lock in ("runtime.txt", "dev.txt"):
        text = (ROOT / "requirements" / lock).read_text()
        entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
        assert all("--hash=sha256:" in entry for entry in entries if PIN.match(entry)), lock
