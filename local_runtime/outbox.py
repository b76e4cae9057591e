"""The local outbox: what the local stack's functions sent by e-mail (SES) and push (SNS).

The emulator keeps every message SES accepted and every message SNS published to a platform
endpoint, and reports both in ``GET /moto-api/data.json``::

    {"ses": {"RawMessage": [{"id", "source", "destinations": [...], "raw_data": "<the MIME text>"}],
             "Message": [{"id", "source", "destinations": {"ToAddresses": [...], ...},
                          "subject", "body"}],                       # SendEmail: no raw message kept
             "TemplateMessage": [{"id", "source", "destinations", "template", "template_data"}], ...},
     "sns": {"PlatformEndpoint": [{"arn": ".../endpoint/<PLATFORM>/<application>/<id>", "token",
                                   "custom_user_data", "enabled", "attributes": {...},
                                   "messages": {"<message id>": "<Message as published>"}}], ...},
     ...every other service...}

The local runtime reads the same parts straight from moto's models in its own process, and only
what is new since its last read (``emulator.SentMessages``): ``data.json`` serialises every
service's every model on each request, which grows with everything the emulator ever held.

``Outbox.sync`` reads it, numbers new e-mails and pushes in the order first seen (moto keeps no
times: ``seenAt`` is when the outbox noticed them) and writes each new e-mail as ``NNNN.eml`` into
the outbox folder. ``LocalEndpoints`` serves it all under ``/_local/`` on the local gateway.
"""

from __future__ import annotations

import email
import email.policy
import json
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any

from local_runtime.gateway import LOCAL_PREFIX, HttpRequest, HttpResponse, gateway_error

_logger = logging.getLogger(__name__)

_EML_NAME = re.compile(r"^\d{4,}\.eml$")
_EML_PATH = re.compile(r"^/_local/outbox/(\d+)\.eml$")
_HTML_HINT = re.compile(r"<\s*(html|body|p|div|br|table|a)\b", re.IGNORECASE)


# --- data.json → messages -----------------------------------------------------------------------


@dataclass(frozen=True)
class SentEmail:
    """One message SES accepted."""

    ses_message_id: str
    source: str
    destinations: tuple[str, ...]
    # The MIME message: as the emulator keeps it (text, shared with it, not copied), or rebuilt.
    content: str | bytes
    # "SendRawEmail" (the raw MIME as sent), or "SendEmail"/"SendTemplatedEmail" (rebuilt here).
    operation: str

    @property
    def raw(self) -> bytes:
        """The message's bytes."""
        return self.content.encode("utf-8") if isinstance(self.content, str) else self.content


@dataclass(frozen=True)
class PushMessage:
    """One message SNS published to a mobile platform endpoint."""

    message_id: str
    endpoint_arn: str
    platform: str
    application: str
    token: str
    custom_user_data: str | None
    enabled: bool
    published: str  # the Message parameter as published


def sent_emails(data: Mapping[str, Any]) -> list[SentEmail]:
    """Every e-mail in a ``data.json`` document: raw sends, then simple, then templated ones
    (moto keeps them in separate lists; within each, in the order sent)."""
    ses = data.get("ses") or {}
    found: list[SentEmail] = []
    for item in ses.get("RawMessage") or []:
        raw = item.get("raw_data") or ""
        found.append(
            SentEmail(
                str(item.get("id", "")),
                str(item.get("source") or ""),
                _unique(item.get("destinations") or []),
                raw if isinstance(raw, str) else bytes(raw),
                "SendRawEmail",
            )
        )
    for item in ses.get("Message") or []:
        destinations = item.get("destinations") or {}
        found.append(
            SentEmail(
                str(item.get("id", "")),
                str(item.get("source") or ""),
                _unique(_flatten(destinations)),
                _rebuild_simple(item),
                "SendEmail",
            )
        )
    for item in ses.get("TemplateMessage") or []:
        found.append(
            SentEmail(
                str(item.get("id", "")),
                str(item.get("source") or ""),
                _unique(_flatten(item.get("destinations") or {})),
                _rebuild_templated(item),
                "SendTemplatedEmail",
            )
        )
    return found


def push_messages(data: Mapping[str, Any]) -> list[PushMessage]:
    """Every message published to a platform endpoint in a ``data.json`` document (endpoints in
    creation order, each endpoint's messages in publishing order; deleted endpoints included)."""
    sns = data.get("sns") or {}
    found: list[PushMessage] = []
    for endpoint in sns.get("PlatformEndpoint") or []:
        arn = str(endpoint.get("arn", ""))
        # arn:aws:sns:<region>:<account>:endpoint/<PLATFORM>/<application>/<id>
        parts = arn.split(":", 5)[-1].split("/")
        platform = parts[1] if len(parts) > 2 else ""
        application = parts[2] if len(parts) > 2 else ""
        attributes = endpoint.get("attributes") or {}
        for message_id, published in (endpoint.get("messages") or {}).items():
            found.append(
                PushMessage(
                    message_id=str(message_id),
                    endpoint_arn=arn,
                    platform=platform,
                    application=application,
                    token=str(endpoint.get("token") or attributes.get("Token") or ""),
                    custom_user_data=endpoint.get("custom_user_data") or attributes.get("CustomUserData"),
                    enabled=bool(endpoint.get("enabled", True)),
                    published=str(published),
                )
            )
    return found


def platform_message(published: str, platform: str) -> Any:
    """What the device of ``platform`` gets: with ``MessageStructure=json`` the value under the
    platform's key (else ``default``), parsed as JSON when it is JSON; otherwise the message."""
    try:
        envelope = json.loads(published)
    except ValueError:
        return published
    if not isinstance(envelope, dict) or not ({platform, "default"} & envelope.keys()):
        return published
    chosen = envelope.get(platform, envelope.get("default"))
    if isinstance(chosen, str):
        try:
            return json.loads(chosen)
        except ValueError:
            return chosen
    return chosen


def _flatten(destinations: Mapping[str, Any] | Sequence[str]) -> list[str]:
    if isinstance(destinations, Mapping):
        keys = ("ToAddresses", "CcAddresses", "BccAddresses")
        return [address for key in keys for address in destinations.get(key) or []]
    return list(destinations)


def _unique(addresses: Sequence[str]) -> tuple[str, ...]:
    # moto appends the header recipients to the envelope ones: the same address may appear twice.
    return tuple(dict.fromkeys(str(address) for address in addresses))


def _rebuild_simple(item: Mapping[str, Any]) -> bytes:
    message = _rebuilt_headers(item, "SendEmail")
    message["Subject"] = str(item.get("subject") or "")
    body = str(item.get("body") or "")
    message.set_content(body, subtype="html" if _HTML_HINT.search(body) else "plain")
    return message.as_bytes()


def _rebuild_templated(item: Mapping[str, Any]) -> bytes:
    message = _rebuilt_headers(item, "SendTemplatedEmail")
    message["Subject"] = f"(template {item.get('template')})"
    message.set_content(f"Template: {item.get('template')}\nTemplate data: {item.get('template_data')}\n")
    return message.as_bytes()


def _rebuilt_headers(item: Mapping[str, Any], operation: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = str(item.get("source") or "")
    destinations = item.get("destinations") or {}
    if isinstance(destinations, Mapping):
        for header, key in (("To", "ToAddresses"), ("Cc", "CcAddresses")):
            if destinations.get(key):
                message[header] = ", ".join(destinations[key])
    elif destinations:
        message["To"] = ", ".join(destinations)
    message["X-Local-Outbox"] = f"rebuilt from {operation}: the emulator keeps no raw message for it"
    return message


# --- summaries ----------------------------------------------------------------------------------

_SUMMARY_HEADERS = (
    ("messageId", "Message-ID"),
    ("date", "Date"),
    ("from", "From"),
    ("to", "To"),
    ("cc", "Cc"),
    ("replyTo", "Reply-To"),
    ("subject", "Subject"),
    ("inReplyTo", "In-Reply-To"),
    ("references", "References"),
    ("autoSubmitted", "Auto-Submitted"),
    ("listUnsubscribe", "List-Unsubscribe"),
    ("contentLanguage", "Content-Language"),
)


def summarize_email(raw: bytes) -> dict[str, Any]:
    """The headers a developer checks, decoded (RFC 2047), the MIME parts and the plain-text body."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    as_sent = email.message_from_bytes(raw, policy=email.policy.compat32)
    summary: dict[str, Any] = {name: _header(message, as_sent, header) for name, header in _SUMMARY_HEADERS}
    summary["parts"] = [part.get_content_type() for part in message.walk() if not part.is_multipart()]
    summary["text"] = _body(message, "plain")
    return summary


def _header(message: Message, as_sent: Message, name: str) -> str | None:
    try:
        value = message.get(name)
    except Exception:  # a malformed header: show it as sent
        value = as_sent.get(name)
    return None if value is None else str(value)


def _body(message: Message, subtype: str) -> str | None:
    if not isinstance(message, EmailMessage):
        return None
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        return None
    return content if isinstance(content, str) else None


# --- the outbox ---------------------------------------------------------------------------------


@dataclass
class _Email:
    index: int
    sent: SentEmail
    seen_at: str
    file: Path | None = None
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Push:
    index: int
    push: PushMessage
    seen_at: str


class Outbox:
    """E-mails and pushes seen so far, numbered from 1 in the order first seen (thread-safe).

    ``fetch`` returns a ``data.json`` document with at least what was sent since its previous call
    (the whole of the emulator's ``data.json``, or ``emulator.SentMessages``' new parts: what was
    seen already is skipped); ``folder``, when given, receives each new e-mail as ``NNNN.eml``.
    """

    def __init__(
        self,
        fetch: Callable[[], Mapping[str, Any]],
        folder: Path | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._fetch = fetch
        self._folder = folder
        self._clock = clock
        self._lock = threading.Lock()
        self._emails: dict[str, _Email] = {}
        self._pushes: dict[tuple[str, str], _Push] = {}

    @property
    def folder(self) -> Path | None:
        return self._folder

    def clear_folder(self) -> None:
        """Create the folder, and delete the ``NNNN.eml`` files an earlier run left there."""
        if self._folder is None:
            return
        self._folder.mkdir(parents=True, exist_ok=True)
        for path in self._folder.iterdir():
            if _EML_NAME.match(path.name) and path.is_file():
                path.unlink()

    def sync(self) -> int:
        """Take in what the emulator sent since the last sync; returns how many messages are new."""
        with self._lock:  # fetch included: what an incremental fetch returns is numbered in order
            data = self._fetch()
            seen_at = _iso(self._clock())
            new = 0
            for sent in sent_emails(data):
                if sent.ses_message_id in self._emails:
                    continue
                entry = _Email(len(self._emails) + 1, sent, seen_at)
                try:
                    entry.summary = summarize_email(sent.raw)
                except Exception:  # a malformed message is still listed and downloadable
                    _logger.warning("cannot parse e-mail %d of the outbox", entry.index, exc_info=True)
                entry.file = self._write(entry)
                self._emails[sent.ses_message_id] = entry
                new += 1
            for push in push_messages(data):
                key = (push.endpoint_arn, push.message_id)
                if key not in self._pushes:
                    self._pushes[key] = _Push(len(self._pushes) + 1, push, seen_at)
                    new += 1
            return new

    def emails(self, link_prefix: str = "") -> list[dict[str, Any]]:
        """A summary of each e-mail, oldest first; ``eml`` links to the raw message."""
        with self._lock:
            entries = list(self._emails.values())
        return [
            {
                "index": entry.index,
                **entry.summary,
                "envelope": {"from": entry.sent.source, "to": list(entry.sent.destinations)},
                "sesMessageId": entry.sent.ses_message_id,
                "operation": entry.sent.operation,
                "seenAt": entry.seen_at,
                "eml": f"{link_prefix}{LOCAL_PREFIX}/outbox/{entry.index}.eml",
                "file": str(entry.file) if entry.file else None,
            }
            for entry in entries
        ]

    def raw_email(self, index: int) -> bytes | None:
        """E-mail number ``index`` (from 1) exactly as sent, or None."""
        with self._lock:
            for entry in self._emails.values():
                if entry.index == index:
                    return entry.sent.raw
        return None

    def pushes(self) -> list[dict[str, Any]]:
        """Each push, oldest first, with the message its platform's devices get."""
        with self._lock:
            entries = list(self._pushes.values())
        return [
            {
                "index": entry.index,
                "messageId": entry.push.message_id,
                "endpointArn": entry.push.endpoint_arn,
                "platform": entry.push.platform,
                "application": entry.push.application,
                "token": entry.push.token,
                "customUserData": entry.push.custom_user_data,
                "endpointEnabled": entry.push.enabled,
                "message": platform_message(entry.push.published, entry.push.platform),
                "published": entry.push.published,
                "seenAt": entry.seen_at,
            }
            for entry in entries
        ]

    def _write(self, entry: _Email) -> Path | None:
        if self._folder is None:
            return None
        path = self._folder / f"{entry.index:04d}.eml"
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            path.write_bytes(entry.sent.raw)
        except OSError as error:
            _logger.warning("cannot write %s: %s", path, error)
            return None
        return path


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- /_local/ on the gateway --------------------------------------------------------------------


class LocalEndpoints:
    """The developer's view of the local stack, on the gateway under ``/_local/`` (no
    authorization: the gateway listens on localhost; never part of the deployed API).

    ``GET /_local/outbox``           the e-mails sent, oldest first (JSON list)
    ``GET /_local/outbox/<n>.eml``   e-mail ``n`` as sent (``message/rfc822``)
    ``GET /_local/push``             the push notifications published to devices (JSON list)
    ``GET /_local/dead-letters``     stream batches given up on (JSON list)
    """

    def __init__(
        self,
        outbox: Outbox,
        dead_letters: Callable[[], list[dict[str, Any]]] = list,
    ) -> None:
        self._outbox = outbox
        self._dead_letters = dead_letters

    def handle(self, request: HttpRequest) -> HttpResponse:
        path = request.raw_path.rstrip("/") or "/"
        if request.method not in ("GET", "HEAD"):
            return gateway_error(405, "Method Not Allowed", ("allow", "GET, HEAD"))
        if path == LOCAL_PREFIX:
            return _json(
                {
                    "outbox": f"{LOCAL_PREFIX}/outbox",
                    "push": f"{LOCAL_PREFIX}/push",
                    "deadLetters": f"{LOCAL_PREFIX}/dead-letters",
                    "outboxFolder": str(self._outbox.folder) if self._outbox.folder else None,
                }
            )
        if path == f"{LOCAL_PREFIX}/dead-letters":
            return _json(self._dead_letters())
        if path in (f"{LOCAL_PREFIX}/outbox", f"{LOCAL_PREFIX}/push") or _EML_PATH.match(path):
            try:
                self._outbox.sync()
            except Exception as error:  # the emulator is gone or answered nonsense
                _logger.warning("cannot read the emulator's outbox: %s", error)
                return gateway_error(502, "Cannot read the AWS emulator's sent messages")
        if path == f"{LOCAL_PREFIX}/outbox":
            host = request.header("host")
            return _json(self._outbox.emails(link_prefix=f"http://{host}" if host else ""))
        if path == f"{LOCAL_PREFIX}/push":
            return _json(self._outbox.pushes())
        if match := _EML_PATH.match(path):
            raw = self._outbox.raw_email(int(match.group(1)))
            if raw is None:
                return gateway_error(404, "Not Found")
            return HttpResponse(
                200,
                [
                    ("content-type", "message/rfc822"),
                    ("content-disposition", f'inline; filename="{int(match.group(1)):04d}.eml"'),
                ],
                raw,
            )
        return gateway_error(404, "Not Found")


def _json(document: Any) -> HttpResponse:
    body = json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")
    return HttpResponse(200, [("content-type", "application/json; charset=utf-8")], body)
