"""Benchmarks run as commands (``python -m benchmarks.<name>``), not as timed tests."""

import sys
from pathlib import Path

# In Lambda the shared package is a layer, importable from the layer's root; pytest gets the same
# from ``pythonpath`` in pyproject.toml, a plain ``python -m benchmarks...`` from here.
for _path in (Path(__file__).resolve().parents[1], Path(__file__).resolve().parents[1] / "layers"):
    if str(_path) not in sys.path:
        sys.path.append(str(_path))
