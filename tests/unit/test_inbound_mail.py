"""Inbound e-mail parsing (message_center.domain.mail): a corpus of real-shaped messages in, what a
Message Center message would show out — text without quotes and signatures, attachments checked
by content, automatic mail recognised, hostile MIME survived."""

from __future__ import annotations

import base64
import io
import quopri
import random
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from message_center.domain.mail import (
    MAX_DEPTH,
    TRUNCATION_MARKER,
    AutoSubmittedReason,
    MailDefect,
    ParsedMail,
    RefusalReason,
    UnusableReason,
    html_to_text,
    parse_inbound,
    strip_reply,
)
from PIL import Image

from tests.support.files import allowed_files, refused_files, windows_executable

CORPUS = Path(__file__).parents[1] / "support" / "mail"
RELAY = "reply+t.01jnb3k5qy.7f3a9c@relay.message-center.example"
SES_ID = "0102019561a2c9b1-3d3c7c5e-0d8c-4b5e-9f3a-1c2d3e4f5a6b-000000@eu-west-1.amazonses.com"


def load(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def corpus(folder: str) -> list[str]:
    return sorted(f"{folder}/{path.name}" for path in (CORPUS / folder).glob("*.eml"))


# --- building messages the way mail clients do -------------------------------------------------

CRLF = b"\r\n"


def part(content_type: str, body: bytes, *, cte: str = "8bit", headers: tuple[str, ...] = ()) -> bytes:
    """One MIME entity: headers, a blank line, the body encoded with ``cte``."""
    if cte == "base64":
        body = base64.encodebytes(body).replace(b"\n", CRLF)
    elif cte == "quoted-printable":
        body = quopri.encodestring(body.replace(b"\n", CRLF))
    lines = [f"Content-Type: {content_type}", f"Content-Transfer-Encoding: {cte}", *headers]
    return CRLF.join(line.encode() for line in lines) + CRLF + CRLF + body


def multipart(subtype: str, *parts: bytes, boundary: str) -> bytes:
    body = b"".join(b"--" + boundary.encode() + CRLF + p + CRLF for p in parts)
    return part(
        f'multipart/{subtype}; boundary="{boundary}"',
        body + b"--" + boundary.encode() + b"--" + CRLF,
        cte="7bit",
    )


def message(
    entity: bytes,
    *,
    sender: str = "Anna Kowalska <anna.kowalska@example.com>",
    subject: str = "Re: Rower",
    headers: tuple[str, ...] = (),
) -> bytes:
    top = [
        "Return-Path: <anna.kowalska@example.com>",
        f"From: {sender}",
        f"To: Rowery Kraków <{RELAY}>",
        f"Subject: {subject}",
        "Date: Mon, 3 Mar 2025 11:21:05 +0100",
        "Message-ID: <built-1@example.com>",
        f"In-Reply-To: <{SES_ID}>",
        "MIME-Version: 1.0",
        *headers,
    ]
    return CRLF.join(line.encode() for line in top) + CRLF + entity


def plain(text: str, *, charset: str = "utf-8", cte: str = "8bit", flowed: str = "") -> bytes:
    return part(f"text/plain; charset={charset}{flowed}", text.encode(charset), cte=cte)


def attachment(name: str, content: bytes, content_type: str, *, disposition: str = "attachment") -> bytes:
    return part(
        f'{content_type}; name="{name}"',
        content,
        cte="base64",
        headers=(f'Content-Disposition: {disposition}; filename="{name}"',),
    )


def png(color: str, size: tuple[int, int] = (24, 16)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def assert_clean(parsed: ParsedMail) -> None:
    """What every result must hold, whatever came in: text a message can carry."""
    assert all(ch in "\n\t" or ord(ch) >= 32 for ch in parsed.text)
    assert parsed.text == parsed.text.strip()
    assert all(isinstance(defect, MailDefect) for defect in parsed.defects)
    assert len(set(parsed.defects)) == len(parsed.defects)
    assert "\n" not in parsed.subject and "\x00" not in parsed.subject


# --- (a) MIME structures: each folder file is one shape a real message takes ----------------------

RETURNED_SUBJECT = (
    "Zwrot poczty: zbyt wiele przeskokow 26 (maks. 25): od <reply+t.01jnb3k5qy.7f3a9c@relay.message-center.example> "
    "przez [203.0.113.226], do <sklep@example.org>"
)

# file: (from_address, subject, first line of text or "" for none, automatic reason)
STRUCTURE_EXPECTED = {
    # text/plain, 7bit, "addr (Name)" sender, a folded Received header, a blank line opening the body
    "plain_7bit.eml": ("tomas.novak@example.net", "Dotaz na detskou sedacku na kolo", "Dobry den,", None),
    # a mailing-list digest: masthead, topics and footer as text/plain, five messages in multipart/digest
    "digest_forum.eml": (
        "forum-prodejcu-request@lists.example.org",
        "Forum prodejcu - souhrn, c. 12 (5 zprav)",
        "Souhrn fora prodejcu na trhu",
        None,
    ),
    # two identical inline text/plain parts that carry a file name: files, not text
    "mixed_named_text_parts.eml": ("sklep.rowerowy@example.com", "specyfikacja roweru", "", None),
    # a delivery report whose From has no domain; its second part has no headers at all
    "report_without_sender.eml": (
        None,
        "niedostarczone",
        "Wiadomosc nie zostala dostarczona.",
        AutoSubmittedReason.DELIVERY_STATUS_NOTIFICATION,
    ),
    # a message that is only a forwarded message, which has headers and no body
    "forwarded_headers_only.eml": (
        "eva.horvathova@example.org",
        "preposlana sprava od Evy Horvathovej",
        "",
        None,
    ),
    # text and a GIF attachment
    "gif_attachment.eml": ("anna.kowalska@example.com", "Rysa na ramie - zdjecie", "Dzien dobry,", None),
    # 7bit, quoted-printable HTML in ISO-8859-2, base64 with and without a final newline, no CTE
    "transfer_encodings.eml": ("gabor.nagy@example.org", "Csomag", "Ez egy 7 bites uzenet.", None),
    # an alternative nested in a mixed part with the same boundary; the GIF after it is lost
    "nested_same_boundary.eml": ("lucia.bartova@example.net", "Kocik", "Je kočík ešte na predaj?", None),
    # multipart/report without report-type, Return-Path <>, list headers, upper-case part types
    "report_mailbox_full.eml": (
        "postmaster@example.org",
        "Powiadomienie: wiadomosc niedostarczona",
        "Raport dotyczy wiadomosci o naglowkach:",
        AutoSubmittedReason.MESSAGE_REPORT,
    ),
    # multipart/mixed with a boundary its body never uses
    "missing_boundary_lines.eml": ("peter.kovac@example.net", "Fotka prilby", "Dobry den,", None),
    # no Subject; flowed text with spaced parameters; two cut-short JPEGs with continued parameters
    "damaged_jpegs_no_subject.eml": ("zuzana.kralova@example.com", "", "Posielam dve fotky.", None),
    # an mbox "From " line, a report whose boundary parameter is cut off, two To headers, a long subject
    "returned_mail_cut_boundary.eml": (
        "mailer-daemon@mx.example.org",
        RETURNED_SUBJECT,
        "Wiadomosc przyjeta Tue, 18 Mar 2025 16:23:03 +0100",
        AutoSubmittedReason.DELIVERY_STATUS_NOTIFICATION,
    ),
    # CRLF line ends, a preamble, a BMP declared as application/riscos with odd parameters
    "bmp_attachment_crlf.eml": (
        "jan.wisniewski@example.net",
        "Zegar - zdjecie tarczy",
        "Tak wyglada tarcza zegara, ktory sprzedaje.",
        None,
    ),
    # a boundary parameter that differs from the boundary the body uses; no To, no Subject
    "boundary_mismatch.eml": ("marek.zielinski@example.com", "", "Czy mozna odebrac osobiscie?", None),
    # an RFC 2231 encoded charset parameter (charset*=), ISO-8859-2 text, Precedence: bulk
    "rfc2231_charset.eml": (
        "ewa.mazur@example.com",
        "Re: Limit czasu na zwroty...",
        "Zgadzam się, 30 dni w zupełności wystarczy.",
        AutoSubmittedReason.PRECEDENCE,
    ),
    # RFC 2231 continued and percent-encoded file names (filename*0*= / filename*1*=), charset*= in text
    "rfc2231_filename_continuation.eml": (
        "jana.dvorakova@example.com",
        "Fotka kol k reklamaci",
        "Dobrý den, posílám fotku kol, která přišla poškozená.",
        None,
    ),
    # a text part without headers, then an alternative of message/external-body parts; a group To
    "external_body_alternative.eml": (
        "katalog-ofert@example.org",
        "NOWY KATALOG: katalog-rowery-2025-03.pdf",
        "Nowy katalog jest do pobrania z serwera.",
        None,
    ),
    # multipart/alternative with no boundary parameter and a plain body
    "alternative_without_boundary.eml": (
        "dominika.sokolova@example.org",
        "48213",
        "Objednavka 48213 dorazila, dakujem.",
        None,
    ),
    # a spam filter's report: "From " line, a junk folded header, "MAILER DAEMON <>", dash boundary
    "spam_firewall_report.eml": (
        None,
        "Blocked attachment faktura_03.pdf.exe in your message",
        "ATTACHMENT BLOCKED",
        AutoSubmittedReason.DELIVERY_STATUS_NOTIFICATION,
    ),
    # multipart/signed (OpenPGP) with folded long headers, in the message and in the signed part
    "pgp_signed.eml": (
        "milan.horak@example.net",
        "Potvrzeni platby",
        "Platbu za objednavku jsem odeslal dnes rano.",
        None,
    ),
    # a message that is only a forwarded message (message/rfc822 at the top), which has a body
    "forwarded_as_message.eml": (
        "szabo.katalin@example.net",
        "Szamla tovabbitasa",
        "Tovabbitom a marciusi szamlat a kerekparrol.",
        None,
    ),
}


def test_every_structure_message_has_an_expectation() -> None:
    # Given the structure messages / When listed / Then each has its expectation (and no more)
    assert sorted(STRUCTURE_EXPECTED) == sorted(Path(name).name for name in corpus("structures"))


@pytest.mark.parametrize("name", sorted(STRUCTURE_EXPECTED))
def test_structure_messages_are_read_sensibly(name: str) -> None:
    # Given a message of one of the MIME shapes mail arrives in
    raw = load(f"structures/{name}")
    sender, subject, first_line, automatic = STRUCTURE_EXPECTED[name]

    # When it is parsed
    parsed = parse_inbound(raw)

    # Then sender, subject, the start of the text and the automatic verdict are what a reader sees
    assert parsed.from_address == sender
    assert parsed.subject == subject
    assert parsed.text.split("\n")[0].startswith(first_line) if first_line else parsed.text == ""
    assert parsed.auto_submitted_reason == automatic
    assert parsed.is_auto_submitted is (automatic is not None)
    assert_clean(parsed)


def test_structure_messages_with_attachments_keep_the_allowed_ones() -> None:
    # Given a GIF, a BMP declared as application/riscos, and a GIF named with RFC 2231 continuations
    # When parsed
    gif = parse_inbound(load("structures/gif_attachment.eml"))
    bmp = parse_inbound(load("structures/bmp_attachment_crlf.eml"))
    named = parse_inbound(load("structures/rfc2231_filename_continuation.eml"))

    # Then each file is accepted by its content, with its name, and arrives whole
    assert [(a.filename, a.content_type) for a in gif.attachments] == [("rysa.gif", "image/gif")]
    assert [(a.filename, a.content_type, a.declared_content_type) for a in bmp.attachments] == [
        ("tarcza.bmp", "image/bmp", "application/riscos")
    ]
    assert [(a.filename, a.content_type) for a in named.attachments] == [("žlutá kola č. 2.gif", "image/gif")]
    assert gif.refused_attachments == bmp.refused_attachments == named.refused_attachments == ()
    sizes = [Image.open(io.BytesIO(m.attachments[0].content)).size for m in (gif, bmp, named)]
    assert sizes == [(16, 12), (8, 6), (10, 10)]


def test_structure_digest_parts_are_forwarded_messages_not_text() -> None:
    # Given a mailing-list digest: three text/plain parts and five message/rfc822 parts in a digest
    parsed = parse_inbound(load("structures/digest_forum.eml"))

    # Then the digest's own text is read; the embedded messages are listed as not accepted
    assert "Dnesni temata:" in parsed.text
    assert "1. Vraceni zbozi po 14 dnech (Jana Dvorakova)" in parsed.text
    assert parsed.text.endswith("https://lists.example.org/mailman/listinfo/forum-prodejcu")
    assert "Po lhute vracim" not in parsed.text
    assert len(parsed.refused_attachments) == 5
    assert {r.reason for r in parsed.refused_attachments} == {RefusalReason.NOT_ALLOWED}
    assert {r.declared_content_type for r in parsed.refused_attachments} == {"message/rfc822"}


def test_structure_transfer_encodings_and_charsets_are_decoded() -> None:
    # Given one part in each transfer encoding, the HTML one quoted-printable in ISO-8859-2
    parsed = parse_inbound(load("structures/transfer_encodings.eml"))

    # Then every part is read, "ő" is ISO-8859-2's (not Latin-1's "õ"), base64 with and without newline
    assert parsed.text == (
        "Ez egy 7 bites uzenet.\n\nKöszönöm, az első csomag megérkezett!\n\nA csomagot holnap adom fel.\n\n"
        "Számlát is küldök.\n\nEnnek a resznek nincs Content-Transfer-Encoding fejlece."
    )
    assert parsed.defects == ()


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("boundary_mismatch.eml", "Czy mozna odebrac osobiscie?\n\nMieszkam w Poznaniu."),
        (
            "missing_boundary_lines.eml",
            "Dobry den,\n\nposielam fotku prilby, ktoru som dostal.\n\n"
            "[Netextova cast spravy (image/jpeg) vynechana, subor prilba.jpg]",
        ),
        ("alternative_without_boundary.eml", "Objednavka 48213 dorazila, dakujem."),
        ("nested_same_boundary.eml", "Je kočík ešte na predaj?\n\nProsím aj o fotku kočíka."),
    ],
)
def test_structure_broken_boundaries_still_give_the_text(name: str, text: str) -> None:
    # Given a multipart whose boundary is wrong, unused, absent or reused by a nested part
    parsed = parse_inbound(load(f"structures/{name}"))

    # Then the text is read all the same, and the damage is reported
    assert parsed.text == text
    assert MailDefect.MISSING_BOUNDARY in parsed.defects
    assert parsed.unusable_reason is None


def test_structure_report_with_a_cut_boundary_reads_only_its_human_part() -> None:
    # Given a returned-mail report whose boundary parameter is cut off after "bo"
    parsed = parse_inbound(load("structures/returned_mail_cut_boundary.eml"))

    # Then the boundary is found in the body: the explanation is read, not the status or the headers
    assert parsed.text.endswith("do <sklep@example.org>")
    assert "Reporting-MTA" not in parsed.text and "Received:" not in parsed.text
    assert parsed.to == ("reply+t.01jnb3k5qy.7f3a9c@relay.message-center.example", "postmaster@mx.example.org")
    assert MailDefect.MISSING_BOUNDARY in parsed.defects


def test_structure_named_text_parts_and_damaged_images_are_files() -> None:
    # Given two identical inline text parts with a file name, and a mail with two cut-short JPEGs
    named = parse_inbound(load("structures/mixed_named_text_parts.eml"))
    jpegs = parse_inbound(load("structures/damaged_jpegs_no_subject.eml"))

    # Then the text file is named once (same content) and refused; the JPEGs are refused by content
    assert [(r.filename, r.reason, r.declared_content_type) for r in named.refused_attachments] == [
        ("specyfikacja.txt", RefusalReason.NOT_ALLOWED, "text/plain")
    ]
    assert named.unusable_reason is None
    assert [(r.filename, r.reason) for r in jpegs.refused_attachments] == [
        ("IMG_0412.JPG", RefusalReason.NOT_ALLOWED),
        ("IMG_0413.JPG", RefusalReason.NOT_ALLOWED),
    ]
    assert {r.detail for r in jpegs.refused_attachments} == {"The image file is incomplete or damaged."}
    assert jpegs.attachments == ()
    assert jpegs.text == "Posielam dve fotky.\n\nAk neprejdu, poslem ich znova."


def test_structure_signature_and_external_bodies_are_neither_text_nor_files() -> None:
    # Given a PGP-signed message and a message pointing at files on servers (message/external-body)
    signed = parse_inbound(load("structures/pgp_signed.eml"))
    external = parse_inbound(load("structures/external_body_alternative.eml"))

    # Then only the signed text and the first part's text are read; nothing is attached or refused
    assert signed.text == "Platbu za objednavku jsem odeslal dnes rano."
    assert external.text == "Nowy katalog jest do pobrania z serwera."
    for parsed in (signed, external):
        assert parsed.attachments == parsed.refused_attachments == ()
    assert external.to == ()


def test_structure_messages_that_are_only_a_forwarded_message() -> None:
    # Given two messages whose whole body is a message/rfc822: one with a body, one headers only
    with_body = parse_inbound(load("structures/forwarded_as_message.eml"))
    headers_only = parse_inbound(load("structures/forwarded_headers_only.eml"))

    # Then the sender is the outer message's; its text is the inner body, or there is no content
    assert (with_body.from_name, with_body.text) == (
        "Szabo Katalin",
        "Tovabbitom a marciusi szamlat a kerekparrol. 24.3.2025",
    )
    assert with_body.unusable_reason is None
    assert (headers_only.text, headers_only.unusable_reason) == ("", UnusableReason.NO_CONTENT)
    assert headers_only.refused_attachments == ()


# --- (b) replies from the common clients, in the marketplace's languages --------------------------

# file: (from_address, from_name, subject, text exactly as the Message Center shows it)
CLIENT_REPLIES = {
    "clients/gmail_pl_reply.eml": (
        "anna.kowalska@example.com",
        "Anna Kowalska",
        'Re: Rower miejski 28" – pytanie o dostępność',
        "Dzień dobry,\n\nczy rower jest jeszcze dostępny? Zależy mi na szybkiej wysyłce do Łodzi.\n"
        "Płacę przelewem — proszę o numer konta.\n\nPozdrawiam\nAnna",
    ),
    "clients/outlook_pl_reply.eml": (
        "grzegorz@example.pl",
        "Grzegorz Brzęczyszczykiewicz",
        'RE: Rower miejski 28"',
        "Dzień dobry,\n\npaczka dotarła, ale brakuje śrubek do montażu siodełka. Czy możecie je dosłać?\n\n"
        "Z poważaniem\nGrzegorz Brzęczyszczykiewicz",
    ),
    "clients/outlook_cs_original_message.eml": (
        "jiri.dvorak@example.cz",
        "Jiří Dvořák",
        "RE: Objednávka 2025/0042",
        "Dobrý den,\n\nzboží jsem obdržel v pořádku, děkuji. Prosím ještě o fakturu na firmu: "
        "Žluťoučký kůň s.r.o.\n\nS pozdravem\nJiří Dvořák",
    ),
    "clients/apple_iphone_sk.eml": (
        "jan.novak@example.sk",
        "Ján Novák",
        "Re: Vyzdvihnutie tovaru",
        "Dobrý deň,\n\náno, tovar si vyzdvihnem osobne v piatok. Ďakujem za rýchlu odpoveď.",
    ),
    "clients/apple_mail_hu.eml": (
        "anna.kovacs@example.hu",
        "Kovács Anna",
        "Re: Megrendelés állapota",
        "Köszönöm, a csomagot megkaptam. Az árvíztűrő tükörfúrógép tökéletesen működik.\n\nÜdvözlettel:\nKovács Anna",
    ),
    "clients/thunderbird_pl_flowed.eml": (
        "zofia@example.pl",
        "Zofia Żółkiewska",
        "Re: Rezerwacja roweru",
        "Dzień dobry,\n\nproszę o rezerwację do piątku. Odbiorę osobiście w sklepie przy ulicy Świętokrzyskiej.",
    ),
    "clients/thunderbird_cs_latin2.eml": (
        "petr@example.cz",
        "Petr Šťastný",
        "Re: Platba za objednávku",
        "Dobrý den,\n\nplatbu jsem odeslal dnes ráno. Prosím o potvrzení přijetí.\n\nDěkuji,\nPetr Šťastný",
    ),
    "clients/gmail_hu_base64.eml": (
        "gabor.toth@example.hu",
        "Tóth Gábor",
        "Re: Kerékpár mérete",
        'Jó napot!\n\nSzeretném megkérdezni, hogy a kerékpár elérhető-e még 28"-os méretben.\n\nKöszönöm,\nTóth Gábor',
    ),
    "clients/thunderbird_uk_koi8u.eml": (
        "olena.koval@example.com.ua",
        "Олена Коваль",
        "Re: Оплата при отриманні",
        "Добрий день!\n\nЧи можна оплатити замовлення під час отримання? Ґудзики до куртки теж її "
        "розміру, є?\n\nЗ повагою,\nОлена Коваль",
    ),
    "clients/outlook_uk_cp1251.eml": (
        "olena.koval@example.com.ua",
        "Олена Коваль",
        "RE: Замовлення 123",
        "Доброго дня,\n\nтовар отримала, все гаразд. Дякую!\n\nОлена",
    ),
    "clients/html_only_script.eml": (
        "marta@example.pl",
        "Marta",
        "Re: Rower",
        "Dzień dobry,\n\nmam dwa pytania:\n\n- czy cena obejmuje dostawę?\n"
        "- czy mogę zapłacić BLIK-iem & kartą?\n\nPozdrawiam serdecznie,\nMarta <i> Tomek",
    ),
    "clients/lying_charset_ascii_is_utf8.eml": (
        "anna.kowalska@example.com",
        "Anna Kowalska",
        "Re: Rower",
        "Zażółć gęślą jaźń — dziękuję!",
    ),
    "clients/latin2_label_on_cp1250.eml": (
        "anna.kowalska@example.com",
        "Anna Kowalska",
        "Re: Rower",
        "Świetnie, źdźbło trawy i śrubka są w paczce.",
    ),
    "clients/unknown_charset_cp1250.eml": (
        "anna.kowalska@example.com",
        "Anna Kowalska",
        "Re: Rower",
        "Dzień dobry,\n\nproszę o fakturę VAT na firmę. Zamówienie złożyłem wczoraj, płatność już poszła.",
    ),
    "clients/raw_utf8_headers.eml": (
        "lukasz@example.pl",
        "Łukasz Żak",
        "Re: Zamówienie – śrubki",
        "Dziękuję, śrubki dotarły.",
    ),
}


def test_every_client_message_has_an_expectation() -> None:
    # Given the hand-written corpus / Then no file goes untested
    assert sorted(CLIENT_REPLIES) == corpus("clients")


@pytest.mark.parametrize("name", sorted(CLIENT_REPLIES))
def test_client_replies_give_only_the_new_text(name: str) -> None:
    # Given a reply as a mail client sends it: quoted history, signature, its charset and encoding
    sender, sender_name, subject, text = CLIENT_REPLIES[name]

    # When it is parsed
    parsed = parse_inbound(load(name))

    # Then the text is the new part only, diacritics intact; the headers are decoded
    assert parsed.text == text
    assert parsed.from_address == sender
    assert parsed.from_name == sender_name
    assert parsed.subject == subject
    assert parsed.truncated is False
    assert parsed.is_auto_submitted is False
    assert parsed.unusable_reason is None
    assert RELAY in parsed.to
    assert_clean(parsed)


def test_gmail_reply_carries_the_ids_to_find_the_thread() -> None:
    # Given Gmail's reply to a notification that SES sent
    parsed = parse_inbound(load("clients/gmail_pl_reply.eml"))

    # Then the ids come without brackets, addresses lower-cased, the date with its zone
    assert parsed.message_id == "CAHx5e+Q2mFh3Vt0z8k4Lw9oXcJ3W1pY=abc@mail.gmail.com"
    assert parsed.in_reply_to == SES_ID
    assert parsed.references == (SES_ID,)
    assert parsed.thread_references == (SES_ID,)
    assert parsed.to == (RELAY,)
    assert parsed.recipients == (RELAY,)
    assert parsed.return_path == "anna.kowalska@example.com"
    assert parsed.date is not None
    assert parsed.date.isoformat() == "2025-03-03T11:21:05+01:00"
    assert parsed.defects == ()


@pytest.mark.parametrize(
    "name", ["clients/gmail_pl_reply.eml", "clients/outlook_pl_reply.eml", "clients/gmail_hu_base64.eml"]
)
def test_the_html_alternative_gives_the_same_reply_as_the_plain_one(name: str) -> None:
    # Given the HTML alternative of a client's reply (its quote in a blockquote or Outlook's block)
    source = message_from_bytes(load(name), policy=policy.default)
    assert isinstance(source, EmailMessage)
    html_part = source.get_body(preferencelist=("html",))
    assert html_part is not None

    # When only the HTML is turned into text and the history stripped
    text = strip_reply(html_to_text(html_part.get_content()))

    # Then it is the same text as the plain alternative's
    assert text == CLIENT_REPLIES[name][3]


def test_html_only_mail_loses_scripts_styles_handlers_and_hidden_content() -> None:
    # Given an HTML-only reply with <script>, <style>, event handlers, an iframe, noscript and svg
    parsed = parse_inbound(load("clients/html_only_script.eml"))

    # Then none of it reaches the text
    for needle in ("alert", "evil", "steal", "cookie", "font-family", "ramka", "JavaScript", "wektor", "<"):
        assert needle not in parsed.text.replace("<i>", ""), needle
    assert "Wiadomość" not in parsed.text  # the <title>
    assert "zapraszamy" not in parsed.text  # the quoted history in the blockquote


def test_a_made_up_charset_is_detected_and_reported() -> None:
    # Given a body in Windows-1250 under a charset label no one knows
    parsed = parse_inbound(load("clients/unknown_charset_cp1250.eml"))

    # Then the text decodes by detection and the label is reported
    assert "płatność już poszła" in parsed.text
    assert parsed.defects == (MailDefect.UNKNOWN_CHARSET,)


LANGUAGE_SAMPLES = {
    "utf-8": "Zażółć gęślą jaźń. Příliš žluťoučký kůň. Ďakujem. Árvíztűrő. Ґудзики, її, є.",
    "iso-8859-2": "Zażółć gęślą jaźń. Příliš žluťoučký kůň. Ďakujem, ľúbim. Árvíztűrő tükörfúrógép.",
    "windows-1250": "Zażółć gęślą jaźń. Příliš žluťoučký kůň. Ďakujem, ľúbim. Árvíztűrő tükörfúrógép.",
    "koi8-u": "Добрий день! Ґудзики, її, єнот і їжак.",
    "windows-1251": "Добрий день! Ґудзики, її, єнот і їжак.",
}


@pytest.mark.parametrize("cte", ["quoted-printable", "base64", "8bit"])
@pytest.mark.parametrize("charset", sorted(LANGUAGE_SAMPLES))
def test_every_charset_and_transfer_encoding_decodes(charset: str, cte: str) -> None:
    # Given a text/plain body in one of the marketplace's charsets, in a transfer encoding
    text = LANGUAGE_SAMPLES[charset]
    raw = message(plain(text, charset=charset, cte=cte))

    # When parsed
    parsed = parse_inbound(raw)

    # Then the text is exactly what was written
    assert parsed.text == text
    assert parsed.defects == ()


def test_flowed_text_with_delsp_joins_soft_breaks() -> None:
    # Given format=flowed; delsp=yes text (soft breaks inside words and between them)
    body = "Dzie\u0144 do \nbry, rezer\nwacja.\n\nDru\u0107 \nakapit.\n"
    raw = message(plain(body.replace("\nwacja", " \nwacja"), flowed="; format=flowed; delsp=yes"))

    # When parsed
    parsed = parse_inbound(raw)

    # Then the soft breaks are joined (the space before each is deleted); hard breaks stay
    assert parsed.text == "Dzień dobry, rezerwacja.\n\nDrućakapit."


def test_encoded_words_in_an_unknown_charset_fall_back_to_detection() -> None:
    # Given a subject whose encoded words name a charset that does not exist
    raw = message(plain("Tak."), subject="=?x-made-up?Q?Zam=F3wienie_=BF=F3=B3te?=")

    # When parsed
    parsed = parse_inbound(raw)

    # Then the subject is still readable text (no exception, no surrogates)
    assert parsed.subject.startswith("Zam")
    assert parsed.subject.encode("utf-8")
    assert MailDefect.UNKNOWN_CHARSET in parsed.defects


# --- quoted history and signatures, rule by rule --------------------------------------------------

ATTRIBUTIONS = [
    "On Mon, Mar 3, 2025 at 10:15 AM Rowery Kraków <shop@example.com> wrote:",
    "On 3 Mar 2025, at 10:15, Rowery Kraków <shop@example.com> wrote:",
    "On 03/03/2025 10:15, Rowery Kraków wrote:",
    "pon., 3 mar 2025 o 10:15 Rowery Kraków <shop@example.com> napisał(a):",
    "W dniu 3.03.2025 o 10:15, Rowery Kraków pisze:",
    "Dnia 3 marca 2025 10:15 Rowery Kraków <shop@example.com> napisał(a):",
    "Wiadomość napisana przez Rowery Kraków <shop@example.com> w dniu 3 mar 2025, o godz. 10:15:",
    "Dne 03.03.2025 v 10:15 Obchod Praha napsal(a):",
    "po 3. 3. 2025 v 10:15 odesílatel Obchod Praha <shop@example.com> napsal:",
    "Dňa 3. 3. 2025 o 10:15 Predajňa Bratislava napísal(a):",
    "2025. 03. 03. 10:15 keltezéssel, Szegedi Bolt írta:",
    "Szegedi Bolt <shop@example.com> ezt írta (időpont: 2025. márc. 3., H, 10:15):",
    "пн, 3 бер. 2025 р. о 10:15 Магазин Київ <shop@example.com> пише:",
    "03.03.2025 10:15, Магазин Київ пише:",
    "Am 03.03.2025 um 10:15 schrieb Fahrradladen <shop@example.com>:",
]


@pytest.mark.parametrize("attribution", ATTRIBUTIONS)
def test_an_attribution_line_starts_the_quoted_history(attribution: str) -> None:
    # Given a top-posted reply over an attribution line and quoted lines
    text = f"Dziękuję, biorę.\n\n{attribution}\n> Rower jest dostępny.\n> Pozdrawiamy"

    # When stripped / Then only the new text is left
    assert strip_reply(text) == "Dziękuję, biorę."


@pytest.mark.parametrize("attribution", ATTRIBUTIONS)
def test_an_attribution_line_names_who_and_when_even_without_quote_marks(attribution: str) -> None:
    # Given a client that does not prefix the history with ">"
    text = f"Dziękuję, biorę.\n\n{attribution}\n\nRower jest dostępny."

    # Then the attribution (naming a time or an address) still cuts
    assert strip_reply(text) == "Dziękuję, biorę."


def test_a_sentence_ending_in_wrote_is_not_an_attribution() -> None:
    # Given a message that quotes someone in its own words, with no date, time or address
    text = "On the phone my husband wrote:\nwe take it, and pay on delivery.\nThanks"

    # Then nothing is cut
    assert strip_reply(text) == text


@pytest.mark.parametrize(
    ("separator", "labels"),
    [
        ("-----Original Message-----", ("From", "Sent", "To", "Subject")),
        ("-----Wiadomość oryginalna-----", ("Od", "Wysłano", "Do", "Temat")),
        ("-----Původní zpráva-----", ("Od", "Odesláno", "Komu", "Předmět")),
        ("-----Pôvodná správa-----", ("Od", "Odoslané", "Komu", "Predmet")),
        ("-----Eredeti üzenet-----", ("Feladó", "Elküldve", "Címzett", "Tárgy")),
        ("-----Вихідне повідомлення-----", ("Від", "Надіслано", "Кому", "Тема")),
        ("________________________________", ("From", "Sent", "To", "Subject")),
        ("________________________________", ("Od", "Wysłane", "Do", "Temat")),
        ("", ("From", "Date", "To", "Subject")),
    ],
)
def test_outlook_header_blocks_start_the_quoted_history(separator: str, labels: tuple[str, ...]) -> None:
    # Given an Outlook reply: the new text, a separator (or none), the localised header block
    header_block = "\n".join(f"{label}: value {n}" for n, label in enumerate(labels))
    text = f"Nowa treść.\nDruga linia.\n\n{separator}\n{header_block}\n\nStara treść."

    # Then everything from the separator on is gone
    assert strip_reply(text) == "Nowa treść.\nDruga linia."


def test_words_that_look_like_two_header_labels_are_text() -> None:
    # Given "Od:" and "Do:" used as the words "from" and "to" in a Polish sentence
    text = "Godziny odbioru:\nOd: poniedziałku\nDo: piątku\nZapraszam."

    # Then a From-like line with only one more label is not a header block
    assert strip_reply(text) == text


def test_an_inline_reply_keeps_the_quotes_it_answers() -> None:
    # Given a reply written between the quoted questions, under an attribution
    text = (
        "On 3 Mar 2025, at 10:15, Rowery Kraków <shop@example.com> wrote:\n"
        "> Jaki rozmiar?\n28 cali.\n> Jaki kolor?\nCzerwony.\n> Pozdrawiamy\n> Sklep"
    )

    # Then the answers stay with their questions; the attribution and trailing quotes go
    assert strip_reply(text) == "> Jaki rozmiar?\n28 cali.\n> Jaki kolor?\nCzerwony."


def test_a_signature_after_the_delimiter_goes() -> None:
    # Given a reply with a "-- " signature of a few lines
    text = "Biorę.\n\n-- \nAnna Kowalska\nul. Długa 1\n00-001 Warszawa"

    # Then the signature is gone
    assert strip_reply(text) == "Biorę."


def test_a_long_tail_after_a_double_dash_is_not_a_signature() -> None:
    # Given "--" used as a divider above a long part of the message
    tail = "\n".join(f"punkt {n}" for n in range(20))
    text = f"Lista:\n--\n{tail}"

    # Then nothing is cut
    assert strip_reply(text) == text


@pytest.mark.parametrize(
    "footer",
    [
        "Sent from my iPhone",
        "Sent from my Galaxy",
        "Get Outlook for Android<https://aka.ms/ghei36>",
        "Wysłane z iPhone'a",
        "Wysłane z mojego smartfona Samsung Galaxy",
        "Odesláno z iPhonu",
        "Odoslané z môjho iPhonu",
        "iPhone-ról küldve",
        "Küldve az iPhone-omról",
        "Надіслано з iPhone",
    ],
)
def test_mobile_footers_go(footer: str) -> None:
    # Given a short reply ending with a mobile client's footer
    # Then the footer is gone
    assert strip_reply(f"Tak, poproszę.\n\n{footer}") == "Tak, poproszę."


def test_a_footer_in_the_middle_is_text() -> None:
    # Given the footer words inside the message
    text = "Sent from my iPhone\nbecause I am on the train. Please call me."

    # Then nothing is cut
    assert strip_reply(text) == text


# --- automatic mail -------------------------------------------------------------------------------

AUTOMATIC = {
    "automatic/out_of_office_pl.eml": AutoSubmittedReason.AUTO_SUBMITTED,
    "automatic/exchange_oof.eml": AutoSubmittedReason.AUTO_RESPONSE_SUPPRESS,
    "automatic/newsletter_bulk.eml": AutoSubmittedReason.PRECEDENCE,
    "automatic/bounce_null_return_path.eml": AutoSubmittedReason.NULL_RETURN_PATH,
}


def test_every_automatic_message_has_an_expectation() -> None:
    assert sorted(AUTOMATIC) == corpus("automatic")


@pytest.mark.parametrize("name", sorted(AUTOMATIC))
def test_automatic_messages_are_recognised(name: str) -> None:
    # Given an out-of-office reply, a newsletter or a bounce
    # When parsed
    parsed = parse_inbound(load(name))

    # Then it is marked automatic with the reason (its text is still read, for the logs' sake)
    assert parsed.is_auto_submitted is True
    assert parsed.auto_submitted_reason == AUTOMATIC[name]
    assert parsed.text


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Auto-Submitted: auto-replied", AutoSubmittedReason.AUTO_SUBMITTED),
        ("Auto-Submitted: auto-generated (failure)", AutoSubmittedReason.AUTO_SUBMITTED),
        ("Auto-Submitted: auto-notified; owner-email=a@b.c", AutoSubmittedReason.AUTO_SUBMITTED),
        ("Auto-Submitted: No", None),
        ("Precedence: bulk", AutoSubmittedReason.PRECEDENCE),
        ("Precedence: junk", AutoSubmittedReason.PRECEDENCE),
        ("Precedence: list", AutoSubmittedReason.PRECEDENCE),
        ("Precedence: auto_reply", AutoSubmittedReason.PRECEDENCE),
        ("Precedence: first-class", None),
        ("X-Autoreply: yes", AutoSubmittedReason.X_AUTOREPLY),
        ("X-Autorespond: Jestem na urlopie", AutoSubmittedReason.X_AUTORESPOND),
        ("X-Auto-Response-Suppress: OOF", AutoSubmittedReason.AUTO_RESPONSE_SUPPRESS),
        ("X-Auto-Response-Suppress: DR, RN, NRN, OOF, AutoReply", AutoSubmittedReason.AUTO_RESPONSE_SUPPRESS),
        ("X-Auto-Response-Suppress: RN, NRN", None),
        ("Return-Path: <>", AutoSubmittedReason.NULL_RETURN_PATH),
        ("X-Mailer: Microsoft Outlook 16.0", None),
    ],
)
def test_automatic_headers(header: str, reason: AutoSubmittedReason | None) -> None:
    # Given a person's reply with one more header
    raw = message(plain("Dziękuję."), headers=(header,))
    if header.startswith("Return-Path"):  # replaces the envelope sender SES records
        raw = raw.replace(b"Return-Path: <anna.kowalska@example.com>\r\n", b"")

    # When parsed
    parsed = parse_inbound(raw)

    # Then only the automatic ones are marked
    assert parsed.auto_submitted_reason == reason
    assert parsed.is_auto_submitted is (reason is not None)


def test_a_mailer_daemon_sender_is_automatic() -> None:
    # Given a bounce from MAILER-DAEMON that is not a multipart/report
    raw = message(plain("Delivery failed."), sender="Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>")

    # Then it is automatic
    assert parse_inbound(raw).auto_submitted_reason == AutoSubmittedReason.MAILER_DAEMON


def test_a_delivery_status_notification_is_automatic_and_its_parts_are_not_text() -> None:
    # Given a DSN: human-readable part, machine status, the returned message
    report = multipart(
        "report; report-type=delivery-status",
        plain("Your message could not be delivered."),
        part("message/delivery-status", b"Reporting-MTA: dns; mx.example.net\r\n\r\nAction: failed\r\n"),
        part("message/rfc822", b"From: a@b.c\r\nSubject: original\r\n\r\nThe original text.\r\n"),
        boundary="dsn",
    )
    parsed = parse_inbound(message(report, sender="postmaster@mx.example.net"))

    # Then it is a delivery status notification, its text only the human-readable part
    assert parsed.auto_submitted_reason == AutoSubmittedReason.DELIVERY_STATUS_NOTIFICATION
    assert parsed.text == "Your message could not be delivered."
    assert parsed.refused_attachments == ()


# --- attachments ----------------------------------------------------------------------------------


def test_apple_mail_inline_pdf_and_attached_png_are_accepted() -> None:
    # Given Apple Mail's way: text, then a PDF with an *inline* disposition, then a PNG
    pdf, _ = allowed_files()["invoice.pdf"]
    picture, _ = allowed_files()["photo.png"]
    raw = message(
        multipart(
            "mixed",
            plain("W załączniku faktura i zdjęcie.\n\nWysłane z iPhone'a"),
            attachment("faktura.pdf", pdf, "application/pdf", disposition="inline"),
            attachment("zdjęcie roweru.png", picture, "image/png"),
            boundary="Apple-Mail=_1",
        )
    )

    # When parsed
    parsed = parse_inbound(raw)

    # Then both files are attachments with their bytes, names and detected types
    assert parsed.text == "W załączniku faktura i zdjęcie."
    assert [(a.filename, a.content_type, a.inline) for a in parsed.attachments] == [
        ("faktura.pdf", "application/pdf", False),
        ("zdjęcie roweru.png", "image/png", False),
    ]
    assert parsed.attachments[0].content == pdf
    assert parsed.attachments[1].content == picture
    assert parsed.attachments[1].size == len(picture)
    assert parsed.refused_attachments == ()


def test_gmail_reply_with_inline_image_pdf_and_an_executable() -> None:
    # Given Gmail's structure: mixed[related[alternative[plain, html], inline image], PDF, .exe]
    pdf, _ = allowed_files()["invoice.pdf"]
    screenshot = png("green")
    body = multipart(
        "related",
        multipart(
            "alternative",
            plain("Zrzut ekranu poniżej.\n\nOn Mon, 3 Mar 2025 at 10:15 Sklep <shop@example.com> wrote:\n> Co?"),
            part("text/html; charset=utf-8", b'<div>Zrzut ekranu poni\xc5\xbcej.<img src="cid:ii_1"></div>'),
            boundary="alt",
        ),
        part(
            'image/png; name="image.png"',
            screenshot,
            cte="base64",
            headers=('Content-Disposition: inline; filename="image.png"', "Content-ID: <ii_1>"),
        ),
        boundary="rel",
    )
    raw = message(
        multipart(
            "mixed",
            body,
            attachment("faktura.pdf", pdf, "application/pdf"),
            attachment("faktura.exe", windows_executable(), "application/x-msdownload"),
            boundary="mixed",
        )
    )

    # When parsed
    parsed = parse_inbound(raw)

    # Then the text is the plain alternative's; the PDF comes first, the inline image after it
    assert parsed.text == "Zrzut ekranu poniżej."
    assert [(a.filename, a.inline) for a in parsed.attachments] == [
        ("faktura.pdf", False),
        ("image.png", True),
    ]
    assert parsed.attachments[1].content == screenshot
    # and the executable is refused with a reason a user can act on
    [refused] = parsed.refused_attachments
    assert (refused.filename, refused.reason) == ("faktura.exe", RefusalReason.NOT_ALLOWED)
    assert refused.detail.startswith("This file type cannot be attached")
    assert refused.declared_content_type == "application/x-msdownload"
    assert refused.size == len(windows_executable())


@pytest.mark.parametrize("name", sorted(refused_files()))
def test_files_named_like_allowed_ones_are_refused_by_content(name: str) -> None:
    # Given a refused file (an .exe, WEBP, zip, HTML, SVG…) named with an allowed extension
    raw = message(
        multipart("mixed", plain("Plik."), attachment(name, refused_files()[name], "image/png"), boundary="b")
    )

    # When parsed
    parsed = parse_inbound(raw)

    # Then it is refused, not accepted
    assert parsed.attachments == ()
    assert [(r.filename, r.reason) for r in parsed.refused_attachments] == [(name, RefusalReason.NOT_ALLOWED)]


def test_a_file_over_the_size_limit_is_refused() -> None:
    # Given a PNG bigger than the limit the caller passes
    picture = png("red", (200, 200))
    raw = message(multipart("mixed", plain("Duże."), attachment("big.png", picture, "image/png"), boundary="b"))

    # When parsed with a limit one byte below its size
    parsed = parse_inbound(raw, max_attachment_bytes=len(picture) - 1)

    # Then it is refused as too large; at its exact size it passes
    assert [(r.filename, r.reason) for r in parsed.refused_attachments] == [("big.png", RefusalReason.TOO_LARGE)]
    assert parsed.unusable_reason is None
    assert len(parse_inbound(raw, max_attachment_bytes=len(picture)).attachments) == 1


def test_files_over_the_count_limit_are_refused() -> None:
    # Given twelve different images
    colors = [
        "red",
        "green",
        "blue",
        "white",
        "black",
        "yellow",
        "cyan",
        "magenta",
        "gray",
        "orange",
        "pink",
        "navy",
    ]
    files = [attachment(f"{n:02d}.png", png(color), "image/png") for n, color in enumerate(colors)]
    raw = message(multipart("mixed", plain("Zdjęcia."), *files, boundary="b"))

    # When parsed with the default limit of ten
    parsed = parse_inbound(raw)

    # Then the first ten are accepted and the last two refused as too many
    assert [a.filename for a in parsed.attachments] == [f"{n:02d}.png" for n in range(10)]
    assert [(r.filename, r.reason) for r in parsed.refused_attachments] == [
        ("10.png", RefusalReason.TOO_MANY),
        ("11.png", RefusalReason.TOO_MANY),
    ]


def test_the_same_image_twice_is_attached_once() -> None:
    # Given Outlook re-attaching the same inline image (a logo of the quoted history)
    logo = png("blue")
    related = multipart(
        "related",
        part("text/html; charset=utf-8", b"<p>Dzi\xc4\x99ki</p>"),
        part("image/png", logo, cte="base64", headers=("Content-ID: <image001.png@01DB>",)),
        part("image/png", logo, cte="base64", headers=("Content-ID: <image002.png@01DB>",)),
        boundary="rel",
    )

    # When parsed
    parsed = parse_inbound(message(related))

    # Then one inline attachment, named for its type
    assert parsed.text == "Dzięki"
    assert [(a.filename, a.inline) for a in parsed.attachments] == [("attachment-1.png", True)]


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        ('attachment; filename="../../etc/passwd.png"', "passwd.png"),
        ("attachment; filename*=utf-8''Faktura%20nr%20%C5%BC%C3%B3%C5%82ta.png", "Faktura nr żółta.png"),
        ('attachment; filename="=?utf-8?B?xbzDs8WCdy5wbmc=?="', "żółw.png"),
        ('attachment; filename="skan"', "skan.png"),
        ('attachment; filename="photo.jpg"', "photo.jpg.png"),
        ('attachment; filename="\\x07..\\\\"', "attachment-1.png"),
        ("attachment", "attachment-1.png"),
    ],
)
def test_attachment_names_are_sanitised_and_end_in_the_real_type(disposition: str, expected: str) -> None:
    # Given a PNG whose name is a path, RFC 2231- or RFC 2047-encoded, missing, or misleading
    raw = message(
        multipart(
            "mixed",
            plain("Plik."),
            part("image/png", png("red"), cte="base64", headers=(f"Content-Disposition: {disposition}",)),
            boundary="b",
        )
    )

    # When parsed
    [accepted] = parse_inbound(raw).attachments

    # Then the name is safe and its extension matches the content
    assert accepted.filename == expected


def test_a_message_with_only_an_attachment_is_usable() -> None:
    # Given a reply with no text but a PDF
    pdf, _ = allowed_files()["invoice.pdf"]
    raw = message(multipart("mixed", attachment("faktura.pdf", pdf, "application/pdf"), boundary="b"))

    # When parsed
    parsed = parse_inbound(raw)

    # Then it is usable: no text, one file
    assert (parsed.text, parsed.unusable_reason) == ("", None)
    assert [a.filename for a in parsed.attachments] == ["faktura.pdf"]


def test_a_message_with_only_a_refused_file_is_usable_so_the_refusal_can_be_told() -> None:
    raw = message(
        multipart("mixed", attachment("setup.exe", windows_executable(), "application/octet-stream"), boundary="b")
    )
    parsed = parse_inbound(raw)
    assert parsed.unusable_reason is None
    assert [r.filename for r in parsed.refused_attachments] == ["setup.exe"]


# --- length ----------------------------------------------------------------------------------------


def test_a_long_reply_is_truncated_visibly_at_a_word_boundary() -> None:
    # Given a reply of 600 words ("słowo0 słowo1 …")
    words = [f"słowo{n}" for n in range(600)]
    raw = message(plain(" ".join(words)))

    # When parsed with a 200-character limit
    parsed = parse_inbound(raw, max_text_length=200)

    # Then the text fits, ends with the marker, and is made of whole words
    assert parsed.truncated is True
    assert len(parsed.text) <= 200
    assert parsed.text.endswith(TRUNCATION_MARKER)
    kept = parsed.text.removesuffix(TRUNCATION_MARKER).split(" ")
    assert kept == words[: len(kept)]
    assert len(parsed.text) > 200 - len("słowo599 ") - 1  # no more cut than one word


def test_a_reply_at_the_limit_is_not_truncated() -> None:
    text = "a" * 2000
    parsed = parse_inbound(message(plain(text)))
    assert (parsed.text, parsed.truncated) == (text, False)


def test_one_enormous_word_is_cut_where_it_must_be() -> None:
    # Given a 5000-character URL
    parsed = parse_inbound(message(plain("https://example.com/" + "x" * 5000)))

    # Then the text is cut at the limit, with the marker
    assert len(parsed.text) == 2000
    assert parsed.text.endswith(TRUNCATION_MARKER)


def test_the_quoted_history_does_not_count_towards_the_limit() -> None:
    # Given a short reply over a very long quoted history
    history = "\n".join(f"> linia {n} historii" for n in range(5000))
    raw = message(plain(f"Krótko: tak.\n\nOn 3 Mar 2025, at 10:15, Sklep <s@example.com> wrote:\n{history}"))

    # Then nothing is truncated
    parsed = parse_inbound(raw)
    assert (parsed.text, parsed.truncated) == ("Krótko: tak.", False)


def test_a_limit_too_small_for_the_marker_is_a_callers_mistake() -> None:
    with pytest.raises(ValueError, match="max_text_length"):
        parse_inbound(message(plain("x" * 100)), max_text_length=5)


# --- (c) hostile input -------------------------------------------------------------------------------


def nested(levels: int, *, text_on_top: str) -> bytes:
    entity = plain("deepest text")
    for level in range(levels):
        entity = multipart("mixed", entity, boundary=f"level{level}")
    return message(multipart("mixed", plain(text_on_top), entity, boundary="top"))


def test_two_hundred_levels_of_nesting_are_cut_at_the_depth_limit() -> None:
    # Given a text on top and a chain of 200 nested multiparts
    started = time.monotonic()
    parsed = parse_inbound(nested(200, text_on_top="Tekst na górze."))

    # Then the top text is read, nothing below the depth limit, and the defect is reported
    assert parsed.text == "Tekst na górze."
    assert "deepest" not in parsed.text
    assert MailDefect.NESTING_TOO_DEEP in parsed.defects
    assert time.monotonic() - started < 10


def test_nesting_that_exhausts_the_parser_leaves_the_headers() -> None:
    # Given 2000 levels: deeper than the standard library's parser can recurse
    parsed = parse_inbound(nested(2000, text_on_top="Tekst."))

    # Then the headers are still read; no body could be, so the message is unusable
    assert parsed.from_address == "anna.kowalska@example.com"
    assert parsed.subject == "Re: Rower"
    assert parsed.defects == (MailDefect.NESTING_TOO_DEEP,)
    assert parsed.unusable_reason == UnusableReason.NO_CONTENT


def test_the_depth_limit_is_ten_levels() -> None:
    # Given text at exactly the deepest level allowed, and one level below it
    assert MAX_DEPTH == 10

    def chain(levels: int) -> bytes:
        entity = plain("głęboko")
        for level in range(levels):
            entity = multipart("mixed", entity, boundary=f"l{level}")
        return message(entity)

    # Then the first is read and the second is not
    assert parse_inbound(chain(MAX_DEPTH)).text == "głęboko"
    assert parse_inbound(chain(MAX_DEPTH + 1)).text == ""


def test_too_many_parts_stop_the_walk() -> None:
    # Given 150 text parts
    parts = [plain(f"część {n}") for n in range(150)]
    parsed = parse_inbound(message(multipart("mixed", *parts, boundary="b")))

    # Then the first 99 (the container is the 100th part) are read, and the defect reported
    assert parsed.text.split("\n\n")[-1] == "część 98"
    assert MailDefect.TOO_MANY_PARTS in parsed.defects


def test_a_one_megabyte_header_is_cut_quickly() -> None:
    # Given a 1 MB Subject and a 1 MB To header of addresses (the modern parser is super-linear)
    raw = message(
        plain("Treść."),
        subject="x" * 1_000_000,
        headers=("Cc: " + ", ".join(f"user{n}@example.com" for n in range(60_000)),),
    )
    started = time.monotonic()

    # When parsed
    parsed = parse_inbound(raw)

    # Then it is quick, the values are cut, the text is intact
    assert time.monotonic() - started < 10
    assert MailDefect.HEADER_TOO_LONG in parsed.defects
    assert 0 < len(parsed.subject) <= 16 * 1024
    assert 0 < len(parsed.cc) < 2000
    assert parsed.text == "Treść."


def test_a_missing_boundary_is_recovered_from_the_body() -> None:
    # Given multipart/mixed without its boundary parameter
    parsed = parse_inbound(load("hostile/missing_boundary.eml"))

    # Then the parts are found by the boundary the body uses
    assert parsed.text == "Dzień dobry, czy wysyłka jest dziś?"
    assert [(r.filename, r.reason) for r in parsed.refused_attachments] == [("notes.bin", RefusalReason.NOT_ALLOWED)]
    assert parsed.defects == (MailDefect.MISSING_BOUNDARY,)


def test_bad_base64_decodes_what_it_can() -> None:
    # Given base64 with stray characters in the text and in a PNG
    parsed = parse_inbound(load("hostile/bad_base64.eml"))

    # Then the text survives, the damaged image is refused, the defect reported
    assert parsed.text == "Dzień dobry, to jest test."
    assert [(r.filename, r.reason) for r in parsed.refused_attachments] == [("photo.png", RefusalReason.NOT_ALLOWED)]
    assert parsed.defects == (MailDefect.BAD_BASE64,)


def test_nul_bytes_control_characters_and_invalid_utf8_are_removed_or_replaced() -> None:
    # Given NUL bytes in a header and the body, terminal escapes and invalid UTF-8
    parsed = parse_inbound(load("hostile/nul_bytes.eml"))

    # Then the text carries none of them; what could not be decoded is U+FFFD
    assert parsed.subject == "Re: Rower"
    assert parsed.text == "Dzień dobry,\nto jest test[31m.\n\ufffd\ufffd invalid \ufffd( utf-8"
    assert parsed.defects == (MailDefect.NUL_BYTES, MailDefect.UNDECODABLE_TEXT)
    assert_clean(parsed)


def test_broken_headers_are_read_leniently() -> None:
    # Given an unterminated From, junk in To, broken encoded words, a non-date, odd ids
    parsed = parse_inbound(load("hostile/broken_headers.eml"))

    # Then no sender can be trusted, the rest is read as far as it goes
    assert parsed.from_address is None
    assert parsed.unusable_reason == UnusableReason.NO_SENDER
    assert parsed.to == (RELAY,)
    assert parsed.date is None
    assert parsed.message_id == "broken-4@example.com"
    assert parsed.in_reply_to == "0102019561a2c9b1-aaaa@eu-west-1.amazonses.com"
    assert parsed.references == ("a@x", "b@x", "c@x", "0102019561a2c9b1-aaaa@eu-west-1.amazonses.com")
    assert parsed.thread_references[0] == "0102019561a2c9b1-aaaa@eu-west-1.amazonses.com"
    assert parsed.text == "Dzień dobry =ZZ niepoprawne QP i żółw."
    assert {MailDefect.INVALID_FROM_ADDRESS, MailDefect.INVALID_DATE} <= set(parsed.defects)


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("From", "Anna Kowalska.<anna.kowalska@example.com>"),  # a dot before "<"
        ("To", 'IETF-Announce:; boundary=";'),  # an empty group with junk after it
    ],
)
def test_values_the_modern_header_parser_crashes_on_are_read_by_compat32(header: str, value: str) -> None:
    # Given header values on which CPython 3.11's modern parser raises AttributeError (found by
    # fuzzing: default.header_factory(header, value).addresses)
    # When a message has them
    raw = message(plain("Tak."), headers=(f"{header}: {value}",))
    if header == "From":
        raw = raw.replace(b"From: Anna Kowalska <anna.kowalska@example.com>\r\n", b"")

    # Then they are read leniently (compat32's getaddresses), and the defect is reported
    parsed = parse_inbound(raw)
    assert parsed.from_address == "anna.kowalska@example.com"
    assert RELAY in parsed.to
    assert MailDefect.MALFORMED_HEADER in parsed.defects
    assert parsed.text == "Tak."


def test_a_header_the_feed_parser_cannot_read_falls_back_to_compat32() -> None:
    # Given a NUL inside an RFC 2231 charset (on CPython 3.11 the modern policy raises ValueError
    # while the message is fed, as the feed parser reads Content-Type)
    raw = load("structures/rfc2231_charset.eml").replace(b"charset*=us-ascii", b"charset*=us-asc\x00ii")
    assert b"\x00" in raw

    # When parsed
    parsed = parse_inbound(raw)

    # Then compat32 reads it: sender, subject and text as without the damage
    assert parsed.from_address == "ewa.mazur@example.com"
    assert parsed.subject == "Re: Limit czasu na zwroty..."
    assert parsed.text == "Zgadzam się, 30 dni w zupełności wystarczy."
    assert MailDefect.MALFORMED_HEADER in parsed.defects
    assert MailDefect.NUL_BYTES in parsed.defects


def test_more_than_one_sender_is_no_sender() -> None:
    raw = message(plain("Tak."), sender="anna.kowalska@example.com, mallory@example.net")
    parsed = parse_inbound(raw)
    assert parsed.from_address is None
    assert parsed.unusable_reason == UnusableReason.NO_SENDER
    assert MailDefect.MULTIPLE_FROM_ADDRESSES in parsed.defects


def test_a_reply_that_only_quotes_is_unusable() -> None:
    # Given a reply with nothing new above the quoted history
    raw = message(plain("On 3 Mar 2025, at 10:15, Sklep <s@example.com> wrote:\n> Czy rower?\n"))

    # Then there is no content to post
    parsed = parse_inbound(raw)
    assert (parsed.text, parsed.unusable_reason) == ("", UnusableReason.NO_CONTENT)


def test_an_encrypted_message_is_reported() -> None:
    encrypted = multipart(
        'encrypted; protocol="application/pgp-encrypted"',
        part("application/pgp-encrypted", b"Version: 1"),
        part("application/octet-stream", b"-----BEGIN PGP MESSAGE-----\r\nhQEMA\r\n-----END PGP MESSAGE-----"),
        boundary="pgp",
    )
    parsed = parse_inbound(message(encrypted))
    assert parsed.defects == (MailDefect.ENCRYPTED,)
    assert parsed.unusable_reason == UnusableReason.NO_CONTENT


def test_deeply_nested_html_is_flattened() -> None:
    # Given HTML nested 20 000 divs and 5 000 blockquotes deep
    html = "<div>" * 20_000 + "głęboko" + "</div>" * 20_000 + "<blockquote>" * 5_000 + "q" + "</blockquote>" * 5000
    raw = message(part("text/html; charset=utf-8", html.encode()))

    # When parsed / Then the text is found and the quote dropped
    assert parse_inbound(raw).text == "głęboko"


@pytest.mark.parametrize("raw", [b"", b"\r\n\r\n", b"garbage", b"\xff" * 1000, b"From: \r\n\r\n\x00"])
def test_messages_that_are_not_messages_do_not_raise(raw: bytes) -> None:
    parsed = parse_inbound(raw)
    assert parsed.unusable_reason == UnusableReason.NO_SENDER
    assert_clean(parsed)


def mutations(raw: bytes, rng: random.Random) -> list[bytes]:
    """Damage a message the ways a bad client or an attacker would."""
    results = []
    for _ in range(12):
        data = bytearray(raw)
        action = rng.randrange(5)
        position = rng.randrange(len(data) + 1)
        if action == 0:  # cut it short
            data = data[:position]
        elif action == 1 and data:  # flip bytes
            for _ in range(rng.randrange(1, 30)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif action == 2:  # drop a line
            lines = bytes(data).split(b"\n")
            del lines[rng.randrange(len(lines))]
            data = bytearray(b"\n".join(lines))
        elif action == 3:  # splice in MIME syntax
            data[position:position] = rng.choice(
                [
                    b"\r\n--",
                    b'; boundary="',
                    b"=?utf-8?b?",
                    b"\r\nContent-Type: multipart/mixed\r\n",
                    b"\x00",
                    b"=\r\n",
                ]
            )
        else:  # duplicate a chunk
            data[position:position] = data[max(0, position - 200) : position]
        results.append(bytes(data))
    return results


@pytest.mark.parametrize("name", [*corpus("structures"), *corpus("clients"), *corpus("hostile")])
def test_damaged_corpus_messages_never_raise(name: str) -> None:
    # Given a corpus message damaged in twelve seeded ways
    rng = random.Random(name)
    for damaged in mutations(load(name), rng):
        # When parsed / Then a result comes back, and it holds what every result holds
        assert_clean(parse_inbound(damaged))
