"""/messaging/messages: start a conversation, read and delete single messages."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from message_center.api.schemas import MessageOut, NewMessage, TranslationOut
from message_center.domain.sending import SendMessage

from ..context import REPLAYED_HEADER_DOC, attachments_url, caller_id, count_sent, replayed_header, respond, services
from ..problems import BODY, documented
from .threads import IdempotencyKey

router = Router()

MessageId = Annotated[str, Path(max_length=64, description="Message id")]


@router.post(
    "/messaging/messages",
    summary="Write a new message: ask a question, ask about a purchase, or write to a buyer",
    responses=documented(
        {201: "The stored message"},
        HTTPStatus.FORBIDDEN,
        HTTPStatus.NOT_FOUND,
        HTTPStatus.CONFLICT,
        *BODY,
        model=MessageOut,
        headers=REPLAYED_HEADER_DOC,
    ),
)
def write_new_message(
    body: Annotated[NewMessage, Body()], idempotency_key: IdempotencyKey = None
) -> Response[MessageOut]:
    command = SendMessage(
        author_id=caller_id(router),
        text=body.text,
        offer_id=body.offer.id if body.offer else None,
        order_id=body.order.id if body.order else None,
        recipient_login=body.recipient.login if body.recipient else None,
        attachment_ids=tuple(a.id for a in body.attachments),
        idempotency_key=idempotency_key,
    )
    result = services().messaging.send(command)
    count_sent(result.message, result.replayed)
    return respond(
        MessageOut.from_message(result.message, attachments_url(router)),
        status_code=201,
        headers=replayed_header(result.replayed),
    )


@router.get(
    "/messaging/messages/<messageId>",
    summary="Get one message",
    responses=documented({200: "The message"}, HTTPStatus.NOT_FOUND, model=MessageOut),
)
def get_message(messageId: MessageId) -> Response[MessageOut]:
    return respond(
        MessageOut.from_message(services().messaging.get_message(caller_id(router), messageId), attachments_url(router))
    )


@router.delete(
    "/messaging/messages/<messageId>",
    summary="Delete a message for me (the interlocutor still sees it)",
    responses=documented({204: "Deleted from my view of the thread"}, HTTPStatus.NOT_FOUND),
)
def delete_message(messageId: MessageId) -> Response[None]:
    services().messaging.delete_message(caller_id(router), messageId)
    return Response(status_code=204)


@router.get(
    "/messaging/messages/<messageId>/translations/<language>",
    summary="Translate a message into Polish, English or Ukrainian",
    description="Machine translation of the text (never of attachments); the original is unchanged. "
    "Each message is translated into a language once: repeating the request costs nothing.",
    responses=documented(
        {200: "The translation"},
        HTTPStatus.NOT_FOUND,
        HTTPStatus.TOO_MANY_REQUESTS,
        HTTPStatus.SERVICE_UNAVAILABLE,
        model=TranslationOut,
    ),
)
def translate_message(
    messageId: MessageId,
    language: Annotated[str, Path(max_length=8, description="pl, en or uk")],
) -> Response[TranslationOut]:
    translation = services().translation
    # Give up (503) before the function's own timeout would cut the request off.
    translation.deadline.start(router.lambda_context.get_remaining_time_in_millis())
    result = translation.translate(caller_id(router), messageId, language.lower())
    return respond(
        TranslationOut(
            text=result.text,
            source_language=result.source_language,
            target_language=result.target_language,
            provider=result.provider,
            machine_translated=result.machine_translated,
        )
    )
