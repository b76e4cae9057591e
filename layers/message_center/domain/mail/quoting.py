"""Removing quoted history and signatures from the text of a reply.

A compact rule set for the clients our users write from, in the marketplace's languages (none
of the maintained reply parsers covers Polish, Czech, Slovak, Hungarian and Ukrainian clients):

- an attribution line ("On … wrote:", "W dniu … pisze:", "… napisał(a):", "Dne … napsal(a):",
  "… napísal(a):", "… írta:", "… ezt írta (időpont: …):", "… пише:"), also wrapped over two
  lines, followed by quoted lines or naming an address or a time;
- an Outlook header block ("From:/Od:/Feladó:/Від: …" and two more of Sent/To/Subject/Date in
  any of those languages), with the "____" or "-----Original Message-----" line above it;
- trailing ``>`` quoted lines; a reply written between quoted lines keeps its quotes;
- the ``-- `` signature delimiter and "Sent from my iPhone"-style footers at the end.
"""

from __future__ import annotations

import re

_MAX_LINE = 600  # longer lines are text, not attributions or headers (and keep regexes cheap)
_SIGNATURE_MAX_LINES = 15

_QUOTED = re.compile(r"^\s*>")
_ATTRIBUTION = re.compile(
    r"""(?:
        On\s.{1,300}\swrote                                  # Gmail, Apple Mail, Thunderbird
      | .{0,300}\bnapisa(?:ł|l)(?:a|\(a\))?                  # Polish Gmail: "… napisał(a):"
      | W\sdniu\s.{1,300}\spisze                             # Polish Thunderbird
      | Dnia\s.{1,300}\s(?:pisze|napisa(?:ł|l)(?:a|\(a\))?)  # Polish, older clients
      | Wiadomość\snapisana\sprzez\s.{1,300}                 # Polish Apple Mail
      | .{0,300}\bnapsal(?:a|\(a\))?                         # Czech
      | .{0,300}\bnapísal(?:a|\(a\))?                        # Slovak
      | .{0,300}\bezt\sírta\s\(időpont:.{1,100}\)            # Hungarian Gmail
      | .{0,300}\bírta                                       # Hungarian Thunderbird, Apple Mail
      | .{0,300}\b(?:пише|написав|написала|написав\(ла\)|написал\(а\)|писал\(а\))  # Ukrainian, Russian
      | Am\s.{1,300}\sschrieb\s.{0,300}                      # German
    ):""",
    re.IGNORECASE | re.VERBOSE,
)
# An attribution names who and when; a line that merely ends in "wrote:" does not.
_ATTRIBUTION_DETAIL = re.compile(r"@|\d{1,2}:\d{2}|\d{1,4}[./-]\s?\d{1,2}|\b(?:19|20)\d\d\b")

_ORIGINAL_MESSAGE = re.compile(
    r"""-{2,}\s*(?:Original\sMessage|Oryginalna\swiadomość|Wiadomość\soryginalna|Původní\szpráva
      |Pôvodná\sspráva|Eredeti\süzenet|Вихідне\sповідомлення|Початкове\sповідомлення
      |Исходное\sсообщение|Ursprüngliche\sNachricht)\s*-{2,}""",
    re.IGNORECASE | re.VERBOSE,
)
_SEPARATOR = re.compile(r"_{20,}|-{20,}")
_FROM_LABEL = re.compile(r"\*?(?:From|Od|Von|Feladó|Від|От)\*?:[ *]*\S", re.IGNORECASE)
_HEADER_LABEL = re.compile(
    r"""\*?(?:Sent|Date|To|Subject|Cc|Wysłano|Wysłane|Data|Do|Temat|DW|Odesláno|Komu|Předmět
      |Datum|Kopie|Odoslané|Predmet|Dátum|Kópia|Elküldve|Küldve|Címzett|Tárgy|Másolatot\skap
      |Dátum|Надіслано|Відправлено|Кому|Тема|Дата|Копія|Отправлено|Gesendet|An|Betreff)\*?:""",
    re.IGNORECASE | re.VERBOSE,
)
_FOOTER = re.compile(
    r"""(?:Sent\sfrom|Sent\swith|Sent\svia|Get\sOutlook\sfor|Wysłane\sz|Wysłano\sz|Wysłane\sprzy
      |Odesláno\sz|Odoslané\sz|Küldve\s|Надіслано\sз|Відправлено\sз|Отправлено\sс|Gesendet\svon
      |Von\smeinem\s).{0,80}
      |.{1,60}-(?:ról|ről)\sküldve\.?""",
    re.IGNORECASE | re.VERBOSE,
)


def strip_reply(text: str) -> str:
    """The new part of a reply: quoted history, signature and mobile footer removed."""
    lines = text.split("\n")
    cut, resume = _history_start(lines)
    new = lines[:cut]
    if not _has_own_text(new) and resume is not None:
        # Nothing above an attribution: a reply written between the quoted lines below it.
        rest = lines[resume:]
        rest_cut, _ = _history_start(rest)
        if _has_own_text(rest[:rest_cut]):
            new = rest[:rest_cut]
    new = _drop_quotes_around(new)
    new = _drop_signature(new)
    return "\n".join(new).strip("\n")


def _history_start(lines: list[str]) -> tuple[int, int | None]:
    """Index of the first line of quoted history (len(lines) if none) and, for an attribution,
    the index of the line after it."""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or len(stripped) > _MAX_LINE or _QUOTED.match(line):
            continue
        if _ORIGINAL_MESSAGE.fullmatch(stripped):
            return index, None
        if _FROM_LABEL.match(stripped) and _is_header_block(lines, index):
            return _include_separator(lines, index), None
        for span in (1, 2):
            if _is_attribution(lines, index, span):
                return index, index + span
    return len(lines), None


def _is_attribution(lines: list[str], index: int, span: int) -> bool:
    chunk = lines[index : index + span]
    if len(chunk) < span or any(not line.strip() or _QUOTED.match(line) for line in chunk):
        return False
    candidate = " ".join(line.strip() for line in chunk)
    if len(candidate) > _MAX_LINE or not _ATTRIBUTION.fullmatch(candidate):
        return False
    following = next((line for line in lines[index + span :] if line.strip()), "")
    return bool(_QUOTED.match(following)) or bool(_ATTRIBUTION_DETAIL.search(candidate))


def _is_header_block(lines: list[str], index: int) -> bool:
    """A From line followed, within the next lines, by two more header labels."""
    following = [line.strip() for line in lines[index + 1 : index + 8] if line.strip()][:5]
    labels = {m.group(0).strip("*:").lower() for line in following if (m := _HEADER_LABEL.match(line))}
    return len(labels) >= 2


def _include_separator(lines: list[str], index: int) -> int:
    """Move a cut up over blank lines and the separator line Outlook puts above its headers."""
    start = index
    while start > 0 and not lines[start - 1].strip():
        start -= 1
    if start > 0 and _SEPARATOR.fullmatch(lines[start - 1].strip()):
        return start - 1
    return index


def _has_own_text(lines: list[str]) -> bool:
    return any(line.strip() and not _QUOTED.match(line) for line in lines)


def _drop_quotes_around(lines: list[str]) -> list[str]:
    """Drop quoted lines after the reply (top-posting) and, when the reply is one block under
    them, before it (bottom-posting); quotes between parts of a reply are its context."""
    end = len(lines)
    while end > 0 and (not lines[end - 1].strip() or _QUOTED.match(lines[end - 1])):
        end -= 1
    start = 0
    while start < end and (not lines[start].strip() or _QUOTED.match(lines[start])):
        start += 1
    if not any(_QUOTED.match(line) for line in lines[start:end]):
        return lines[start:end]
    return lines[:end]


def _drop_signature(lines: list[str]) -> list[str]:
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].rstrip() == "--" or lines[index] == "-- ":
            if sum(1 for line in lines[index + 1 :] if line.strip()) <= _SIGNATURE_MAX_LINES:
                lines = lines[:index]
            break
    while True:
        end = len(lines)
        while end > 0 and not lines[end - 1].strip():
            end -= 1
        if end == 0 or len(lines[end - 1]) > _MAX_LINE or not _FOOTER.fullmatch(lines[end - 1].strip()):
            return lines[:end]
        lines = lines[: end - 1]
