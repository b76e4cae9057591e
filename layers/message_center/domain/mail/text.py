"""Body text: bytes in any charset to clean Unicode, HTML to plain text, length limits."""

from __future__ import annotations

import codecs
import re
import unicodedata
from html.parser import HTMLParser

import nh3

from .model import MailDefect

TRUNCATION_MARKER = "…\n[message truncated]"
# The new part of a reply is near the top; nothing past these sizes can end up in a message.
MAX_TEXT_PART_BYTES = 1024 * 1024
_DETECTION_SAMPLE_BYTES = 64 * 1024

# Labels that mail software sends but Python's codec registry does not know (WHATWG's aliases).
_CHARSET_ALIASES = {
    "iso-8859-8-i": "iso-8859-8",
    "x-user-defined": "windows-1252",
    "unicode-1-1-utf-7": "utf-7",
    "x-mac-ce": "mac-latin2",
    "x-mac-cyrillic": "mac-cyrillic",
    "x-cp1250": "windows-1250",
    "x-cp1251": "windows-1251",
}
# Codecs that turn bytes into something other than the text of a mail (or are costly to run).
_REFUSED_CODECS = frozenset({"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined"})
_UNICODE_CODECS = frozenset({"utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-7"})
# An ISO charset label on text that uses the C1 range is, in practice, its Windows sibling.
_WINDOWS_SIBLINGS = {
    "iso8859-1": "cp1252",
    "iso8859-2": "cp1250",
    "iso8859-5": "cp1251",
    "iso8859-7": "cp1253",
    "iso8859-8": "cp1255",
    "iso8859-9": "cp1254",
    "iso8859-13": "cp1257",
}
_C1_CONTROLS = re.compile("[\x80-\x9f]")


def _codec(charset: str | None) -> str | None:
    """The Python codec for a MIME charset label, or None when it is unknown or refused."""
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError):  # ValueError: a label with a NUL or other junk
        return None
    if name in _REFUSED_CODECS or not getattr(codecs.lookup(label), "_is_text_encoding", True):
        return None
    return name


def _is_utf8(data: bytes, *, final: bool) -> bool:
    try:
        _decode(data, "utf-8", final=final)
    except UnicodeDecodeError:
        return False
    return True


def _detect(data: bytes) -> str | None:
    from charset_normalizer import from_bytes  # imported on first use: keeps cold starts short

    best = from_bytes(data[:_DETECTION_SAMPLE_BYTES]).best()
    return _codec(best.encoding) if best is not None else None


def _decode(data: bytes, codec: str, *, final: bool, errors: str = "strict") -> str:
    # An incremental decoder tolerates a multi-byte character cut off at a size limit.
    return codecs.getincrementaldecoder(codec)(errors=errors).decode(data, final=final)


def decode_bytes(data: bytes, charset: str | None, defects: list[MailDefect], *, final: bool = True) -> str:
    """Decode text whose declared ``charset`` may be missing, unknown or a lie; never raises.

    Valid UTF-8 with non-ASCII bytes wins over any other declared charset (the most common lie);
    an ISO label on text in the C1 range means its Windows sibling; bytes the declared charset
    cannot decode go to charset detection; what is still undecodable becomes U+FFFD. The result
    never holds lone surrogates (UTF-7 and UTF-16 can encode them).
    """
    return _LONE_SURROGATES.sub("\ufffd", _decode_any(data, charset, defects, final=final))


_LONE_SURROGATES = re.compile("[\ud800-\udfff]")


def _decode_any(data: bytes, charset: str | None, defects: list[MailDefect], *, final: bool) -> str:
    if not data:
        return ""
    codec = _codec(charset)
    if charset and codec is None:
        defects.append(MailDefect.UNKNOWN_CHARSET)
    if codec is None and data.isascii():
        return data.decode("ascii")
    if codec not in _UNICODE_CODECS and not data.isascii() and _is_utf8(data, final=final):
        return _decode(data, "utf-8", final=final)
    if codec is not None:
        try:
            text = _decode(data, codec, final=final)
        except UnicodeDecodeError:
            pass
        else:
            sibling = _WINDOWS_SIBLINGS.get(codec)
            if sibling and _C1_CONTROLS.search(text):
                return _decode(data, sibling, final=final, errors="replace")
            return text
    detected = _detect(data)
    if detected is not None:
        return _decode(data, detected, final=final, errors="replace")
    defects.append(MailDefect.UNDECODABLE_TEXT)
    return _decode(data, codec or "utf-8", final=final, errors="replace")


def unflow(text: str, *, delsp: bool) -> str:
    """Join the soft line breaks of ``format=flowed`` text (RFC 3676)."""
    out: list[str] = []
    paragraph: str | None = None
    paragraph_quote = ""
    for line in text.split("\n"):
        quote = line[: len(line) - len(line.lstrip(">"))]
        content = line[len(quote) :]
        if content.startswith(" "):  # space-stuffing, or the space after the quote marks
            content = content[1:]
        flowed = content.endswith(" ") and content != "-- "
        if flowed and delsp:
            content = content[:-1]
        if paragraph is not None and quote == paragraph_quote:
            paragraph += content
        else:
            if paragraph is not None:
                out.append(_quoted(paragraph_quote, paragraph))
            paragraph, paragraph_quote = content, quote
        if not flowed:
            out.append(_quoted(paragraph_quote, paragraph))
            paragraph = None
    if paragraph is not None:
        out.append(_quoted(paragraph_quote, paragraph))
    return "\n".join(out)


def _quoted(quote: str, content: str) -> str:
    return f"{quote} {content}" if quote else content


# Tags whose boundaries are line breaks; every other tag is dropped by nh3, keeping its text.
_BLOCK_TAGS = frozenset(
    {"p", "div", "li", "tr", "ul", "ol", "table", "pre", "hr", "dt", "dd", "blockquote"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "address", "article", "section", "header", "footer"}
)
_CELL_TAGS = frozenset({"td", "th"})
# Removed with everything inside them: code, styling, metadata and form widgets are no text.
_DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "title", "head", "noscript", "template", "svg", "math", "iframe", "object"}
    | {"textarea", "select", "button", "canvas", "audio", "video"}
)


class _TextRenderer(HTMLParser):
    """Turns nh3's sanitised output (a handful of attribute-free tags) into lines of text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._line: list[str] = []
        self._prefix = ""
        self._quote_depth = 0
        self._pre_depth = 0
        self._outlook_line = False

    def _quote_prefix(self) -> str:
        return "> " * min(self._quote_depth, 10)  # deeper quotes are history all the same

    def _flush(self) -> None:
        if self._line:
            self.lines.append(self._prefix + "".join(self._line).strip(" "))
            self._line = []

    def _new_line(self) -> None:
        if self._line:
            self._flush()
        else:  # an empty line: a blank line of its own
            self.lines.append(self._quote_prefix())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._new_line()
            return
        if tag in _BLOCK_TAGS:
            self._flush()
            if tag == "p":
                # Outlook writes every line as <p class=MsoNormal> with no margin: a line, not a paragraph
                self._outlook_line = ("class", "MsoNormal") in attrs
                self._paragraph()
        elif tag in _CELL_TAGS and self._line:
            self._line.append(" ")
        if tag == "blockquote":
            self._quote_depth += 1
        elif tag == "pre":
            self._pre_depth += 1
        elif tag == "li":
            self._append("- ")

    def _paragraph(self) -> None:
        """A blank line between paragraphs (one, however many paragraphs open and close)."""
        if not self._outlook_line and self.lines and self.lines[-1].strip("> "):
            self.lines.append(self._quote_prefix())

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self._flush()
            if tag == "p":
                self._paragraph()
        if tag == "blockquote":
            self._quote_depth = max(0, self._quote_depth - 1)
        elif tag == "pre":
            self._pre_depth = max(0, self._pre_depth - 1)

    def _append(self, text: str) -> None:
        if not self._line:
            self._prefix = self._quote_prefix()
        self._line.append(text)

    def handle_data(self, data: str) -> None:
        if self._pre_depth:
            first, *rest = data.split("\n")
            self._append(first)
            for line in rest:
                self._new_line()
                self._append(line)
            return
        collapsed = re.sub(r"[ \t\r\n\f]+", " ", data)  # HTML white space (not NBSP)
        if not self._line:
            collapsed = collapsed.lstrip(" ")
        if collapsed:
            self._append(collapsed)

    def text(self) -> str:
        self.close()
        self._flush()
        return "\n".join(self.lines)


def html_to_text(html: str) -> str:
    """Plain text of untrusted HTML: nh3 removes every tag but a few structural ones (and
    scripts, styles and the like with their content); the rest becomes line breaks and
    ``> `` quote prefixes for blockquotes, with character references decoded."""
    cleaned = nh3.clean(
        html,
        tags=set(_BLOCK_TAGS | _CELL_TAGS | {"br"}),
        clean_content_tags=set(_DROPPED_WITH_CONTENT),
        attributes={},
        allowed_classes={"p": {"MsoNormal"}},
        strip_comments=True,
        link_rel=None,
    )
    renderer = _TextRenderer()
    renderer.feed(cleaned)
    return normalise(renderer.text())


# Control characters but tab and newline; bidi overrides (text spoofing); invisible marks.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")
_LINE_SEPARATORS = re.compile("\r\n|[\r\u2028\u2029\x85]")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalise(text: str) -> str:
    """NFC, ``\\n`` line ends, no control or invisible characters, no trailing spaces, at most
    one blank line in a row, no blank lines around."""
    text = _LINE_SEPARATORS.sub("\n", text)
    text = unicodedata.normalize("NFC", _INVISIBLE.sub("", text)).replace("\xa0", " ")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip("\n")


def clean_line(value: str) -> str:
    """A header value on one line: no control characters, single spaces."""
    value = unicodedata.normalize("NFC", _INVISIBLE.sub("", re.sub(r"[\t\r\n]", " ", value)))
    return re.sub(r"\s+", " ", value).strip()


def truncate(text: str, limit: int) -> tuple[str, bool]:
    """``text`` within ``limit`` characters, cut visibly at a word boundary when it is longer."""
    if len(text) <= limit:
        return text, False
    room = limit - len(TRUNCATION_MARKER)
    if room < 1:
        raise ValueError(f"max_text_length must be more than {len(TRUNCATION_MARKER)} characters")
    head = text[: room + 1]
    boundary = max(head.rfind(" "), head.rfind("\n"), head.rfind("\t"))
    # A word boundary near the end; a single enormous "word" (a URL, a hash) is cut where it is.
    head = head[:boundary] if boundary > room // 2 else head[:room]
    return head.rstrip() + TRUNCATION_MARKER, True
