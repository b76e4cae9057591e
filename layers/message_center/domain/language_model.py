"""py3langid's language model, scored in plain Python (no numpy), loaded in milliseconds.

The model (py3langid's ``data/model.npz.xz``) is a naive Bayes classifier over byte n-grams: a
DFA whose states mark the n-grams it has just read (``feature_of_state``), one row of per-language
weights per n-gram, and a prior per language. A text's score per language is the prior plus, for
each n-gram it contains, log(1 + count) times that n-gram's weights; the probabilities are the
softmax of the scores scaled by 1/sqrt(bytes). The answers are py3langid's (``benchmarks/
language_detection.py`` compares them on the sample set); what differs is what it costs:

- no numpy (about 50 MB of the Lambda layer);
- no LZMA: decompressing the shipped model (68 MB) took 0.6 s of every container's first send.
  The layer ships it *prepared* (``prepare``, run by the layer build): the DFA rows and the weight
  rows in small zlib blocks, each decompressed the first time a text needs it. A message touches
  a few dozen blocks, so the first detection costs milliseconds, and the file is about as small
  as the original.

Without the prepared file (tests, the local runtime) the model is read from py3langid's own file.
"""

from __future__ import annotations

import ast
import importlib.util
import io
import json
import lzma
import math
import struct
import sys
import unicodedata
import zipfile
import zlib
from array import array
from collections import Counter
from pathlib import Path
from typing import Any, Final

PREPARED_MODEL: Final = Path(__file__).with_name("language_model.bin")
"""Where the layer build writes the prepared model (absent in a source checkout)."""

_MAGIC = b"MCLANGID1\n"
# 32 rather than 16 rows a block: zlib finds more to share in bigger blocks, so the prepared file
# is 10.5 MB instead of 12.3 (part of the layer's ≤ 60 MB, issue #13), while a first detection
# decompresses each block it touches in about 0.05 ms instead of 0.02 (about 1 ms more in all).
ROWS_PER_BLOCK = 32
"""DFA rows (256 transitions each) per compressed block."""
FEATURES_PER_BLOCK = 32
"""Weight rows (one per n-gram) per compressed block."""
_NPY_TYPES: Final = {"<f2": "e", "<f4": "f", "<u2": "H", "<u4": "I", "<i4": "i"}


class _Rows:
    """Fixed-width rows of a typed array, stored whole or in zlib blocks decompressed on demand."""

    def __init__(self, fmt: str, width: int, per_block: int, raw: bytes | None = None) -> None:
        self._width = width
        self._per_block = per_block
        self._fmt = fmt
        self._row = struct.Struct(f"<{width}{fmt}")
        self._blocks: list[bytes] = []
        self._cache: dict[int, bytes] = {}
        self._views: dict[int, memoryview] = {}
        self._whole = raw

    @classmethod
    def blocked(cls, fmt: str, width: int, per_block: int, blocks: list[bytes]) -> _Rows:
        rows = cls(fmt, width, per_block)
        rows._blocks = blocks
        return rows

    def _locate(self, index: int) -> tuple[int, int]:
        if self._whole is not None:
            return -1, index
        return divmod(index, self._per_block)

    def _data(self, block: int) -> bytes:
        if block < 0:
            return self._whole  # type: ignore[return-value]
        data = self._cache.get(block)
        if data is None:
            data = self._cache[block] = zlib.decompress(self._blocks[block])
        return data

    def row(self, index: int) -> tuple[float, ...]:
        """Row ``index`` as numbers (half floats included, which memoryview cannot read before 3.12)."""
        block, local = self._locate(index)
        return self._row.unpack_from(self._data(block), local * self._row.size)

    def at(self, index: int, column: int) -> int:
        """One integer of row ``index``."""
        block, local = self._locate(index)
        view = self._views.get(block)
        if view is None:
            view = self._views[block] = memoryview(self._data(block)).cast(self._fmt)  # type: ignore[call-overload]
        return int(view[local * self._width + column])


class LanguageModel:
    """Classifies text with py3langid's model; answers ``(code, probability)`` like its
    ``LanguageIdentifier.classify`` with normalised probabilities."""

    def __init__(
        self,
        classes: list[str],
        priors: list[float],
        row_of_state: array[int],
        feature_of_state: array[int],
        transitions: _Rows,
        weights: _Rows,
    ) -> None:
        self.classes = classes
        self._priors = priors
        self._row_of_state = row_of_state
        self._feature_of_state = feature_of_state
        self._transitions = transitions
        self._weights = weights
        # A label listed twice (a language in two scripts) counts once, in its first column.
        first: dict[str, int] = {}
        self._aliases: list[tuple[int, int]] = []
        for i, code in enumerate(classes):
            if code in first:
                self._aliases.append((first[code], i))
            else:
                first[code] = i

    def classify(self, text: str) -> tuple[str, float]:
        data = _encode(text)
        counts = self._ngram_counts(data)
        scores = list(self._priors) if counts else [0.0] * len(self.classes)
        # Rows of n-grams seen equally often share a factor: add them up column-wise first (in C).
        rows_by_count: dict[int, list[tuple[float, ...]]] = {}
        for feature, count in counts.items():
            rows_by_count.setdefault(count, []).append(self._weights.row(feature))
        for count, rows in rows_by_count.items():
            factor = math.log1p(count)
            columns = map(sum, zip(*rows, strict=True))
            scores = [score + factor * column for score, column in zip(scores, columns, strict=True)]
        scale = 1.0 / math.sqrt(len(data) or 1)
        top = max(scores) * scale
        exponentials = [math.exp(score * scale - top) for score in scores]
        total = sum(exponentials)
        probabilities = [value / total for value in exponentials]
        for first, duplicate in self._aliases:
            probabilities[first] += probabilities[duplicate]
            probabilities[duplicate] = 0.0
        best = max(range(len(probabilities)), key=probabilities.__getitem__)
        return self.classes[best], probabilities[best]

    def _ngram_counts(self, data: bytes) -> Counter[int]:
        row_of_state, feature_of_state, transitions = self._row_of_state, self._feature_of_state, self._transitions
        found: list[int] = []
        state = 0
        for byte in data:
            state = transitions.at(row_of_state[state], byte)
            feature = feature_of_state[state]
            if feature >= 0:
                found.append(feature)
        return Counter(found)


def _encode(text: str) -> bytes:
    if text.isupper():
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf-8", errors="surrogatepass")


# -- loading --------------------------------------------------------------------------------------


def load() -> LanguageModel:
    """The prepared model if the layer has it, otherwise py3langid's own file."""
    if PREPARED_MODEL.is_file():
        return load_prepared(PREPARED_MODEL)
    return load_original(original_model_path())


def original_model_path() -> Path:
    """py3langid's model file, found without importing py3langid (which needs numpy)."""
    spec = importlib.util.find_spec("py3langid")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("py3langid is not installed, and there is no prepared language model")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "model.npz.xz"


def _read_npz(path: Path) -> dict[str, tuple[str, tuple[int, ...], bytes]]:
    """Each array of an LZMA-compressed .npz: (descr, shape, raw little-endian bytes)."""
    with lzma.open(path) as compressed:
        archive = zipfile.ZipFile(io.BytesIO(compressed.read()))
    arrays = {}
    for name in archive.namelist():
        data = archive.read(name)
        if data[:6] != b"\x93NUMPY":
            raise ValueError(f"{path}: {name} is not a .npy array")
        size_format, start = ("<H", 10) if data[6] == 1 else ("<I", 12)
        (header_length,) = struct.unpack(size_format, data[8:start])
        header = ast.literal_eval(data[start : start + header_length].decode("latin-1"))
        if header["fortran_order"]:
            raise ValueError(f"{path}: {name} is in Fortran order")
        arrays[name.removesuffix(".npy")] = (header["descr"], tuple(header["shape"]), data[start + header_length :])
    return arrays


def _typed(arrays: dict[str, tuple[str, tuple[int, ...], bytes]], name: str) -> tuple[str, tuple[int, ...], bytes]:
    descr, shape, raw = arrays[name]
    if descr not in _NPY_TYPES:
        raise ValueError(f"unexpected type {descr} of {name}")
    return _NPY_TYPES[descr], shape, raw


def _classes(arrays: dict[str, tuple[str, tuple[int, ...], bytes]]) -> list[str]:
    descr, shape, raw = arrays["classes"]
    if not descr.startswith("<U"):
        raise ValueError(f"unexpected type {descr} of classes")
    width = int(descr[2:]) * 4
    return [raw[i * width : (i + 1) * width].decode("utf-32-le").rstrip("\x00") for i in range(shape[0])]


def _check_byte_order() -> None:
    if sys.byteorder != "little":
        raise RuntimeError("the language model is stored little-endian")


def load_original(path: Path) -> LanguageModel:
    """py3langid's ``model.npz.xz`` (slow: decompresses 68 MB)."""
    _check_byte_order()
    arrays = _read_npz(path)
    classes = _classes(arrays)
    weight_type, _, weights = _typed(arrays, "ptc")
    move_type, _, moves = _typed(arrays, "nextmove")
    row_type, _, rows = _typed(arrays, "nextmove_row")
    feature_type, _, features = _typed(arrays, "out_feat")
    prior_type, _, priors = _typed(arrays, "pc")
    return LanguageModel(
        classes,
        [float(prior) for prior in array(prior_type, priors)],
        array(row_type, rows),
        array(feature_type, features),
        _Rows(move_type, 256, ROWS_PER_BLOCK, moves),
        _Rows(weight_type, len(classes), FEATURES_PER_BLOCK, weights),
    )


def prepare(original: Path, prepared: Path) -> None:
    """Write the model of ``original`` (py3langid's file) in the quickly loaded form ``load_prepared`` reads."""
    _check_byte_order()
    arrays = _read_npz(original)
    classes = _classes(arrays)
    sections: dict[str, bytes] = {}
    header: dict[str, Any] = {"classes": classes, "types": {}}
    for name in ("pc", "nextmove_row", "out_feat"):
        header["types"][name], _, sections[name] = _typed(arrays, name)
    for name, width, per_block in (("nextmove", 256, ROWS_PER_BLOCK), ("ptc", len(classes), FEATURES_PER_BLOCK)):
        fmt, _, raw = _typed(arrays, name)
        header["types"][name] = fmt
        block_bytes = width * per_block * struct.calcsize(fmt)
        blocks = [zlib.compress(raw[i : i + block_bytes], 9) for i in range(0, len(raw), block_bytes)]
        sections[f"{name}_index"] = array("Q", [len(block) for block in blocks]).tobytes()
        sections[name] = b"".join(blocks)
    header["sections"] = {name: len(data) for name, data in sections.items()}
    encoded = json.dumps(header).encode()
    with prepared.open("wb") as file:
        file.write(_MAGIC + struct.pack("<I", len(encoded)) + encoded)
        for data in sections.values():
            file.write(data)


def load_prepared(path: Path) -> LanguageModel:
    """The model written by ``prepare``: reads the file, decompresses nothing yet."""
    _check_byte_order()
    data = path.read_bytes()
    if not data.startswith(_MAGIC):
        raise ValueError(f"{path} is not a prepared language model")
    start = len(_MAGIC) + 4
    (length,) = struct.unpack("<I", data[len(_MAGIC) : start])
    header = json.loads(data[start : start + length])
    sections: dict[str, bytes] = {}
    offset = start + length
    for name, size in header["sections"].items():
        sections[name] = data[offset : offset + size]
        offset += size
    types = header["types"]
    classes = header["classes"]

    def blocked(name: str, width: int, per_block: int) -> _Rows:
        blocks, position = [], 0
        compressed = sections[name]
        for size in array("Q", sections[f"{name}_index"]):
            blocks.append(compressed[position : position + size])
            position += size
        return _Rows.blocked(types[name], width, per_block, blocks)

    return LanguageModel(
        classes,
        [float(prior) for prior in array(types["pc"], sections["pc"])],
        array(types["nextmove_row"], sections["nextmove_row"]),
        array(types["out_feat"], sections["out_feat"]),
        blocked("nextmove", 256, ROWS_PER_BLOCK),
        blocked("ptc", len(classes), FEATURES_PER_BLOCK),
    )
