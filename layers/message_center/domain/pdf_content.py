"""Is a file a real PDF without active content? Decided by parsing it with pypdf, within fixed bounds.

A PDF passes when pypdf reads its cross-reference data and document catalog, its page tree holds
between one and ``MAX_PAGES`` pages, and no object in its cross-reference table is (or directly
holds) active content: JavaScript (a ``/JS`` entry, a ``/JavaScript`` action or name tree, a
``javascript:`` link), a launch action, other actions that run code or open embedded or imported
files (``/GoToE``, ``/ImportData``, ``/RichMediaExecute``), embedded files (an ``/EmbeddedFiles``
name tree, a file specification's ``/EF``, an ``/EmbeddedFile`` stream) or an XFA form. Every
object is looked at, not only those reachable from the catalog, so actions under ``/OpenAction``,
``/AA``, page ``/Annots``, outlines or form fields are all found, whatever the object that holds
them. Names are compared after pypdf has decoded their ``#xx`` escapes.

The work is bounded whatever the file's shape (the caller already caps its size): pypdf tokenizes
with small reads, so the number of reads it may make on the file is capped (``MAX_READS``); the
object streams it would parse are capped in number and decoded size before any of them is parsed;
no stream may decode to more than ``MAX_DECODED_STREAM_BYTES``; and page content and images are
never decoded. A file beyond any bound is refused as too complex to check.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

MAX_PAGES = 1000
# About two seconds of pypdf's tokenizing on one core; a 300-page scan needs a tenth of it.
MAX_READS = 1_000_000
MAX_OBJECTS = 200_000
MAX_OBJECT_STREAMS = 256
MAX_OBJECT_STREAM_BYTES = 4 * 1024 * 1024  # all object streams together, decoded
# Only object and cross-reference streams are ever decoded here: they hold dictionaries, small.
MAX_DECODED_STREAM_BYTES = 1024 * 1024
MAX_ELEMENTS = 50_000  # in one array or dictionary

# Action types (``/S``) that run code, start programs or open embedded or imported files.
_ACTIVE_ACTIONS = {
    "/JavaScript": "JavaScript",
    "/Launch": "an action that starts programs",
    "/GoToE": "an embedded file",
    "/ImportData": "an action that imports data from files",
    "/RichMediaExecute": "a rich-media script",
}
_LIMITS: dict[str, Any] = {
    "zlib_maximum_output_length": MAX_DECODED_STREAM_BYTES,
    "lzw_maximum_output_length": MAX_DECODED_STREAM_BYTES,
    "run_length_maximum_output_length": MAX_DECODED_STREAM_BYTES,
    "array_based_stream_maximum_output_length": MAX_DECODED_STREAM_BYTES,
    "brotli_maximum_output_length": MAX_DECODED_STREAM_BYTES,
    "jbig2_maximum_output_length": MAX_DECODED_STREAM_BYTES,
    "stream_decoding_work_maximum_length": 4 * MAX_DECODED_STREAM_BYTES,
    "array_maximum_element_count": MAX_ELEMENTS,
    "dictionary_maximum_element_count": MAX_ELEMENTS,
    "page_tree_maximum_entries": 2 * MAX_PAGES,
    "page_tree_maximum_page_entries": 64 * MAX_PAGES,
    "jbig2dec_binary": None,  # never start an external decoder on untrusted input
}

UNREADABLE = "unreadable"
TOO_COMPLEX = "too complex"
TOO_MANY_PAGES = "too many pages"
ENCRYPTED = "encrypted with a password"


class _Refused(BaseException):
    """Ends the check from deep inside pypdf. A BaseException so that pypdf's own recovery
    (``except Exception`` around damaged parts) cannot swallow it and carry on parsing."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _MeteredFile(io.BytesIO):
    """The file as pypdf reads it; refuses once pypdf has read from it ``MAX_READS`` times."""

    def __init__(self, content: bytes) -> None:
        super().__init__(content)
        self._reads = 0

    def read(self, size: int | None = -1, /) -> bytes:
        self._reads += 1
        if self._reads > MAX_READS:
            raise _Refused(TOO_COMPLEX)
        return super().read(size)


def active_content(content: bytes) -> str | None:
    """``None`` for a readable PDF without active content; otherwise what is wrong, in a few
    words: ``unreadable``, ``too complex``, ``too many pages``, ``encrypted with a password``, or the
    active content found (``JavaScript``, ``embedded files``...)."""
    from pypdf import PdfReader, apply_configuration  # imported on first use: keeps cold starts short
    from pypdf.errors import LimitReachedError

    try:
        with apply_configuration(**_LIMITS):
            reader = PdfReader(_MeteredFile(content), strict=False, xref_stream_maximum_entries=MAX_OBJECTS)
            return _check(reader)
    except _Refused as refused:
        return refused.reason
    except LimitReachedError:  # one of pypdf's own bounds (_LIMITS)
        return TOO_COMPLEX
    except Exception:
        # Whatever pypdf raises on these untrusted bytes (its own errors, or KeyError, TypeError,
        # RecursionError, MemoryError... from a malformed structure) means it cannot read them.
        return UNREADABLE


def _check(reader: Any) -> str | None:
    from pypdf.generic import DictionaryObject

    if reader.is_encrypted and not reader.decrypt(""):
        return ENCRYPTED  # viewers open it without asking only with the empty password
    catalog = reader.trailer.get("/Root")
    catalog = catalog.get_object() if catalog is not None else None
    if not isinstance(catalog, DictionaryObject) or "/Pages" not in catalog:
        return UNREADABLE
    object_ids = list(_object_ids(reader))
    if len(object_ids) > MAX_OBJECTS:
        return TOO_COMPLEX
    _decode_object_streams(reader)
    pages = len(reader.pages)
    if pages == 0:
        return UNREADABLE
    if pages > MAX_PAGES:
        return TOO_MANY_PAGES
    for reference in object_ids:
        _inspect(reader.get_object(reference))
    return None


def _object_ids(reader: Any) -> Iterator[Any]:
    from pypdf.generic import IndirectObject

    for generation, entries in reader.xref.items():
        for idnum in entries:
            yield IndirectObject(idnum, generation, reader)
    for idnum in reader.xref_objStm:
        yield IndirectObject(idnum, 0, reader)


def _decode_object_streams(reader: Any) -> None:
    """Decode every object stream once, up front, refusing the file when there are too many or
    they decode to too much: pypdf parses their content from memory, past the metered file."""
    from pypdf.generic import IndirectObject, StreamObject

    numbers = {number for number, _index in reader.xref_objStm.values()}
    if len(numbers) > MAX_OBJECT_STREAMS:
        raise _Refused(TOO_COMPLEX)
    decoded = 0
    for number in sorted(numbers):
        stream = IndirectObject(number, 0, reader).get_object()
        if not isinstance(stream, StreamObject):
            raise _Refused(UNREADABLE)
        decoded += len(stream.get_data())
        if decoded > MAX_OBJECT_STREAM_BYTES:
            raise _Refused(TOO_COMPLEX)


def _inspect(value: Any) -> None:
    """Walk one object's direct content and refuse active content. References are not followed
    (every indirect object is inspected on its own) and stream data is not decoded."""
    from pypdf.generic import ArrayObject, DictionaryObject

    pending = [value]
    while pending:
        node = pending.pop()
        if isinstance(node, DictionaryObject):
            _refuse_active(node)
            pending.extend(node.values())
        elif isinstance(node, ArrayObject):
            pending.extend(node)


def _refuse_active(node: Any) -> None:
    if "/JS" in node or "/JavaScript" in node:
        raise _Refused("JavaScript")
    action = _resolved(node, "/S")
    if isinstance(action, str) and action in _ACTIVE_ACTIONS:
        raise _Refused(_ACTIVE_ACTIONS[action])
    if action == "/URI" and _is_script_link(_resolved(node, "/URI")):
        raise _Refused("JavaScript")
    if "/EmbeddedFiles" in node or "/EF" in node or _resolved(node, "/Type") == "/EmbeddedFile":
        raise _Refused("embedded files")
    if "/XFA" in node:
        raise _Refused("an XFA form")


def _resolved(node: Any, key: str) -> Any:
    """An entry's value, also when the file gives it as a reference (one step, as viewers do)."""
    value = node.get(key)
    return value.get_object() if value is not None else None


def _is_script_link(uri: Any) -> bool:
    from pypdf.generic import ByteStringObject

    if isinstance(uri, ByteStringObject):
        uri = bytes(uri).decode("latin-1")
    return isinstance(uri, str) and "".join(uri.split()).lower().startswith("javascript:")
