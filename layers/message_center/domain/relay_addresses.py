"""Masked relay addresses: a user's alias, and per-thread reply addresses signed with HMAC.

A reply address is ``r-<thread id>-<recipient alias>-<signature>@<relay domain>``. The signature
is an HMAC-SHA256 over the thread id and the alias, so a reply can be routed to the thread of the
person it was sent to, and an address anyone made up (or changed) is refused. Everything is lower
case: mail systems do not keep the case of local parts reliably.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

_SIGNATURE_CHARS = 16  # 80 bits of base32: forging one takes ~2^80 attempts
_ALIAS_CHARS = 10
_REPLY = re.compile(r"^r-(?P<thread>[0-9a-z]{26})-(?P<alias>[a-z2-7]{10})-(?P<signature>[a-z2-7]{16})$")
_ALIAS = re.compile(r"^(?P<alias>[a-z2-7]{10})$")


@dataclass(frozen=True)
class ReplyTarget:
    thread_id: str  # canonical (upper-case) ULID
    alias: str  # the alias of the person the copy was sent to


def new_alias() -> str:
    """A random, unguessable alias: the local part of a user's masked address."""
    return base64.b32encode(secrets.token_bytes(10)).decode().lower()[:_ALIAS_CHARS]


def alias_address(alias: str, domain: str) -> str:
    return f"{alias}@{domain}"


def _signature(key: bytes, thread_id: str, alias: str) -> str:
    digest = hmac.new(key, f"{thread_id.lower()}:{alias}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:_SIGNATURE_CHARS]


def reply_address(thread_id: str, alias: str, key: bytes, domain: str) -> str:
    """The Reply-To of an e-mail copy of ``thread_id`` sent to the user with ``alias``."""
    return f"r-{thread_id.lower()}-{alias}-{_signature(key, thread_id, alias)}@{domain}"


def _local_part(address: str, domain: str) -> str | None:
    local, at, address_domain = address.strip().lower().rpartition("@")
    if not at or address_domain != domain.lower():
        return None
    return local


def parse_reply_address(address: str, key: bytes, domain: str) -> ReplyTarget | None:
    """The thread and alias of a genuine reply address; None for anything forged or altered."""
    local = _local_part(address, domain)
    match = _REPLY.match(local) if local else None
    if match is None:
        return None
    expected = _signature(key, match["thread"], match["alias"])
    if not hmac.compare_digest(expected, match["signature"]):
        return None
    return ReplyTarget(thread_id=match["thread"].upper(), alias=match["alias"])


def parse_alias_address(address: str, domain: str) -> str | None:
    """The alias of a user's masked address, or None."""
    local = _local_part(address, domain)
    match = _ALIAS.match(local) if local else None
    return match["alias"] if match else None


# -- Message-IDs of the e-mail copies: built for every copy, read back from replies' References --

_THREAD_PREFIX = "thread-"


def thread_message_id(thread_id: str, domain: str) -> str:
    """A stable Message-ID for the thread itself, which every copy refers to so that mail
    clients keep the conversation together (and a reply names its thread)."""
    return f"<{_THREAD_PREFIX}{thread_id.lower()}@{domain}>"


def message_message_id(message_id: str, domain: str) -> str:
    return f"<message-{message_id.lower()}@{domain}>"


def thread_id_from_reference(reference: str, domain: str) -> str | None:
    """The thread id in a Message-ID that ``thread_message_id`` built for ``domain``, else None."""
    local, _, reference_domain = reference.strip().strip("<>").lower().partition("@")
    if reference_domain != domain.lower() or not local.startswith(_THREAD_PREFIX):
        return None
    return local.removeprefix(_THREAD_PREFIX).upper() or None
