"""/messaging/message-attachments: declare, upload and download message attachments."""

from __future__ import annotations

import base64
from http import HTTPStatus
from typing import Annotated, cast

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from message_center.api.schemas import AttachmentDeclared, IdOut, NewAttachmentDeclaration, UploadFormOut
from message_center.domain.attachments import ALLOWED_FORMATS

from ..context import caller_id, respond, services
from ..problems import BODY, documented

router = Router()

AttachmentId = Annotated[str, Path(max_length=64, description="Attachment id")]
# The upload's body is the file itself, not a model: declared here, read from the event by the route.
_FILE_BODY = {
    "requestBody": {
        "required": True,
        "content": {f.mime_type: {"schema": {"type": "string", "format": "binary"}} for f in ALLOWED_FORMATS},
    }
}


@router.post(
    "/messaging/message-attachments",
    summary="Declare an attachment (file name and size)",
    responses=documented({201: "The declared attachment and where to upload it"}, *BODY, model=AttachmentDeclared),
)
def declare(body: Annotated[NewAttachmentDeclaration, Body()]) -> Response[AttachmentDeclared]:
    declared = services().attachments.declare(caller_id(router), body.filename, body.size)
    return respond(
        AttachmentDeclared(
            id=declared.attachment.id,
            expires_at=declared.attachment.expires_at,
            upload=UploadFormOut(url=declared.upload.url, fields=declared.upload.fields),
        ),
        status_code=201,
    )


@router.put(
    "/messaging/message-attachments/<attachmentId>",
    summary="Upload a declared attachment's bytes (PDF, GIF, BMP, TIFF, JPEG, PNG)",
    description="The body is the file itself with its Content-Type; the type is decided by the content.",
    responses=documented(
        {200: "The file was checked and kept"},
        HTTPStatus.NOT_FOUND,
        HTTPStatus.CONFLICT,
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        *BODY,
        model=IdOut,
    ),
    openapi_extensions=_FILE_BODY,
)
def upload(attachmentId: AttachmentId) -> Response[IdOut]:
    event = cast(APIGatewayProxyEventV2, router.current_event)
    raw = event.body or ""
    content = base64.b64decode(raw) if event.is_base64_encoded else raw.encode("utf-8")
    attachment = services().attachments.upload(
        caller_id(router), attachmentId, content, event.headers.get("content-type")
    )
    return respond(IdOut(id=attachment.id))


@router.get(
    "/messaging/message-attachments/<attachmentId>",
    summary="Download an attachment",
    description="Answers 302 with a short-lived URL of the file, saved under its original name.",
    responses=documented(
        {302: "The file is at `Location` for a short while"},
        HTTPStatus.NOT_FOUND,
        HTTPStatus.CONFLICT,
        headers={"Location": {"description": "A short-lived URL of the file", "schema": {"type": "string"}}},
    ),
)
def download(attachmentId: AttachmentId) -> Response[None]:
    url = services().attachments.download_url(caller_id(router), attachmentId)
    return Response(status_code=302, headers={"Location": url, "Cache-Control": "no-store"})
