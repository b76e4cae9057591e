"""AttachmentService on in-memory fakes: declaring, uploading (through the API or a presigned
POST), the content check, using an attachment in one message, and who may download it."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import unquote

import pytest
from message_center.adapters.attachment_files import stored_key, upload_key
from message_center.domain.attachments import Attachment, AttachmentStatus
from message_center.domain.errors import (
    ConflictError,
    MessageCenterError,
    NotFoundError,
    UnsupportedMediaTypeError,
    ValidationError,
)
from message_center.domain.ids import new_id
from message_center.domain.sending import SendMessage

from tests.support.files import allowed_files, refused_files, truncated
from tests.unit.fakes import ATTACHMENT_MAX_BYTES, ATTACHMENT_TTL, FakeWorld
from tests.unit.marketplace import ANNA, BIKE, JAN, SHOP, populated_world

PNG, _ = allowed_files()["photo.png"]
PDF, _ = allowed_files()["invoice.pdf"]


@pytest.fixture
def world() -> FakeWorld:
    return populated_world()


def uploaded(world: FakeWorld, name: str = "zdjęcie.png", content: bytes = PNG, owner_id: str = ANNA.id) -> Attachment:
    """Declared and uploaded through the API."""
    declared = world.attachments.declare(owner_id, name, len(content))
    return world.attachments.upload(owner_id, declared.attachment.id, content, "image/png")


def code_of(action) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(MessageCenterError) as refused:
        action()
    return refused.value.code


# -- declaring -------------------------------------------------------------------------------


def test_a_declaration_is_recorded_with_its_safe_name_and_an_upload_form(world):
    # When anna declares a PNG with a path and odd characters in its name
    declared = world.attachments.declare(ANNA.id, 'C:\\Users\\anna\\zdjęcie "roweru".png', 2048)
    attachment = declared.attachment
    # Then it is NEW, hers, named without the path, and expires after the TTL
    assert (attachment.owner_id, attachment.file_name, attachment.size) == (ANNA.id, "zdjęcie _roweru_.png", 2048)
    assert attachment.status is AttachmentStatus.NEW
    assert attachment.expires_at == attachment.created_at + ATTACHMENT_TTL
    assert world.attachment_records.get(attachment.id) == attachment
    # And the form uploads exactly to its upload key, as the type its name declares
    assert declared.upload.fields == {"key": upload_key(attachment.id), "Content-Type": "image/png"}


@pytest.mark.parametrize(
    ("name", "size", "code"),
    [
        ("program.exe", 100, "ATTACHMENT_TYPE_NOT_ALLOWED"),
        ("dokument.docx", 100, "ATTACHMENT_TYPE_NOT_ALLOWED"),
        ("zdjęcie.png", 0, "ATTACHMENT_EMPTY"),
        ("zdjęcie.png", ATTACHMENT_MAX_BYTES + 1, "ATTACHMENT_TOO_LARGE"),
        ("/tmp/../", 100, "FILE_NAME_INVALID"),
    ],
)
def test_a_declaration_is_refused_by_name_and_size_up_front(world, name, size, code):
    assert code_of(lambda: world.attachments.declare(ANNA.id, name, size)) == code
    assert world.table.attachments == {}


# -- uploading through the API ---------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["image/png", "Image/PNG; charset=binary"])
def test_an_uploaded_png_is_safe_and_stored_as_it_came(world, content_type):
    declared = world.attachments.declare(ANNA.id, "zdjęcie.png", len(PNG)).attachment
    # When anna uploads the bytes
    attachment = world.attachments.upload(ANNA.id, declared.id, PNG, content_type)
    # Then it is SAFE as a PNG, and the bucket holds exactly those bytes, to be saved under its name
    assert (attachment.status, attachment.mime_type) == (AttachmentStatus.SAFE, "image/png")
    stored = world.files.objects[upload_key(declared.id)]
    assert (stored.content, stored.content_type) == (PNG, "image/png")
    assert stored.content_disposition.startswith('attachment; filename="zdj_cie.png"')


def test_the_content_decides_the_type_not_the_name(world):
    # Given a declared .png that really is a PDF
    declared = world.attachments.declare(ANNA.id, "skan.png", len(PDF)).attachment
    # When it is uploaded
    attachment = world.attachments.upload(ANNA.id, declared.id, PDF, "image/png")
    # Then it is kept as what it is
    assert (attachment.status, attachment.mime_type) == (AttachmentStatus.SAFE, "application/pdf")


@pytest.mark.parametrize("name", sorted(refused_files()))
def test_content_that_is_not_an_allowed_format_is_refused_and_not_stored(world, name):
    content = refused_files()[name]
    declared = world.attachments.declare(ANNA.id, name, len(content)).attachment
    # When the disguised file is uploaded
    assert code_of(lambda: world.attachments.upload(ANNA.id, declared.id, content, "image/png")) == "ATTACHMENT_UNSAFE"
    # Then the record says UNSAFE with the reason, and no byte reached the bucket
    refused = world.attachment_records.get(declared.id)
    assert refused.status is AttachmentStatus.UNSAFE and refused.refusal
    assert world.files.objects == {}


def test_a_truncated_image_is_refused(world):
    content = truncated(PNG)
    declared = world.attachments.declare(ANNA.id, "zdjęcie.png", len(content)).attachment
    assert code_of(lambda: world.attachments.upload(ANNA.id, declared.id, content, "image/png")) == "ATTACHMENT_UNSAFE"
    assert world.attachment_records.get(declared.id).refusal == "The image file is incomplete or damaged."


def test_upload_rules(world):
    declared = world.attachments.declare(ANNA.id, "zdjęcie.png", len(PNG)).attachment

    def upload(content: bytes = PNG, content_type: str = "image/png", owner_id: str = ANNA.id) -> Attachment:
        return world.attachments.upload(owner_id, declared.id, content, content_type)

    # A type outside the allowed ones, another size than declared, someone else's attachment
    with pytest.raises(UnsupportedMediaTypeError):
        upload(content_type="application/x-msdownload")
    assert code_of(lambda: upload(content=PNG + b"\0")) == "ATTACHMENT_SIZE_MISMATCH"
    with pytest.raises(NotFoundError):
        upload(owner_id=JAN.id)
    assert code_of(lambda: world.attachments.upload(ANNA.id, "not-an-id", PNG, "image/png")) == "ATTACHMENT_NOT_FOUND"
    # ... leave the declaration NEW, so the right upload still works once
    assert world.attachment_records.get(declared.id).status is AttachmentStatus.NEW
    upload()
    with pytest.raises(ConflictError) as again:
        upload()
    assert again.value.code == "ATTACHMENT_ALREADY_UPLOADED"


def test_an_upload_after_the_declaration_expired_is_refused(world):
    declared = world.attachments.declare(ANNA.id, "zdjęcie.png", len(PNG)).attachment
    world.clock.advance(ATTACHMENT_TTL)
    assert code_of(lambda: world.attachments.upload(ANNA.id, declared.id, PNG, "image/png")) == "ATTACHMENT_EXPIRED"


# -- uploading with a presigned POST (checked when first used) -------------------------------


def test_a_presigned_upload_is_checked_when_first_used(world):
    # Given anna's browser posted the PNG straight to the bucket
    declared = world.attachments.declare(ANNA.id, "zdjęcie.png", len(PNG))
    world.files.post(declared.upload, PNG)
    assert world.attachment_records.get(declared.attachment.id).status is AttachmentStatus.NEW
    # When a message is about to carry it
    [prepared] = world.attachments.prepare_for_message(ANNA.id, (declared.attachment.id,)).attachments
    # Then the content check ran: SAFE as a PNG, and the file moved to the stored prefix unchanged
    assert world.attachment_records.get(declared.attachment.id).status is AttachmentStatus.SAFE
    assert (prepared.file_name, prepared.mime_type) == ("zdjęcie.png", "image/png")
    assert world.files.objects[stored_key(declared.attachment.id)].content == PNG


def test_an_upload_replaced_after_its_check_is_copied_as_it_was_checked(world):
    # Given anna's PNG was checked when she uploaded it, then replaced through the still valid form
    declared = world.attachments.declare(ANNA.id, "zdjęcie.png", len(PNG))
    world.attachments.upload(ANNA.id, declared.attachment.id, PNG, "image/png")
    exe = refused_files()["archive.png"][: len(PNG)].ljust(len(PNG), b"\0")
    world.files.post(declared.upload, exe)
    assert world.files.objects[upload_key(declared.attachment.id)].content == exe
    # When a message is about to carry it
    world.attachments.prepare_for_message(ANNA.id, (declared.attachment.id,))
    # Then the stored file is the PNG that was checked, and so is what anna downloads before sending
    assert world.files.objects[stored_key(declared.attachment.id)].content == PNG
    assert world.files.fetch(world.attachments.download_url(ANNA.id, declared.attachment.id)) == PNG


def test_releasing_a_refused_attempt_removes_only_its_own_copy(world):
    # Given two attempts to send the same checked PNG each made their copy
    photo = uploaded(world)
    first = world.attachments.prepare_for_message(ANNA.id, (photo.id,))
    second = world.attachments.prepare_for_message(ANNA.id, (photo.id,))
    assert len(world.files.versions[stored_key(photo.id)]) == 2
    # When the second attempt's transaction is refused and its copies released
    world.attachments.release(second)
    # Then the first attempt's copy is still there, unchanged; releasing it too leaves nothing
    [(version, stored)] = world.files.versions[stored_key(photo.id)].items()
    assert (version, stored.content) == (first.copies[0].version, PNG)
    world.attachments.release(first)
    assert stored_key(photo.id) not in world.files.objects


def test_a_copy_failing_midway_removes_the_copies_made_before_it(world):
    # Given two checked files, the second of which cannot be copied (its checked version is gone)
    photo, invoice = uploaded(world), uploaded(world, "faktura.pdf", PDF)
    world.files.versions.pop(upload_key(invoice.id))
    # When a message is about to carry both
    code = code_of(lambda: world.attachments.prepare_for_message(ANNA.id, (photo.id, invoice.id)))
    # Then it is refused and the first file's copy was removed again
    assert code == "ATTACHMENT_EXPIRED"
    assert world.files.objects.keys() == {upload_key(photo.id)}


def test_a_presigned_upload_of_a_refused_file_is_refused_when_used(world):
    content = refused_files()["archive.png"]
    declared = world.attachments.declare(ANNA.id, "archive.png", len(content))
    world.files.post(declared.upload, content)
    code = code_of(lambda: world.attachments.prepare_for_message(ANNA.id, (declared.attachment.id,)))
    assert code == "ATTACHMENT_UNSAFE"
    assert world.attachment_records.get(declared.attachment.id).status is AttachmentStatus.UNSAFE
    assert stored_key(declared.attachment.id) not in world.files.objects


def test_a_declared_file_never_uploaded_cannot_be_used(world):
    declared = world.attachments.declare(ANNA.id, "zdjęcie.png", len(PNG)).attachment
    code = code_of(lambda: world.attachments.prepare_for_message(ANNA.id, (declared.id,)))
    assert code == "ATTACHMENT_NOT_UPLOADED"
    assert world.attachment_records.get(declared.id).status is AttachmentStatus.NEW


# -- using attachments in a message ----------------------------------------------------------


def test_a_message_binds_its_attachments_to_the_pair(world):
    photo, invoice = uploaded(world), uploaded(world, "faktura.pdf", PDF)
    # When anna asks her question with both files
    message = world.messaging.send(
        SendMessage(
            author_id=ANNA.id, text="Zdjęcia w załączniku", offer_id=BIKE.id, attachment_ids=(photo.id, invoice.id)
        )
    ).message
    # Then the message lists them, and both are bound to it and to the pair, no longer expiring
    assert [(a.id, a.file_name, a.mime_type) for a in message.attachments] == [
        (photo.id, "zdjęcie.png", "image/png"),
        (invoice.id, "faktura.pdf", "application/pdf"),
    ]
    for attachment in (photo, invoice):
        used = world.attachment_records.get(attachment.id)
        assert (used.message_id, used.participants, used.expires_at) == (
            message.id,
            tuple(sorted((ANNA.id, SHOP.id))),
            None,
        )
    # And the shop's copy lists them too
    assert world.messaging.get_message(SHOP.id, message.id).attachments == message.attachments


def test_an_attachment_is_used_by_one_message_only(world):
    photo = uploaded(world)
    world.messaging.send(SendMessage(author_id=ANNA.id, text="1", offer_id=BIKE.id, attachment_ids=(photo.id,)))
    code = code_of(
        lambda: world.messaging.send(
            SendMessage(author_id=ANNA.id, text="2", offer_id=BIKE.id, attachment_ids=(photo.id,))
        )
    )
    assert code == "ATTACHMENT_ALREADY_USED"
    assert len(world.threads.refs) == 1


def test_an_attachment_taken_by_a_concurrent_message_fails_the_send_whole(world):
    photo = uploaded(world)

    def another_message_takes_it() -> None:
        world.messaging.send(SendMessage(author_id=ANNA.id, text="1", offer_id=BIKE.id, attachment_ids=(photo.id,)))

    # Given another message of anna's takes the photo between the check and this message's write
    world.threads.before_next_write(another_message_takes_it)
    # When this message is written, it is refused on the re-check after the lost race
    code = code_of(
        lambda: world.messaging.send(
            SendMessage(author_id=ANNA.id, text="2", offer_id=BIKE.id, attachment_ids=(photo.id,))
        )
    )
    assert code == "ATTACHMENT_ALREADY_USED"
    # And only the first message exists
    [ref] = world.threads.refs
    assert world.attachment_records.get(photo.id).message_id == ref


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        (lambda w: (uploaded(w, owner_id=JAN.id).id,), "ATTACHMENT_NOT_FOUND"),  # someone else's
        (lambda w: (new_id(),), "ATTACHMENT_NOT_FOUND"),
        (lambda w: ("../secret",), "ATTACHMENT_NOT_FOUND"),
        (lambda w: (uploaded(w).id,) * 2, "ATTACHMENT_DUPLICATE"),
        (lambda w: tuple(new_id() for _ in range(11)), "TOO_MANY_ATTACHMENTS"),
    ],
)
def test_a_message_cannot_carry_attachments_that_are_not_the_authors_to_use(world, setup, code):
    attachment_ids = setup(world)
    assert code_of(lambda: world.attachments.prepare_for_message(ANNA.id, attachment_ids)) == code


def test_an_expired_attachment_cannot_be_used(world):
    photo = uploaded(world)
    world.clock.advance(ATTACHMENT_TTL + timedelta(seconds=1))
    assert code_of(lambda: world.attachments.prepare_for_message(ANNA.id, (photo.id,))) == "ATTACHMENT_EXPIRED"


def test_a_refused_upload_cannot_be_used(world):
    content = refused_files()["page.gif"]
    declared = world.attachments.declare(ANNA.id, "page.gif", len(content)).attachment
    with pytest.raises(ValidationError):
        world.attachments.upload(ANNA.id, declared.id, content, "image/gif")
    assert code_of(lambda: world.attachments.prepare_for_message(ANNA.id, (declared.id,))) == "ATTACHMENT_UNSAFE"


def test_a_file_from_an_email_is_kept_ready_for_one_message(world):
    attachment = world.attachments.store_received(SHOP.id, "faktura.pdf", PDF)
    assert (attachment.owner_id, attachment.status, attachment.mime_type) == (
        SHOP.id,
        AttachmentStatus.SAFE,
        "application/pdf",
    )
    assert [a.id for a in world.attachments.prepare_for_message(SHOP.id, (attachment.id,)).attachments] == [
        attachment.id
    ]
    with pytest.raises(ValidationError) as refused:
        world.attachments.store_received(SHOP.id, "faktura.pdf", refused_files()["invoice.pdf"])
    assert refused.value.code == "ATTACHMENT_UNSAFE"


# -- downloading -----------------------------------------------------------------------------


def download(world: FakeWorld, caller_id: str, attachment_id: str) -> tuple[str, str, str]:
    """The key, type and disposition a download URL serves."""
    url = world.attachments.download_url(caller_id, attachment_id)
    path, _, query = url.removeprefix(world.files.BUCKET_URL + "/").partition("?")
    params = dict(part.split("=", 1) for part in query.split("&"))
    return path, unquote(params["response-content-type"]), unquote(params["response-content-disposition"])


def test_before_use_only_the_uploader_downloads_the_upload(world):
    photo = uploaded(world)
    assert download(world, ANNA.id, photo.id)[:2] == (upload_key(photo.id), "image/png")
    for caller in (SHOP.id, JAN.id):
        assert code_of(lambda caller=caller: world.attachments.download_url(caller, photo.id)) == "ATTACHMENT_NOT_FOUND"


def test_after_use_both_participants_download_the_stored_file_and_nobody_else(world):
    photo = uploaded(world)
    world.messaging.send(SendMessage(author_id=ANNA.id, text="Zdjęcie", offer_id=BIKE.id, attachment_ids=(photo.id,)))
    for caller in (ANNA.id, SHOP.id):
        key, mime_type, disposition = download(world, caller, photo.id)
        assert (key, mime_type) == (stored_key(photo.id), "image/png")
        assert disposition.endswith("filename*=UTF-8''zdj%C4%99cie.png")
        assert world.files.objects[key].content == PNG
    assert code_of(lambda: world.attachments.download_url(JAN.id, photo.id)) == "ATTACHMENT_NOT_FOUND"


@pytest.mark.parametrize("attachment_id", ["not-an-id", "01JNB3K5QY8N2W4X6Z0A1B2C3F"])
def test_an_unknown_attachment_is_not_found(world, attachment_id):
    assert code_of(lambda: world.attachments.download_url(ANNA.id, attachment_id)) == "ATTACHMENT_NOT_FOUND"


def test_downloading_a_presigned_upload_checks_it_first(world):
    content = refused_files()["vector.png"]
    declared = world.attachments.declare(ANNA.id, "vector.png", len(content))
    world.files.post(declared.upload, content)
    assert code_of(lambda: world.attachments.download_url(ANNA.id, declared.attachment.id)) == "ATTACHMENT_UNSAFE"
    assert world.attachment_records.get(declared.attachment.id).status is AttachmentStatus.UNSAFE
