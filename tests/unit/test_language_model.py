"""py3langid's model scored without numpy: the same answers as py3langid, from its own file and
from the prepared form the layer ships."""

from __future__ import annotations

from pathlib import Path

import pytest
from message_center.domain import language_model
from py3langid.langid import LanguageIdentifier

from tests.support.language_model import write_tiny_model

TEXTS = ["aaaa", "bbbb", "ab", "aab", "xyz", "", "AAAA BB", "zażółć"]


@pytest.mark.parametrize("classes", [["pl", "en"], ["sr", "en", "sr"]])
def test_answers_are_py3langids_from_the_original_and_the_prepared_file(tmp_path: Path, classes: list[str]) -> None:
    # Given a model in py3langid's format (the second case lists one language twice, as py3langid
    # does for a language written in two scripts), and its prepared form
    original = write_tiny_model(tmp_path / "model.npz.xz", classes)
    prepared = tmp_path / "language_model.bin"
    language_model.prepare(original, prepared)
    reference = LanguageIdentifier.from_model_file(original, norm_probs=True)

    # When each loader classifies the same texts
    from_original = language_model.load_original(original)
    from_prepared = language_model.load_prepared(prepared)

    # Then both answer py3langid's language, with its probability
    for text in TEXTS:
        expected_code, expected_probability = reference.classify(text)
        for model in (from_original, from_prepared):
            code, probability = model.classify(text)
            assert code == expected_code, text
            assert probability == pytest.approx(expected_probability, abs=1e-5), text


def test_the_prepared_file_decompresses_only_the_blocks_a_text_needs(tmp_path: Path) -> None:
    # Given a prepared model
    prepared = tmp_path / "language_model.bin"
    language_model.prepare(write_tiny_model(tmp_path / "model.npz.xz", ["pl", "en"]), prepared)
    model = language_model.load_prepared(prepared)

    # When nothing has been classified yet, and then one text
    before = (len(model._transitions._cache), len(model._weights._cache))
    assert model.classify("aaa")[0] == "pl"

    # Then loading decompressed nothing, and the text one block of each
    assert before == (0, 0)
    assert (len(model._transitions._cache), len(model._weights._cache)) == (1, 1)


def test_a_file_that_is_not_a_prepared_model_is_refused(tmp_path: Path) -> None:
    # Given some other file
    other = tmp_path / "language_model.bin"
    other.write_bytes(b"not a model")

    # When loading it, then it is refused by name
    with pytest.raises(ValueError, match="not a prepared language model"):
        language_model.load_prepared(other)
