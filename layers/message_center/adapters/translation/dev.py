"""A development stand-in for local runs without provider credentials. It does not translate."""

from __future__ import annotations


class DevTranslator:
    """Answers with the original text behind a label that says no translation happened.

    Deterministic, offline, supports every pair: the local runtime and tests can exercise the
    translation flow end to end, and nobody mistakes the output for a real translation.
    """

    name = "dev"

    def supports(self, source: str, target: str) -> bool:
        return True

    def translate(self, text: str, source: str, target: str) -> str:
        return f"[{target} machine translation stand-in] {text}"
