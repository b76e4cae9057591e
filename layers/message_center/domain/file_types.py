"""What a file really is, decided from its bytes (never from its name or a declared header)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from .attachments import ALLOWED_DESCRIPTION, ALLOWED_FORMATS, FileFormat

_IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF")
_PDF_MAGIC = b"%PDF-"
_PDF_TRAILER_WINDOW = 2048


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
    truncated or damaged file is refused); a PDF must start with the PDF header and end with its
    end-of-file marker. Everything else is refused with a reason a user can act on.
    """
    if not content:
        return _refused("The file is empty.")
    if content.startswith(_PDF_MAGIC):
        if b"%%EOF" not in content[-_PDF_TRAILER_WINDOW:]:
            return _refused("The PDF file is incomplete or damaged.")
        return Inspection(_by_name("PDF"))
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
