"""End to end: attachments through the local runtime, presigned URLs against the embedded S3."""

from __future__ import annotations

import pytest
import requests

from tests.support.files import allowed_files, refused_pdfs, windows_executable

pytestmark = pytest.mark.e2e

VND = "application/vnd.allegro.public.v1+json"
# Their own pair of users: the e2e tests share one running stack.
BUYER, SELLER, OUTSIDER = "tomas_novak", "cz-elektro-shop", "kovacs_eszter"
OFFER = "13100520011"


def _declare(session: requests.Session, api: str, filename: str, size: int) -> dict:
    response = session.post(
        f"{api}/messaging/message-attachments",
        json={"filename": filename, "size": size},
        headers={"Content-Type": VND},
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_files_travel_from_buyer_to_seller_byte_for_byte(local_stack):
    api = local_stack.api_url
    buyer, seller, outsider = (local_stack.session(login) for login in (BUYER, SELLER, OUTSIDER))
    png, _ = allowed_files()["photo.png"]
    pdf, _ = allowed_files()["invoice.pdf"]
    # Given the buyer uploads a PNG with PUT, and a PDF with the presigned POST form (as for big files)
    photo = _declare(buyer, api, "zdjęcie.png", len(png))
    put = buyer.put(
        f"{api}/messaging/message-attachments/{photo['id']}", data=png, headers={"Content-Type": "image/png"}
    )
    assert put.status_code == 200, put.text
    invoice = _declare(buyer, api, "faktura.pdf", len(pdf))
    form = invoice["upload"]
    state = local_stack.state
    assert form["url"].startswith(f"http://{state['host']}:{state['aws_port']}/")  # the embedded S3
    posted = requests.post(form["url"], data=form["fields"], files={"file": ("faktura.pdf", pdf)}, timeout=10)
    assert posted.status_code in (200, 201, 204), posted.text
    # When the buyer sends both with a question
    sent = buyer.post(
        f"{api}/messaging/messages",
        json={
            "offer": {"id": OFFER},
            "text": "Zdjęcie i faktura w załączniku",
            "attachments": [{"id": photo["id"]}, {"id": invoice["id"]}],
        },
        headers={"Content-Type": VND},
    )
    assert sent.status_code == 201, sent.text
    attachments = sent.json()["attachments"]
    assert [(a["fileName"], a["mimeType"], a["status"]) for a in attachments] == [
        ("zdjęcie.png", "image/png", "SAFE"),
        ("faktura.pdf", "application/pdf", "SAFE"),
    ]
    # Then the seller downloads identical bytes, following the redirect like curl -L
    for attachment, original in zip(attachments, (png, pdf), strict=True):
        assert attachment["url"].startswith(api)
        redirect = seller.get(attachment["url"], allow_redirects=False)
        assert redirect.status_code == 302
        downloaded = requests.get(redirect.headers["Location"], timeout=10)
        assert downloaded.status_code == 200
        assert downloaded.content == original
        assert "attachment;" in downloaded.headers["Content-Disposition"]
    # And a third user cannot download them
    assert outsider.get(attachments[0]["url"], allow_redirects=False).status_code == 404


def test_a_renamed_executable_is_refused(local_stack):
    api = local_stack.api_url
    buyer = local_stack.session(BUYER)
    exe = windows_executable()
    declared = _declare(buyer, api, "invoice.pdf", len(exe))
    response = buyer.put(
        f"{api}/messaging/message-attachments/{declared['id']}",
        data=exe,
        headers={"Content-Type": "application/pdf"},
    )
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "PDF, GIF, BMP, TIFF, JPEG" in response.json()["detail"]


def test_an_upload_replaced_through_its_form_after_the_check_is_not_what_the_seller_gets(local_stack):
    api = local_stack.api_url
    buyer, seller = local_stack.session(BUYER), local_stack.session(SELLER)
    png, _ = allowed_files()["photo.png"]
    # Given the buyer's PNG was uploaded with PUT and checked
    photo = _declare(buyer, api, "zdjęcie.png", len(png))
    put = buyer.put(
        f"{api}/messaging/message-attachments/{photo['id']}", data=png, headers={"Content-Type": "image/png"}
    )
    assert put.status_code == 200, put.text
    # And then an executable was posted with the declaration's still valid upload form
    form = photo["upload"]
    swapped = requests.post(
        form["url"], data=form["fields"], files={"file": ("zdjęcie.png", windows_executable())}, timeout=10
    )
    assert swapped.status_code in (200, 201, 204), swapped.text

    # When the buyer sends the attachment
    sent = buyer.post(
        f"{api}/messaging/messages",
        json={"offer": {"id": OFFER}, "text": "Zdjęcie", "attachments": [{"id": photo["id"]}]},
        headers={"Content-Type": VND},
    )

    # Then the seller downloads the checked PNG, byte for byte
    assert sent.status_code == 201, sent.text
    redirect = seller.get(sent.json()["attachments"][0]["url"], allow_redirects=False)
    assert redirect.status_code == 302
    assert requests.get(redirect.headers["Location"], timeout=10).content == png


def test_a_pdf_with_javascript_is_refused(local_stack):
    api = local_stack.api_url
    buyer = local_stack.session(BUYER)
    content = refused_pdfs()["javascript as the open action"]
    declared = _declare(buyer, api, "faktura.pdf", len(content))
    response = buyer.put(
        f"{api}/messaging/message-attachments/{declared['id']}",
        data=content,
        headers={"Content-Type": "application/pdf"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "ATTACHMENT_UNSAFE"
    assert "JavaScript" in response.json()["detail"]
