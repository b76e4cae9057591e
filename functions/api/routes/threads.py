"""/messaging/threads: the inbox, one thread, its read flag, its messages."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from message_center.api.contract import IDEMPOTENCY_HEADER
from message_center.api.schemas import (
    MessageOut,
    MessagesList,
    NewMessageInThread,
    PageOffset,
    PageSize,
    QueryBoolean,
    QueryDateTime,
    ThreadOut,
    ThreadReadFlag,
    ThreadsList,
)
from message_center.domain.errors import ValidationError
from message_center.domain.models import InboxEntry
from message_center.domain.sending import SendMessage
from message_center.services.messaging import InboxQuery, MessageQuery

from ..context import REPLAYED_HEADER_DOC, attachments_url, caller_id, count_sent, replayed_header, respond, services
from ..problems import BODY, documented

router = Router()

ThreadId = Annotated[str, Path(max_length=64, description="Thread id")]
Limit = Annotated[PageSize, Query(description="Page size (1–20)")]
Offset = Annotated[PageOffset, Query(description="Items to skip; for deeper pages use `before`")]
DATE_TIME_FORMAT = " (RFC 3339 with a time zone, 1970–9999)"
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=IDEMPOTENCY_HEADER.lower(),
        min_length=1,
        max_length=128,
        pattern=r"^[\x21-\x7e]+$",
        description="Client-chosen key: repeating a request with the same key stores one message.",
    ),
]


def _thread(entry: InboxEntry) -> ThreadOut:
    return ThreadOut.from_entry(entry, str(services().settings.default_avatar_url))


@router.get(
    "/messaging/threads",
    summary="List my threads, newest activity first",
    responses=documented({200: "A page of my threads"}, model=ThreadsList),
)
def list_threads(
    limit: Limit = 20,
    offset: Offset = 0,
    before: Annotated[
        QueryDateTime | None,
        Query(description="Extension: only threads whose last message is older (exclusive)" + DATE_TIME_FORMAT),
    ] = None,
    interlocutor_login: Annotated[
        str | None,
        Query(alias="interlocutor.login", max_length=64, description="Extension: the counterpart's full login"),
    ] = None,
    unread: Annotated[QueryBoolean, Query(description="Extension: only unread threads (true or false)")] = False,
    without_my_reply: Annotated[
        QueryBoolean,
        Query(
            alias="withoutMyReply",
            description="Extension: only threads whose last message is the interlocutor's (true or false)",
        ),
    ] = False,
) -> Response[ThreadsList]:
    if before is not None and offset:
        raise ValidationError("'before' cannot be combined with 'offset'.", code="BEFORE_WITH_OFFSET")
    page = services().messaging.list_threads(
        caller_id(router),
        InboxQuery(
            interlocutor_login=interlocutor_login,
            unread_only=unread,
            awaiting_reply_only=without_my_reply,
            before=before,
            offset=offset,
            limit=limit,
        ),
    )
    return respond(ThreadsList(threads=[_thread(e) for e in page.entries], offset=page.offset, limit=page.limit))


@router.get(
    "/messaging/threads/<threadId>",
    summary="Get one of my threads",
    responses=documented({200: "The thread"}, HTTPStatus.NOT_FOUND, model=ThreadOut),
)
def get_thread(threadId: ThreadId) -> Response[ThreadOut]:
    caller = caller_id(router)
    messaging = services().messaging
    entry = messaging.get_thread(caller, threadId)
    return respond(
        ThreadOut.from_entry(
            entry,
            str(services().settings.default_avatar_url),
            interlocutor_last_read_at=messaging.interlocutor_last_read_at(caller, entry),
        )
    )


@router.put(
    "/messaging/threads/<threadId>/read",
    summary="Mark a thread read or unread",
    responses=documented(
        {200: "The thread with its new read flag"},
        HTTPStatus.NOT_FOUND,
        HTTPStatus.CONFLICT,
        *BODY,
        model=ThreadOut,
    ),
)
def mark_read(threadId: ThreadId, flag: Annotated[ThreadReadFlag, Body()]) -> Response[ThreadOut]:
    entry = services().messaging.mark_read(caller_id(router), threadId, flag.read)
    return respond(_thread(entry))


@router.get(
    "/messaging/threads/<threadId>/messages",
    summary="List a thread's messages, newest first",
    responses=documented({200: "A page of the thread's messages"}, HTTPStatus.NOT_FOUND, model=MessagesList),
)
def list_messages(
    threadId: ThreadId,
    limit: Limit = 20,
    offset: Offset = 0,
    before: Annotated[
        QueryDateTime | None, Query(description="Only messages created before (exclusive)" + DATE_TIME_FORMAT)
    ] = None,
    after: Annotated[
        QueryDateTime | None, Query(description="Only messages created after (exclusive)" + DATE_TIME_FORMAT)
    ] = None,
) -> Response[MessagesList]:
    if before is not None and offset:
        raise ValidationError("'before' cannot be combined with 'offset'.", code="BEFORE_WITH_OFFSET")
    page = services().messaging.list_messages(
        caller_id(router), threadId, MessageQuery(before=before, after=after, offset=offset, limit=limit)
    )
    base = attachments_url(router)
    return respond(
        MessagesList(
            messages=[MessageOut.from_message(m, base) for m in page.messages],
            offset=page.offset,
            limit=page.limit,
        ),
    )


@router.post(
    "/messaging/threads/<threadId>/messages",
    summary="Write a message in a thread",
    responses=documented(
        {201: "The stored message"},
        HTTPStatus.NOT_FOUND,
        HTTPStatus.CONFLICT,
        *BODY,
        model=MessageOut,
        headers=REPLAYED_HEADER_DOC,
    ),
)
def write_in_thread(
    threadId: ThreadId,
    body: Annotated[NewMessageInThread, Body()],
    idempotency_key: IdempotencyKey = None,
) -> Response[MessageOut]:
    result = services().messaging.send(
        SendMessage(
            author_id=caller_id(router),
            text=body.text,
            thread_id=threadId,
            attachment_ids=tuple(a.id for a in body.attachments),
            idempotency_key=idempotency_key,
        )
    )
    count_sent(result.message, result.replayed)
    return respond(
        MessageOut.from_message(result.message, attachments_url(router)),
        status_code=201,
        headers=replayed_header(result.replayed),
    )
