"""How many requests the attack suite made and what it found, summed over every test (and every
xdist worker) and printed at the end of the run.

A test adds to the tally with ``record(request, "matrix", requests=12, leaks=0)``; the numbers
travel in the report's ``user_properties``, which xdist hands from the workers to the controller.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import pytest

_PROPERTY = "attack-suite"
_totals: defaultdict[str, Counter[str]] = defaultdict(Counter)


def record(request: pytest.FixtureRequest, suite: str, **counts: int) -> None:
    """Add ``counts`` to ``suite``'s tally for this test."""
    request.node.user_properties.append((_PROPERTY, {"suite": suite, **counts}))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "teardown":  # the properties are on every phase's report: count them once
        return
    for name, value in report.user_properties:
        if name == _PROPERTY:
            counts: dict[str, Any] = dict(value)
            _totals[counts.pop("suite")].update(counts)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _totals:
        return
    terminalreporter.section("attack suite")
    for suite, counts in sorted(_totals.items()):
        terminalreporter.write_line(f"{suite}: " + ", ".join(f"{count} {name}" for name, count in counts.items()))
