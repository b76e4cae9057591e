"""The language of a message, detected offline and in-process.

The detector is py3langid's model, chosen by ``python -m benchmarks.language_detection`` (the README
has the table): it ships inside the wheel, so nothing is downloaded at run time. It is scored by
``language_model`` (py3langid's answers without numpy, and loaded in milliseconds from the form the
layer ships), loaded on the first detection, once per process.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from .language_model import LanguageModel

TARGET_LANGUAGES: Final = ("pl", "en", "uk")
"""The languages a user can translate a message into."""

UNDETERMINED: Final = "und"
"""BCP 47 for "no language could be determined"; never triggers auto-translation."""

# Fewer letters than this say nothing about a language ("ok", "?", "👍", "10 zł").
MIN_LETTERS = 3
# Probabilities (normalised over the model's languages) below which the answer is a guess. On the
# committed sample set every wrong answer but one is below 0.35 and almost every right one above
# 0.2; a lone word is far less reliable ("спасибо" scores 0.27 for Uzbek), so it needs more.
MIN_CONFIDENCE = 0.2
MIN_CONFIDENCE_ONE_WORD = 0.5
# The opening of a long message decides its language; this bounds the time spent on a long e-mail.
MAX_CHARACTERS = 2_000

_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Any token with a digit: prices, dates, phone, order, tracking and account numbers, sizes ("42EU").
_WITH_DIGIT = re.compile(r"\S*\d\S*")
_SPACES = re.compile(r"\s+")

# The model also knows varieties under ISO 639-3 codes; those that belong to a macrolanguage with
# an ISO 639-1 code are reported as it. Its other non-639-1 codes (Ancient Greek, Ligurian, ...,
# and "zxx" for no language) become "und".
_MACROLANGUAGE: Final = {
    "ary": "ar",  # Moroccan Arabic
    "arz": "ar",  # Egyptian Arabic
    "fuv": "ff",  # Nigerian Fulfulde
    "gug": "gn",  # Paraguayan Guaraní
    "kik": "ki",  # Kikuyu (639-3 code of the same language)
    "ltg": "lv",  # Latgalian
    "sdh": "ku",  # Southern Kurdish
    "uzs": "uz",  # Southern Uzbek
    "wuu": "zh",  # Wu Chinese
    "yue": "zh",  # Cantonese
}


def detect_language(text: str) -> str:
    """The ISO 639-1 code of the language ``text`` is written in, or ``"und"``.

    Links, e-mail addresses and anything with a digit (order ids, prices, tracking numbers) are
    removed first: they are in no language. The answer is ``"und"`` when fewer than three letters
    remain, or when the detector is not confident enough (very short or mixed-language text).
    """
    content = _content(text)
    if sum(character.isalpha() for character in content) < MIN_LETTERS:
        return UNDETERMINED
    code, probability = _identifier().classify(content)
    needed = MIN_CONFIDENCE_ONE_WORD if len(content.split()) == 1 else MIN_CONFIDENCE
    if probability < needed:
        return UNDETERMINED
    code = _MACROLANGUAGE.get(code, code)
    return code if len(code) == 2 else UNDETERMINED


def warm_up() -> None:
    """Load the model now (for example in a function's init phase) rather than on first use."""
    _identifier()


def _content(text: str) -> str:
    text = text[:MAX_CHARACTERS]
    for pattern in (_URL, _EMAIL, _WITH_DIGIT):
        text = pattern.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


@cache
def _identifier() -> LanguageModel:
    # Imported here: only a process that detects a language loads the model, and only once.
    from . import language_model

    return language_model.load()
