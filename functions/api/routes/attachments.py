"""/messaging/message-attachments: declare, upload and download message attachments."""

from __future__ import annotations

import base64
from typing import Annotated, cast

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from message_center.api.schemas import AttachmentDeclared, IdOut, NewAttachmentDeclaration, UploadFormOut

from ..context import caller_id, respond, services

router = Router()

AttachmentId = Annotated[str, Path(max_length=64, description="Attachment id")]


@router.post("/messaging/message-attachments", summary="Declare an attachment (file name and size)")
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
)
def download(attachmentId: AttachmentId) -> Response[None]:
    url = services().attachments.download_url(caller_id(router), attachmentId)
    return Response(status_code=302, headers={"Location": url, "Cache-Control": "no-store"})
