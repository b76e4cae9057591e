"""A tiny language model in py3langid's file format, for tests of the numpy-free scorer and of the
layer build that prepares it."""

from __future__ import annotations

import io
import lzma
from pathlib import Path

import numpy as np

A, B = ord("a"), ord("b")


def write_tiny_model(path: Path, classes: list[str]) -> Path:
    """A tiny model in py3langid's format: 'a' is an n-gram of the first language, 'b' of the
    second; every other byte leads back to the start state, which marks no n-gram."""
    row = np.zeros(256, dtype=np.uint32)
    row[A], row[B] = 1, 2
    weights = np.array([[-1.0, -6.0, -2.0][: len(classes)], [-5.0, -1.5, -5.5][: len(classes)]], dtype=np.float16)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        ptc=weights,
        pc=np.array([-1.2, -0.9, -1.1][: len(classes)], dtype=np.float32),
        classes=np.array(classes),
        nextmove=row,
        nextmove_row=np.zeros(3, dtype=np.uint16),
        out_feat=np.array([-1, 0, 1], dtype=np.int32),
    )
    path.write_bytes(lzma.compress(buffer.getvalue()))
    return path
