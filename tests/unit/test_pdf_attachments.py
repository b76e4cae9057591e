"""PDF attachments are parsed: fake PDFs and PDFs with active content are refused, within bounds."""

from __future__ import annotations

import io

import pytest
from message_center.domain import pdf_content
from message_center.domain.attachments import ALLOWED_DESCRIPTION
from message_center.domain.file_types import inspect
from PIL import Image

from tests.support.files import allowed_files, clean_pdf, refused_pdfs


@pytest.mark.parametrize("pages", [1, 3, 40])
def test_a_clean_multi_page_pdf_is_a_pdf(pages: int) -> None:
    # Given a plain document with text on every page and an ordinary web link
    content = clean_pdf(pages)

    # When its content is inspected
    inspection = inspect(content)

    # Then it is a PDF
    assert inspection.format is not None
    assert inspection.format.mime_type == "application/pdf"


def test_a_multi_page_scan_made_by_pillow_is_a_pdf() -> None:
    # Given the kind of PDF a scanner app writes: one image per page
    pages = [Image.new("RGB", (120, 160), colour) for colour in ("white", "gray", "beige")]
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", save_all=True, append_images=pages[1:], resolution=72.0)

    # When / Then it is a PDF, like the single-page one of the shared corpus
    assert inspect(buffer.getvalue()).format is not None
    assert inspect(allowed_files()["invoice.pdf"][0]).format is not None


@pytest.mark.parametrize("name", sorted(refused_pdfs()))
def test_fake_pdfs_and_pdfs_with_active_content_are_refused(name: str) -> None:
    # Given a file that starts like a PDF and ends with the end-of-file marker
    content = refused_pdfs()[name]
    assert content.startswith(b"%PDF-")

    # When its content is inspected
    inspection = inspect(content)

    # Then it is refused, with a reason that names the allowed formats
    assert inspection.format is None, name
    assert inspection.refusal is not None
    assert inspection.refusal.endswith(f"Allowed formats: {ALLOWED_DESCRIPTION}.")


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("javascript in the names tree", "contains JavaScript"),
        ("javascript as the open action", "contains JavaScript"),
        ("launch action in a link", "starts programs"),
        ("embedded executable", "embedded files"),
        ("html with a pdf header", "not a readable PDF"),
        ("html after the end marker", "data after its end"),
    ],
)
def test_the_refusal_says_what_was_found(name: str, says: str) -> None:
    assert says in (inspect(refused_pdfs()[name]).refusal or "")


def test_names_spelled_with_escapes_are_recognised() -> None:
    # Given a page whose open action is JavaScript written as /Java#53cript with a /J#53 entry
    content = _pdf_by_hand(
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/AA << /O << /S /Java#53cript /J#53 (app.alert(1)) >> >> >>"
    )

    # When / Then it is refused as JavaScript
    assert "JavaScript" in (inspect(content).refusal or "")


def test_a_launch_action_given_by_reference_is_recognised() -> None:
    # Given a link whose action type is a reference to the name /Launch
    content = _pdf_by_hand(
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [4 0 R] >>",
        b"<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S 5 0 R /F (calc.exe) >> >>",
        b"/Launch",
    )

    # When / Then it is refused
    assert "starts programs" in (inspect(content).refusal or "")


def test_a_pdf_with_more_pages_than_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a limit of 5 pages (the real one is higher: the rule, not the number, is tested)
    monkeypatch.setattr(pdf_content, "MAX_PAGES", 5)

    # When a 5-page and a 6-page document are inspected
    five, six = inspect(clean_pdf(5)), inspect(clean_pdf(6))

    # Then only the first passes
    assert five.format is not None
    assert six.format is None
    assert "too large or complex" in (six.refusal or "")


def test_parsing_stops_once_its_work_budget_is_spent(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a valid document of 3,000 small objects, and a budget of reads too small for it
    # (the real budget bounds a 25 MB file made of tiny objects or cross-reference entries)
    content = _pdf_by_hand(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>", *[b"<< /N [1 2] >>"] * 3000)
    assert inspect(content).format is not None
    monkeypatch.setattr(pdf_content, "MAX_READS", 20_000)

    # When it is inspected again
    inspection = inspect(content)

    # Then parsing stops and the file is refused as too complex
    assert inspection.format is None
    assert "too large or complex" in (inspection.refusal or "")


def test_a_hostile_cross_reference_table_is_refused() -> None:
    # Given a 7 MB "PDF" whose cross-reference table lists 350,000 objects (real files list a few
    # thousand) that all point at one small object
    entries = 350_000
    head = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    pages_at = len(head)
    body = head + b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    table = b"xref\n0 %d\n0000000000 65535 f \n" % entries + (b"%010d 00000 n \n" % pages_at) * (entries - 1)
    content = body + table + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (entries, len(body))

    # When it is inspected
    inspection = inspect(content)

    # Then it is refused as too complex
    assert inspection.format is None
    assert "too large or complex" in (inspection.refusal or "")


def test_a_password_protected_pdf_is_refused_but_an_owner_password_alone_is_fine() -> None:
    from pypdf import PdfReader, PdfWriter

    def encrypted(user_password: str) -> bytes:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(clean_pdf(2))))
        writer.encrypt(user_password=user_password, owner_password="wlasciciel", algorithm="AES-256")
        buffer = io.BytesIO()
        writer.write(buffer)
        return buffer.getvalue()

    # Given the same document protected for opening, and protected only against editing
    # When / Then the first cannot be checked, the second opens (and is checked) like any PDF
    assert "password-protected" in (inspect(encrypted("tajne")).refusal or "")
    assert inspect(encrypted("")).format is not None


def _pdf_by_hand(page: bytes, *more: bytes) -> bytes:
    """A one-page PDF with its objects written out, for shapes a PDF library would not write."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page, *more]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    table_at = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, table_at))
    return out.getvalue()
