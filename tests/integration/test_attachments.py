"""Attachments: declare, upload (checked by content), attach to messages, download."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
import requests

from tests.conftest import BUCKET, REGION, TABLE
from tests.support.api import call
from tests.support.faults import answering
from tests.support.files import allowed_files, clean_pdf, refused_files, refused_pdfs, truncated

PNG, PNG_TYPE = allowed_files()["photo.png"]
PDF, _ = allowed_files()["invoice.pdf"]


def _declare(user_id: str, filename: str, size: int):
    return call("api_declare_attachment", user_id=user_id, body={"filename": filename, "size": size})


def _put(user_id: str, attachment_id: str, content: bytes, content_type: str = "image/png"):
    return call(
        "api_upload_attachment",
        user_id=user_id,
        path={"attachmentId": attachment_id},
        binary=content,
        headers={"content-type": content_type},
    )


def _upload(user_id: str, filename: str, content: bytes, content_type: str = "image/png") -> str:
    declared = _declare(user_id, filename, len(content))
    assert declared.status == 201, declared.raw_body
    uploaded = _put(user_id, declared.json["id"], content, content_type)
    assert uploaded.status == 200, uploaded.raw_body
    return declared.json["id"]


def _download(user_id: str, attachment_id: str):
    return call("api_download_attachment", user_id=user_id, path={"attachmentId": attachment_id})


def _versions(prefix: str) -> tuple[list[dict], list[dict]]:
    """Every object version and delete marker under ``prefix``."""
    listing = boto3.client("s3", region_name=REGION).list_object_versions(Bucket=BUCKET, Prefix=prefix)
    return listing.get("Versions", []), listing.get("DeleteMarkers", [])


def _attachment_item(attachment_id: str) -> dict | None:
    key = {"pk": {"S": f"ATTACHMENT#{attachment_id}"}, "sk": {"S": "ATTACHMENT"}}
    return boto3.client("dynamodb", region_name=REGION).get_item(TableName=TABLE, Key=key).get("Item")


def _post_form(declared: dict, filename: str, content: bytes) -> None:
    """Upload with the presigned POST form the declaration returned, as a browser would."""
    form = declared["upload"]
    response = requests.post(form["url"], data=form["fields"], files={"file": (filename, content)}, timeout=10)
    assert response.status_code in (200, 201, 204), response.text


def _fetch(location: str) -> bytes:
    """Follow the presigned URL like a browser would (moto answers plain HTTP calls to S3 too)."""
    response = requests.get(location, timeout=10)
    assert response.status_code == 200
    return response.content


@pytest.mark.parametrize("name", sorted(allowed_files()))
def test_every_allowed_format_is_accepted_by_content(users, name):
    content, mime_type = allowed_files()[name]
    anna = users["anna_kowalska"]
    attachment_id = _upload(anna, name, content, mime_type)
    response = call(
        "api_write_new_message",
        user_id=anna,
        body={
            "offer": {"id": "pl-offer-1001"},
            "text": "W załączniku",
            "attachments": [{"id": attachment_id}],
        },
    )
    assert response.status == 201, response.raw_body
    [info] = response.json["attachments"]
    assert info["fileName"] == name
    assert info["mimeType"] == mime_type
    assert info["status"] == "SAFE"
    assert info["url"].endswith(f"/messaging/message-attachments/{attachment_id}")
    assert info["url"].split("/")[-1] == attachment_id  # clients take the id from the last segment


def test_the_other_participant_downloads_identical_bytes(users):
    # Given anna sends a PNG and a PDF with her question
    anna, shop = users["anna_kowalska"], users["rowery-kraków"]
    ids = [_upload(anna, "zdjęcie roweru.png", PNG), _upload(anna, "faktura.pdf", PDF, "application/pdf")]
    sent = call(
        "api_write_new_message",
        user_id=anna,
        body={
            "offer": {"id": "pl-offer-1001"},
            "text": "Zdjęcie i faktura",
            "attachments": [{"id": i} for i in ids],
        },
    ).json
    # When the seller opens the message and downloads both
    seen = call("api_get_message", user_id=shop, path={"messageId": sent["id"]}).json
    assert [a["fileName"] for a in seen["attachments"]] == ["zdjęcie roweru.png", "faktura.pdf"]
    for attachment_id, original in zip(ids, (PNG, PDF), strict=True):
        response = _download(shop, attachment_id)
        # Then each is a short-lived redirect that saves the file under its name
        assert response.status == 302
        assert response.headers["cache-control"] == "no-store"
        location = response.headers["location"]
        query = parse_qs(urlparse(location).query)
        assert int(query["X-Amz-Expires"][0]) <= 600
        assert query["response-content-disposition"][0].startswith("attachment; filename=")
        assert _fetch(location) == original


def test_a_renamed_executable_is_refused_and_never_stored(users):
    anna = users["anna_kowalska"]
    exe = refused_files()["invoice.pdf"]
    declared = _declare(anna, "invoice.pdf", len(exe)).json
    response = _put(anna, declared["id"], exe, "application/pdf")
    assert response.status == 422
    assert response.json["code"] == "ATTACHMENT_UNSAFE"
    assert "PDF, GIF, BMP, TIFF, JPEG" in response.json["detail"]
    objects = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKET).get("Contents", [])
    assert objects == []
    # And it cannot be attached afterwards either
    sent = call(
        "api_write_new_message",
        user_id=anna,
        body={"offer": {"id": "pl-offer-1001"}, "text": "Faktura", "attachments": [{"id": declared["id"]}]},
    )
    assert sent.status == 422 and sent.json["code"] == "ATTACHMENT_UNSAFE"


@pytest.mark.parametrize("name", sorted(refused_files()))
def test_other_formats_are_refused_whatever_their_name(users, name):
    content = refused_files()[name]
    anna = users["anna_kowalska"]
    declared = _declare(anna, name, len(content)).json
    response = _put(anna, declared["id"], content, "image/png")
    assert response.status == 422
    assert response.json["code"] == "ATTACHMENT_UNSAFE"


def test_a_png_named_jpg_is_stored_as_png(users):
    anna = users["anna_kowalska"]
    attachment_id = _upload(anna, "photo.jpg", PNG, "image/jpeg")
    sent = call(
        "api_write_new_message",
        user_id=anna,
        body={"offer": {"id": "pl-offer-1001"}, "text": "Zdjęcie", "attachments": [{"id": attachment_id}]},
    ).json
    assert sent["attachments"][0]["mimeType"] == "image/png"


@pytest.mark.parametrize("name", sorted(refused_pdfs()))
def test_fake_pdfs_and_pdfs_with_active_content_are_refused(users, name):
    # Given a file that starts with the PDF header and ends with the end-of-file marker
    content = refused_pdfs()[name]
    anna = users["anna_kowalska"]
    declared = _declare(anna, "faktura.pdf", len(content)).json

    # When it is uploaded as a PDF
    response = _put(anna, declared["id"], content, "application/pdf")

    # Then it is refused as unsafe, naming the allowed formats, and nothing is stored
    assert response.status == 422, name
    assert response.json["code"] == "ATTACHMENT_UNSAFE"
    assert "PDF, GIF, BMP, TIFF, JPEG" in response.json["detail"]
    assert boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_a_pdf_with_javascript_uploaded_with_the_presigned_post_is_refused_on_use(users):
    # Given a PDF that runs JavaScript when opened, uploaded straight to S3 with the form
    anna = users["anna_kowalska"]
    content = refused_pdfs()["javascript as the open action"]
    declared = _declare(anna, "faktura.pdf", len(content)).json
    fields = declared["upload"]["fields"]
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_object(Bucket=BUCKET, Key=fields["key"], Body=content, ContentType=fields["Content-Type"])

    # When anna sends it
    response = call(
        "api_write_new_message",
        user_id=anna,
        body={"offer": {"id": "pl-offer-1001"}, "text": "Faktura", "attachments": [{"id": declared["id"]}]},
    )

    # Then the send is refused and no message and no stored copy exist
    assert response.status == 422
    assert response.json["code"] == "ATTACHMENT_UNSAFE"
    assert "JavaScript" in response.json["detail"]
    assert call("api_list_threads", user_id=anna).json["threads"] == []
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="attachments/").get("KeyCount") == 0


def test_a_clean_multi_page_pdf_travels_byte_for_byte(users):
    # Given anna uploads a three-page PDF with a web link in it
    anna, shop = users["anna_kowalska"], users["rowery-kraków"]
    content = clean_pdf(3)
    attachment_id = _upload(anna, "faktura 3 strony.pdf", content, "application/pdf")

    # When she sends it and the seller downloads it
    sent = call(
        "api_write_new_message",
        user_id=anna,
        body={"offer": {"id": "pl-offer-1001"}, "text": "Faktura", "attachments": [{"id": attachment_id}]},
    )
    assert sent.status == 201, sent.raw_body
    downloaded = _fetch(_download(shop, attachment_id).headers["location"])

    # Then it was stored as a safe PDF and arrives unchanged
    assert sent.json["attachments"][0]["mimeType"] == "application/pdf"
    assert sent.json["attachments"][0]["status"] == "SAFE"
    assert downloaded == content


@pytest.mark.parametrize("name", ["photo.png", "photo.jpg", "invoice.pdf", "scan.tiff", "animation.gif"])
def test_truncated_files_are_refused(users, name):
    content = truncated(allowed_files()[name][0])
    anna = users["anna_kowalska"]
    declared = _declare(anna, name, len(content)).json
    response = _put(anna, declared["id"], content, allowed_files()[name][1])
    assert response.status == 422
    assert response.json["code"] == "ATTACHMENT_UNSAFE"


@pytest.mark.parametrize(
    ("filename", "size", "code"),
    [
        ("empty.png", 0, "ATTACHMENT_EMPTY"),
        ("huge.pdf", 25 * 1024 * 1024 + 1, "ATTACHMENT_TOO_LARGE"),
        ("photo.webp", 100, "ATTACHMENT_TYPE_NOT_ALLOWED"),
        ("photo.heic", 100, "ATTACHMENT_TYPE_NOT_ALLOWED"),
        ("logo.svg", 100, "ATTACHMENT_TYPE_NOT_ALLOWED"),
        ("page.html", 100, "ATTACHMENT_TYPE_NOT_ALLOWED"),
        ("docs.zip", 100, "ATTACHMENT_TYPE_NOT_ALLOWED"),
        ("report.docx", 100, "ATTACHMENT_TYPE_NOT_ALLOWED"),
        ("setup.exe", 100, "ATTACHMENT_TYPE_NOT_ALLOWED"),
        ("no-extension", 100, "ATTACHMENT_TYPE_NOT_ALLOWED"),
        ("../../..", 100, "FILE_NAME_INVALID"),
    ],
)
def test_declarations_refused_by_name_or_size(users, filename, size, code):
    response = _declare(users["anna_kowalska"], filename, size)
    assert response.status == 422
    assert response.json["code"] == code


def test_declaration_offers_a_presigned_upload_for_large_files(users):
    response = _declare(users["anna_kowalska"], "skan umowy.pdf", 12 * 1024 * 1024)
    assert response.status == 201
    body = response.json
    assert body["upload"]["fields"]["key"] == f"uploads/{body['id']}"
    assert body["upload"]["fields"]["Content-Type"] == "application/pdf"
    assert "policy" in body["upload"]["fields"] or "Policy" in body["upload"]["fields"]
    assert body["expiresAt"].endswith("Z")


def test_a_file_larger_or_smaller_than_declared_is_refused(users):
    anna = users["anna_kowalska"]
    declared = _declare(anna, "photo.png", len(PNG) - 10).json
    assert _put(anna, declared["id"], PNG).json["code"] == "ATTACHMENT_SIZE_MISMATCH"
    declared = _declare(anna, "photo.png", len(PNG) + 10).json
    assert _put(anna, declared["id"], PNG).json["code"] == "ATTACHMENT_SIZE_MISMATCH"


def test_upload_needs_an_allowed_content_type_header(users):
    anna = users["anna_kowalska"]
    declared = _declare(anna, "photo.png", len(PNG)).json
    response = _put(anna, declared["id"], PNG, "application/octet-stream")
    assert response.status == 415


def test_only_the_declaring_user_can_upload(users):
    declared = _declare(users["anna_kowalska"], "photo.png", len(PNG)).json
    assert _put(users["jan_prywatny"], declared["id"], PNG).status == 404


def test_an_attachment_is_uploaded_once(users):
    anna = users["anna_kowalska"]
    attachment_id = _upload(anna, "photo.png", PNG)
    assert _put(anna, attachment_id, PNG).status == 409


def test_a_non_participant_cannot_download(users):
    anna, shop = users["anna_kowalska"], users["rowery-kraków"]
    attachment_id = _upload(anna, "photo.png", PNG)
    # Before it is used: only the uploader
    assert _download(anna, attachment_id).status == 302
    assert _download(shop, attachment_id).status == 404
    call(
        "api_write_new_message",
        user_id=anna,
        body={"offer": {"id": "pl-offer-1001"}, "text": "Zdjęcie", "attachments": [{"id": attachment_id}]},
    )
    # After: both participants, nobody else, exactly like a missing attachment
    assert _download(shop, attachment_id).status == 302
    outsider = _download(users["jan_prywatny"], attachment_id)
    missing = _download(users["jan_prywatny"], "01JDQ60AB1CD2EF3GH4JK5MN6P")
    assert outsider.status == missing.status == 404
    assert outsider.json == missing.json


def test_someone_elses_upload_cannot_be_attached(users):
    attachment_id = _upload(users["anna_kowalska"], "photo.png", PNG)
    response = call(
        "api_write_new_message",
        user_id=users["petra_svobodova"],
        body={"offer": {"id": "pl-offer-1001"}, "text": "Cudzy plik", "attachments": [{"id": attachment_id}]},
    )
    assert response.status == 422
    assert response.json["code"] == "ATTACHMENT_NOT_FOUND"
    assert call("api_list_threads", user_id=users["petra_svobodova"]).json["threads"] == []


def test_an_attachment_belongs_to_one_message(users, question_thread):
    anna = users["anna_kowalska"]
    attachment_id = _upload(anna, "photo.png", PNG)
    first = call(
        "api_write_in_thread",
        user_id=anna,
        path={"threadId": question_thread},
        body={"text": "Zdjęcie", "attachments": [{"id": attachment_id}]},
    )
    assert first.status == 201
    again = call(
        "api_write_in_thread",
        user_id=anna,
        path={"threadId": question_thread},
        body={"text": "Jeszcze raz", "attachments": [{"id": attachment_id}]},
    )
    assert again.status == 422 and again.json["code"] == "ATTACHMENT_ALREADY_USED"
    twice = call(
        "api_write_in_thread",
        user_id=anna,
        path={"threadId": question_thread},
        body={"text": "Dwa razy", "attachments": [{"id": _upload(anna, "b.png", PNG)}] * 2},
    )
    assert twice.status == 422 and twice.json["code"] == "ATTACHMENT_DUPLICATE"


def test_an_expired_attachment_cannot_be_used(users, monkeypatch):
    anna = users["anna_kowalska"]
    attachment_id = _upload(anna, "photo.png", PNG)
    # When its time passes (DynamoDB's TTL deletion may lag; the record still exists)
    from functions.api.context import services

    attachments = services().attachments
    later = attachments._clock() + timedelta(hours=25)
    monkeypatch.setattr(attachments, "_clock", lambda: later)
    response = call(
        "api_write_new_message",
        user_id=anna,
        body={"offer": {"id": "pl-offer-1001"}, "text": "Stare", "attachments": [{"id": attachment_id}]},
    )
    assert response.status == 422
    assert response.json["code"] == "ATTACHMENT_EXPIRED"


def test_a_file_uploaded_with_the_presigned_post_is_checked_on_use(users):
    anna = users["anna_kowalska"]
    exe = refused_files()["invoice.pdf"]
    good = _declare(anna, "photo.png", len(PNG)).json
    bad = _declare(anna, "invoice.pdf", len(exe)).json
    s3 = boto3.client("s3", region_name=REGION)
    # Given both were uploaded straight to S3 through the presigned POST form
    for declared, content in ((good, PNG), (bad, exe)):
        fields = declared["upload"]["fields"]
        s3.put_object(Bucket=BUCKET, Key=fields["key"], Body=content, ContentType=fields["Content-Type"])
    # Then the executable is refused when used, and the PNG is accepted
    refused = call(
        "api_write_new_message",
        user_id=anna,
        body={"offer": {"id": "pl-offer-1001"}, "text": "Faktura", "attachments": [{"id": bad["id"]}]},
    )
    assert refused.status == 422 and refused.json["code"] == "ATTACHMENT_UNSAFE"
    accepted = call(
        "api_write_new_message",
        user_id=anna,
        body={"offer": {"id": "pl-offer-1001"}, "text": "Zdjęcie", "attachments": [{"id": good["id"]}]},
    )
    assert accepted.status == 201
    assert accepted.json["attachments"][0]["mimeType"] == "image/png"


def test_a_declared_but_not_uploaded_attachment_cannot_be_used(users):
    anna = users["anna_kowalska"]
    declared = _declare(anna, "photo.png", len(PNG)).json
    response = call(
        "api_write_new_message",
        user_id=anna,
        body={"offer": {"id": "pl-offer-1001"}, "text": "Zdjęcie", "attachments": [{"id": declared["id"]}]},
    )
    assert response.status == 409
    assert response.json["code"] == "ATTACHMENT_NOT_UPLOADED"


def _cold_start(aws) -> None:
    """The API function's next request builds new clients (which see the answers set up now)."""
    from functions.api.handler import container

    container.install(aws.api)


def test_a_missing_upload_denied_by_s3_is_not_uploaded_rather_than_a_server_error(users, aws, caplog):
    # Given a declared attachment that was never uploaded, and S3 answering like it does to a
    # function that may not list the bucket: 403 AccessDenied for the missing key, not 404
    anna = users["anna_kowalska"]
    declared = _declare(anna, "photo.png", len(PNG)).json
    with answering("s3.GetObject", 403, "AccessDenied", "Access Denied") as s3:
        _cold_start(aws)
        # When she sends it, and when she asks for its download link
        sent = call(
            "api_write_new_message",
            user_id=anna,
            body={"offer": {"id": "pl-offer-1001"}, "text": "Zdjęcie", "attachments": [{"id": declared["id"]}]},
        )
        download = _download(anna, declared["id"])
    # Then both get the documented 409, not a 500, and the denial is logged for operators
    assert s3.calls == 2
    assert sent.status == 409 and sent.json["code"] == "ATTACHMENT_NOT_UPLOADED", sent.raw_body
    assert download.status == 409 and download.json["code"] == "ATTACHMENT_NOT_UPLOADED"
    warnings = [r for r in caplog.records if r.levelname == "WARNING" and "taken as not uploaded" in r.getMessage()]
    assert len(warnings) == 2 and warnings[0].error_code == "AccessDenied"


def test_an_upload_version_denied_by_s3_on_copy_is_expired_rather_than_a_server_error(users, aws):
    # Given a checked upload whose version is gone by the time it is used (the lifecycle rule
    # expired it), S3 answering the copy with 403 AccessDenied as it does without ListBucket
    anna = users["anna_kowalska"]
    attachment_id = _upload(anna, "photo.png", PNG)
    with answering("s3.CopyObject", 403, "AccessDenied", "Access Denied"):
        _cold_start(aws)
        # When she sends it
        sent = call(
            "api_write_new_message",
            user_id=anna,
            body={"offer": {"id": "pl-offer-1001"}, "text": "Zdjęcie", "attachments": [{"id": attachment_id}]},
        )
    # Then she is told to upload it again (422), and nothing was stored
    assert sent.status == 422 and sent.json["code"] == "ATTACHMENT_EXPIRED", sent.raw_body
    assert _versions("attachments/") == ([], [])


def test_used_attachments_leave_the_expiring_upload_prefix(users):
    anna = users["anna_kowalska"]
    attachment_id = _upload(anna, "photo.png", PNG)
    call(
        "api_write_new_message",
        user_id=anna,
        body={"offer": {"id": "pl-offer-1001"}, "text": "Zdjęcie", "attachments": [{"id": attachment_id}]},
    )
    stored = boto3.client("s3", region_name=REGION).get_object(Bucket=BUCKET, Key=f"attachments/{attachment_id}")
    assert stored["Body"].read() == PNG
    assert stored["ContentType"] == "image/png"


def test_hostile_file_names_are_sanitised(users):
    anna = users["anna_kowalska"]
    declared = _declare(anna, 'C:\\Users\\x\\..\\evil"\r\nX-Injected: 1;.png', len(PNG)).json
    _put(anna, declared["id"], PNG)
    location = _download(anna, declared["id"]).headers["location"]
    disposition = parse_qs(urlparse(location).query)["response-content-disposition"][0]
    assert "\r" not in disposition and "\n" not in disposition
    assert disposition.startswith("attachment; filename=\"evil_X-Injected_ 1_.png\"; filename*=UTF-8''evil_X-Injected_")


# --- the bytes a recipient gets are the bytes that were checked ---------------------------------


def test_an_upload_replaced_after_its_check_never_reaches_the_recipient(users):
    # Given anna uploaded a PNG through the API, where it was checked and found safe
    anna, shop = users["anna_kowalska"], users["rowery-kraków"]
    declared = _declare(anna, "zdjęcie.png", len(PNG)).json
    assert _put(anna, declared["id"], PNG).status == 200
    # And then she used the presigned form, still valid, to put an executable in its place
    exe = refused_files()["invoice.pdf"]
    _post_form(declared, "zdjęcie.png", exe)
    assert (
        boto3.client("s3", region_name=REGION).get_object(Bucket=BUCKET, Key=f"uploads/{declared['id']}")["Body"].read()
        == exe
    )

    # When she sends the attachment and the seller downloads it
    sent = call(
        "api_write_new_message",
        user_id=anna,
        body={"offer": {"id": "pl-offer-1001"}, "text": "Zdjęcie", "attachments": [{"id": declared["id"]}]},
    )
    assert sent.status == 201, sent.raw_body
    downloaded = _fetch(_download(shop, declared["id"]).headers["location"])

    # Then the seller gets exactly the PNG that was checked, never the executable
    assert downloaded == PNG
    stored = boto3.client("s3", region_name=REGION).get_object(Bucket=BUCKET, Key=f"attachments/{declared['id']}")
    assert stored["Body"].read() == PNG
    assert stored["ContentType"] == "image/png"


def test_a_presigned_upload_replaced_after_its_check_never_reaches_the_recipient(users):
    # Given anna uploaded a PNG with the presigned form, and it was checked when she looked at it
    anna, shop = users["anna_kowalska"], users["rowery-kraków"]
    declared = _declare(anna, "zdjęcie.png", len(PNG)).json
    _post_form(declared, "zdjęcie.png", PNG)
    assert _fetch(_download(anna, declared["id"]).headers["location"]) == PNG
    # And then she posted the form again with an executable of the same size
    exe = refused_files()["invoice.pdf"][: len(PNG)]
    _post_form(declared, "zdjęcie.png", exe)

    # When she sends it
    sent = call(
        "api_write_new_message",
        user_id=anna,
        body={"offer": {"id": "pl-offer-1001"}, "text": "Zdjęcie", "attachments": [{"id": declared["id"]}]},
    )

    # Then the message carries the checked PNG: the seller downloads it, and so does anna
    assert sent.status == 201, sent.raw_body
    assert sent.json["attachments"][0]["mimeType"] == "image/png"
    assert _fetch(_download(shop, declared["id"]).headers["location"]) == PNG
    assert _fetch(_download(anna, declared["id"]).headers["location"]) == PNG


def test_before_it_is_sent_the_uploader_downloads_the_checked_bytes(users):
    # Given a checked PNG whose upload was then replaced through the form
    anna = users["anna_kowalska"]
    declared = _declare(anna, "zdjęcie.png", len(PNG)).json
    assert _put(anna, declared["id"], PNG).status == 200
    _post_form(declared, "zdjęcie.png", refused_files()["invoice.pdf"])

    # When anna downloads her attachment before sending it
    downloaded = _fetch(_download(anna, declared["id"]).headers["location"])

    # Then she sees what was checked, which is what a message would carry
    assert downloaded == PNG


# --- a refused send writes nothing ----------------------------------------------------------------


def test_a_send_refused_by_its_transaction_leaves_no_stored_copy(users, monkeypatch):
    # Given anna's checked PNG, whose record is about to expire while she sends it: it is still
    # valid when checked, but no longer when the message's transaction runs
    anna = users["anna_kowalska"]
    attachment_id = _upload(anna, "photo.png", PNG)
    before = _attachment_item(attachment_id)
    from functions.api.context import services

    messaging = services().messaging
    later = messaging._clock() + timedelta(hours=25)
    monkeypatch.setattr(messaging, "_clock", lambda: later)

    # When she sends it (every attempt's transaction is refused)
    response = call(
        "api_write_new_message",
        user_id=anna,
        body={"offer": {"id": "pl-offer-1001"}, "text": "Zdjęcie", "attachments": [{"id": attachment_id}]},
    )

    # Then the send is refused, and it wrote nothing: no message, no stored copy (not even a
    # delete marker), the attachment's record as it was
    assert response.status == 409, response.raw_body
    assert response.json["code"] == "BUSY"
    assert call("api_list_threads", user_id=anna).json["threads"] == []
    assert _versions("attachments/") == ([], [])
    assert _attachment_item(attachment_id) == before


def test_a_send_that_loses_the_race_for_an_attachment_keeps_the_winners_file(users, question_thread, monkeypatch):
    # Given anna's checked PNG, and two sends of it racing: the second one's copy is made, then
    # the first one is stored before the second one's transaction runs
    anna, shop = users["anna_kowalska"], users["rowery-kraków"]
    attachment_id = _upload(anna, "photo.png", PNG)
    from message_center.domain.sending import SendMessage

    from functions.api.context import services

    attachments = services().attachments
    files = attachments._files
    promote = files.promote
    raced = []

    def promote_then_lose_the_race(*args, **kwargs):
        version = promote(*args, **kwargs)
        if not raced:  # the second send's copy is made: now the first send runs, start to end
            raced.append(None)
            first = SendMessage(
                author_id=anna, text="Pierwsze", thread_id=question_thread, attachment_ids=(attachment_id,)
            )
            raced.append(services().messaging.send(first))
        return version

    monkeypatch.setattr(files, "promote", promote_then_lose_the_race)

    # When the second send goes on
    second = call(
        "api_write_in_thread",
        user_id=anna,
        path={"threadId": question_thread},
        body={"text": "Drugie", "attachments": [{"id": attachment_id}]},
    )

    # Then it is refused, and the first message's file is still there, exactly once
    assert second.status == 422
    assert second.json["code"] == "ATTACHMENT_ALREADY_USED"
    first = raced[1].message
    assert [a.id for a in first.attachments] == [attachment_id]
    assert _fetch(_download(shop, attachment_id).headers["location"]) == PNG
    versions, markers = _versions(f"attachments/{attachment_id}")
    assert len(versions) == 1
    assert markers == []
