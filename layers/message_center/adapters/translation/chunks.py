"""Splitting a text for providers with a request size limit, and joining the translated pieces."""

from __future__ import annotations

import re
from collections.abc import Callable

# Where a piece may end, best first: after a sentence (its trailing spaces stay with it), at a line
# break, at any whitespace. Failing all three, the cut falls between two code points.
_SENTENCE_END = re.compile(r"[.!?…。！？]+[\"'”’»)\]]*\s+|\n\s*")
_WHITESPACE = re.compile(r"\s+")


def utf8_size(text: str) -> int:
    return len(text.encode("utf-8"))


def split_text(text: str, max_bytes: int) -> list[str]:
    """Consecutive pieces of ``text``, each at most ``max_bytes`` in UTF-8, that join back to it."""
    if max_bytes < 4:
        raise ValueError("max_bytes must hold at least one code point (4 bytes in UTF-8)")
    pieces: list[str] = []
    rest = text
    while utf8_size(rest) > max_bytes:
        cut = _cut(rest, max_bytes)
        pieces.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        pieces.append(rest)
    return pieces


def translate_in_pieces(text: str, max_bytes: int, translate: Callable[[str], str]) -> str:
    """``translate`` applied to each piece of ``text`` that fits ``max_bytes``, joined in order.

    Each piece is sent without its surrounding whitespace (providers trim it) and the original
    whitespace is put back around the translation, so paragraphs and line breaks survive.
    """
    out: list[str] = []
    for piece in split_text(text, max_bytes):
        core = piece.strip()
        if not core:
            out.append(piece)
            continue
        leading = piece[: len(piece) - len(piece.lstrip())]
        trailing = piece[len(piece.rstrip()) :]
        out.append(leading + translate(core) + trailing)
    return "".join(out)


def _cut(text: str, max_bytes: int) -> int:
    """How many characters of ``text`` the next piece takes (at least one)."""
    # The longest prefix that fits; a code point cut in half by the byte limit is dropped.
    window = text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")
    for boundary in (_SENTENCE_END, _WHITESPACE):
        ends = [match.end() for match in boundary.finditer(window)]
        if ends:
            return ends[-1]
    return len(window)
