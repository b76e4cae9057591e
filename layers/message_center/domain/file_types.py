"""What a file really is, decided from its bytes (never from its name or a declared header)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from . import pdf_content
from .attachments import ALLOWED_DESCRIPTION, ALLOWED_FORMATS, FileFormat

_IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF")
_PDF_MAGIC = b"%PDF-"
_PDF_END = b"%%EOF"
_PDF_TRAILER_WINDOW = 2048
_NOT_ALLOWED = f"Allowed formats: {ALLOWED_DESCRIPTION}."


@dataclass(frozen=True)
class Inspection:
    format: FileFormat | None
    refusal: str | None = None

    @property
    def allowed(self) -> bool:
        return self.format is not None


def _refused(reason: str) -> Inspection:
    return Inspection(format=None, refusal=reason)


def _by_name(name: str) -> FileFormat:
    return next(f for f in ALLOWED_FORMATS if f.name == name)


def inspect(content: bytes) -> Inspection:
    """Identify ``content`` as one of the allowed formats, checking that it is complete.

    Images are opened with Pillow restricted to the allowed formats and fully decoded (so a
    truncated or damaged file is refused); a PDF must start with the PDF header, end with its
    end-of-file marker (nothing but whitespace after it) and be read by a PDF parser without
    finding active content (see :mod:`.pdf_content`). Everything else is refused with a reason a
    user can act on.
    """
    if not content:
        return _refused("The file is empty.")
    if content.startswith(_PDF_MAGIC):
        return _inspect_pdf(content)
    from PIL import Image, UnidentifiedImageError  # imported on first use: keeps cold starts short

    try:
        with Image.open(io.BytesIO(content), formats=_IMAGE_FORMATS) as image:
            detected = image.format
            image.verify()
        with Image.open(io.BytesIO(content), formats=_IMAGE_FORMATS) as image:
            image.load()  # a full decode: catches truncated data that verify() lets through
    except UnidentifiedImageError:
        return _refused(f"This file type cannot be attached. Allowed formats: {ALLOWED_DESCRIPTION}.")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return _refused("The image file is incomplete or damaged.")
    if detected not in _IMAGE_FORMATS:  # pragma: no cover - Pillow honours `formats`
        return _refused(f"This file type cannot be attached. Allowed formats: {ALLOWED_DESCRIPTION}.")
    return Inspection(_by_name(detected))


def _inspect_pdf(content: bytes) -> Inspection:
    end = content.rfind(_PDF_END, max(0, len(content) - _PDF_TRAILER_WINDOW))
    if end < 0:
        return _refused(f"The PDF file is incomplete or damaged. {_NOT_ALLOWED}")
    if content[end + len(_PDF_END) :].strip(b" \t\r\n\f\x00"):
        # Something riding after the document (HTML, an archive...) that viewers ignore but
        # other programs may not.
        return _refused(f"The PDF file has data after its end. {_NOT_ALLOWED}")
    problem = pdf_content.active_content(content)
    if problem is None:
        return Inspection(_by_name("PDF"))
    if problem == pdf_content.UNREADABLE:
        return _refused(f"The file is not a readable PDF document. {_NOT_ALLOWED}")
    if problem in (pdf_content.TOO_COMPLEX, pdf_content.TOO_MANY_PAGES):
        return _refused(
            f"The PDF is too large or complex to check (at most {pdf_content.MAX_PAGES} pages). {_NOT_ALLOWED}"
        )
    if problem == pdf_content.ENCRYPTED:
        return _refused(f"A password-protected PDF cannot be checked; attach it without a password. {_NOT_ALLOWED}")
    return _refused(f"The PDF contains {problem}, which attachments may not carry. {_NOT_ALLOWED}")
