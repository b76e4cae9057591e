"""What a recipient is told about a new message: the e-mail copy and the push payload.

Pure functions of plain values, localised to the recipient's preferred language. Nothing sent
carries bidirectional controls, whatever the stored text, file names or offer titles hold.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from urllib.parse import quote

from ..deployment import WEB_CLIENT_ROUTES
from . import relay_addresses
from .models import Language, Message, MessageTranslation
from .rules import without_bidi_controls

PREVIEW_LENGTH = 120

_TEXTS: dict[Language, dict[str, str]] = {
    Language.PL: {
        "subject": "Nowa wiadomość od {login}",
        "about_offer": "w sprawie oferty „{title}”",
        "about_order": "w sprawie zamówienia {order}",
        "wrote": "{login} napisał(a):",
        "attachments": "Załączniki:",
        "reply_hint": "Odpowiedz na tego e-maila, aby odpowiedzieć w Centrum wiadomości.",
        "open": "Otwórz rozmowę",
        "footer": "Twój adres e-mail nie jest widoczny dla rozmówcy.",
        "attachment_only": "Załącznik",
        "push_title": "Wiadomość od {login}",
        "translated": "Tłumaczenie maszynowe (z języka: {source}):",
        "original": "Oryginał:",
    },
    Language.EN: {
        "subject": "New message from {login}",
        "about_offer": "about the offer “{title}”",
        "about_order": "about order {order}",
        "wrote": "{login} wrote:",
        "attachments": "Attachments:",
        "reply_hint": "Reply to this e-mail to answer in the Message Center.",
        "open": "Open the conversation",
        "footer": "Your e-mail address is not shown to the other person.",
        "attachment_only": "Attachment",
        "push_title": "Message from {login}",
        "translated": "Machine translation (from: {source}):",
        "original": "Original:",
    },
    Language.UK: {
        "subject": "Нове повідомлення від {login}",
        "about_offer": "щодо пропозиції «{title}»",
        "about_order": "щодо замовлення {order}",
        "wrote": "{login} пише:",
        "attachments": "Вкладення:",
        "reply_hint": "Дайте відповідь на цей лист, щоб відповісти в Центрі повідомлень.",
        "open": "Відкрити розмову",
        "footer": "Ваша адреса електронної пошти не показується співрозмовнику.",
        "attachment_only": "Вкладення",
        "push_title": "Повідомлення від {login}",
        "translated": "Машинний переклад (з мови: {source}):",
        "original": "Оригінал:",
    },
}


@dataclass(frozen=True)
class EmailCopy:
    """Everything the e-mail copy of one message needs, decided by the notification service."""

    message: Message
    language: Language
    author_login: str
    recipient_email: str
    from_address: str  # the author's masked relay address
    reply_to: str  # the signed per-thread, per-recipient reply address
    relay_domain: str
    conversation_url: str
    attachment_links: tuple[tuple[str, str], ...] = ()  # (file name, URL)
    offer_title: str | None = None
    unsubscribe_url: str | None = None
    translation: MessageTranslation | None = None  # shown first, the original below it


def thread_link(web_url: str, thread_id: str) -> str:
    """The thread in the web client (which signs the reader in first, then opens it)."""
    return _web_link(web_url, WEB_CLIENT_ROUTES.thread.format(thread_id=quote(thread_id, safe="")))


def attachment_link(web_url: str, attachment_id: str) -> str:
    """The attachment's download in the web client: it works from a mail client whenever the copy
    is read (the web client downloads it with the reader's own sign-in, so only a participant of
    the thread gets the file), unlike the API's URL, which needs a bearer token."""
    return _web_link(web_url, WEB_CLIENT_ROUTES.attachment.format(attachment_id=quote(attachment_id, safe="")))


def _web_link(web_url: str, path: str) -> str:
    return f"{web_url.rstrip('/')}{path}"


def subject(copy: EmailCopy) -> str:
    texts = _TEXTS[copy.language]
    parts = [texts["subject"].format(login=copy.author_login)]
    relates = copy.message.relates_to
    if relates.offer_id:
        parts.append(texts["about_offer"].format(title=copy.offer_title or relates.offer_id))
    elif relates.order_id:
        parts.append(texts["about_order"].format(order=relates.order_id))
    return without_bidi_controls(" ".join(parts))


def build_email(copy: EmailCopy) -> EmailMessage:
    """The MIME e-mail: plain text and escaped HTML, threading headers, masked addresses."""
    texts = _TEXTS[copy.language]
    message = copy.message
    email = EmailMessage()
    email["Subject"] = subject(copy)
    email["From"] = formataddr((without_bidi_controls(f"{copy.author_login} (Message Center)"), copy.from_address))
    email["To"] = copy.recipient_email
    email["Reply-To"] = copy.reply_to
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = relay_addresses.message_message_id(message.id, copy.relay_domain)
    thread_root = relay_addresses.thread_message_id(message.thread_id, copy.relay_domain)
    email["In-Reply-To"] = thread_root
    email["References"] = thread_root
    # RFC 3834: a notification, so autoresponders must not answer it (people still can).
    email["Auto-Submitted"] = "auto-generated"
    if copy.unsubscribe_url:
        email["List-Unsubscribe"] = f"<{copy.unsubscribe_url}>"
    email.set_content(without_bidi_controls(_text_body(copy, texts)))
    email.add_alternative(without_bidi_controls(_html_body(copy, texts)), subtype="html")
    email["Content-Language"] = copy.language.value  # after the body: set_content resets Content-*
    return email


def _text_body(copy: EmailCopy, texts: dict[str, str]) -> str:
    lines = [texts["wrote"].format(login=copy.author_login), ""]
    if copy.translation is not None:
        lines += [
            texts["translated"].format(source=copy.translation.source_language),
            copy.translation.text,
            "",
            texts["original"],
        ]
    lines += [copy.message.text, ""]
    if copy.attachment_links:
        lines.append(texts["attachments"])
        lines.extend(f"- {name}: {url}" for name, url in copy.attachment_links)
        lines.append("")
    lines += ["--", texts["reply_hint"], f"{texts['open']}: {copy.conversation_url}", texts["footer"]]
    return "\n".join(lines) + "\n"


def _html_body(copy: EmailCopy, texts: dict[str, str]) -> str:
    escape = html.escape
    paragraphs = _paragraphs(copy.message.text)
    if copy.translation is not None:
        paragraphs = (
            f"<p><em>{escape(texts['translated'].format(source=copy.translation.source_language))}</em></p>"
            f"{_paragraphs(copy.translation.text)}<p><em>{escape(texts['original'])}</em></p>{paragraphs}"
        )
    attachments = ""
    if copy.attachment_links:
        items = "".join(f'<li><a href="{escape(url)}">{escape(name)}</a></li>' for name, url in copy.attachment_links)
        attachments = f"<p>{escape(texts['attachments'])}</p><ul>{items}</ul>"
    return (
        f'<!doctype html><html lang="{copy.language.value}"><body>'
        f"<p><strong>{escape(texts['wrote'].format(login=copy.author_login))}</strong></p>"
        f"<blockquote>{paragraphs}</blockquote>{attachments}"
        f'<hr><p>{escape(texts["reply_hint"])}<br><a href="{escape(copy.conversation_url)}">'
        f"{escape(texts['open'])}</a></p><p><small>{escape(texts['footer'])}</small></p>"
        "</body></html>"
    )


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n"))


def preview(message: Message) -> str:
    """A short preview of the text (never of attachments' content)."""
    text = " ".join(without_bidi_controls(message.text).split())
    if len(text) > PREVIEW_LENGTH:
        text = text[: PREVIEW_LENGTH - 1].rstrip() + "…"
    return text


@dataclass(frozen=True)
class PushNotification:
    thread_id: str
    message_id: str
    interlocutor_login: str
    preview: str
    badge: int
    title: str


def push_notification(message: Message, language: Language, badge: int) -> PushNotification:
    texts = _TEXTS[language]
    body = preview(message) or texts["attachment_only"]
    return PushNotification(
        thread_id=message.thread_id,
        message_id=message.id,
        interlocutor_login=message.author_login,
        preview=body,
        badge=badge,
        title=without_bidi_controls(texts["push_title"].format(login=message.author_login)),
    )


def sns_message(push: PushNotification) -> str:
    """The SNS ``MessageStructure=json`` document: one payload per platform."""
    data = {"threadId": push.thread_id, "messageId": push.message_id, "interlocutor": push.interlocutor_login}
    apns = json.dumps(
        {
            "aps": {
                "alert": {"title": push.title, "body": push.preview},
                "badge": push.badge,
                "sound": "default",
                "thread-id": push.thread_id,
            },
            **data,
        },
        ensure_ascii=False,
    )
    fcm = json.dumps(
        {
            "fcmV1Message": {
                "message": {
                    "notification": {"title": push.title, "body": push.preview},
                    "data": {**data, "badge": str(push.badge)},
                    "android": {"notification": {"tag": push.thread_id, "notification_count": push.badge}},
                }
            }
        },
        ensure_ascii=False,
    )
    return json.dumps({"default": push.preview, "APNS": apns, "APNS_SANDBOX": apns, "GCM": fcm}, ensure_ascii=False)
