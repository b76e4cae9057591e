"""Real files of every allowed format and of refused ones, made with Pillow and the standard
library (no hand-written magic bytes)."""

from __future__ import annotations

import io
import zipfile
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw


def _picture(mode: str = "RGB") -> Image.Image:
    image = Image.new(mode, (48, 32), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((4, 4, 40, 24), outline="red", fill="blue")
    draw.text((6, 8), "MC", fill="yellow")
    return image


def _save(image: Image.Image, file_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, file_format, **options)
    return buffer.getvalue()


@cache
def allowed_files() -> dict[str, tuple[bytes, str]]:
    """name → (bytes, MIME type the content must be recognised as)."""
    picture = _picture()
    return {
        "invoice.pdf": (_save(picture, "PDF", resolution=72.0), "application/pdf"),
        "photo.png": (_save(picture, "PNG"), "image/png"),
        "photo.jpg": (_save(picture, "JPEG", quality=85), "image/jpeg"),
        "photo.jpeg": (_save(picture, "JPEG", quality=60), "image/jpeg"),
        "animation.gif": (_save(_picture("P"), "GIF"), "image/gif"),
        "scan.bmp": (_save(picture, "BMP"), "image/bmp"),
        "scan.tif": (_save(picture, "TIFF", compression="tiff_lzw"), "image/tiff"),
        "scan.tiff": (_save(picture, "TIFF"), "image/tiff"),
    }


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def windows_executable() -> bytes:
    """A real Windows PE executable shipped inside pip (distlib's launcher) or setuptools."""
    import pip

    candidates = [
        *Path(pip.__file__).parent.glob("_vendor/distlib/*.exe"),
        *Path(Image.__file__).parents[1].glob("setuptools/*.exe"),
    ]
    if not candidates:  # pragma: no cover - pip always ships them on every platform
        raise RuntimeError("no Windows executable found to test with")
    return sorted(candidates)[0].read_bytes()


@cache
def refused_files() -> dict[str, bytes]:
    """Files that must be refused, each named with an allowed extension to try to sneak in."""
    picture = _picture()
    return {
        "invoice.pdf": windows_executable(),
        "photo.png": _save(picture, "WEBP"),
        "scan.jpg": _save(picture, "ICO"),
        "document.pdf": _zip({"word/document.xml": b"<w:document/>", "[Content_Types].xml": b"<Types/>"}),
        "archive.png": _zip({"a.txt": b"hello"}),
        "page.gif": b"<!doctype html><html><script>alert(1)</script></html>",
        "vector.png": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "photoshop.tiff": _save(picture, "PSD") if "PSD" in Image.SAVE else _save(picture, "TGA"),
    }


def truncated(content: bytes) -> bytes:
    return content[: len(content) // 2]
