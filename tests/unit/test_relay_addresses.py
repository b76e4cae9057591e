"""Masked relay addresses and signed per-thread reply addresses."""

from __future__ import annotations

import pytest
from message_center.domain.relay_addresses import (
    alias_address,
    new_alias,
    parse_alias_address,
    parse_reply_address,
    reply_address,
)

KEY = b"k" * 32
DOMAIN = "relay.message-center.test"
THREAD = "01JDQ5Z3W4X5Y6Z7A8B9C0D1E2"


def test_a_reply_address_routes_back_to_its_thread_and_recipient():
    alias = new_alias()
    address = reply_address(THREAD, alias, KEY, DOMAIN)
    assert address == address.lower() and address.endswith(f"@{DOMAIN}")
    assert len(address.split("@")[0]) <= 64  # RFC 5321 local-part limit
    target = parse_reply_address(address, KEY, DOMAIN)
    assert target is not None
    assert (target.thread_id, target.alias) == (THREAD, alias)
    # Mail systems may change the case: still the same address
    assert parse_reply_address(address.upper(), KEY, DOMAIN) == target


@pytest.mark.parametrize(
    "mangle",
    [
        lambda a: a.replace("01jdq5z3w4", "01jdq5z3w5"),  # another thread
        lambda a: (
            a[: -len(DOMAIN) - 2] + ("a" if a[-len(DOMAIN) - 2] != "a" else "b") + a[-len(DOMAIN) - 1 :]
        ),  # signature
        lambda a: a.replace(DOMAIN, "evil.example"),  # other domain
        lambda a: "x" + a,
    ],
)
def test_forged_or_altered_reply_addresses_are_refused(mangle):
    address = reply_address(THREAD, "abcdefgh23", KEY, DOMAIN)
    assert parse_reply_address(mangle(address), KEY, DOMAIN) is None


def test_another_key_does_not_verify():
    address = reply_address(THREAD, "abcdefgh23", KEY, DOMAIN)
    assert parse_reply_address(address, b"other-key", DOMAIN) is None


def test_aliases_are_random_and_parse_back():
    aliases = {new_alias() for _ in range(200)}
    assert len(aliases) == 200
    alias = aliases.pop()
    assert parse_alias_address(alias_address(alias, DOMAIN), DOMAIN) == alias
    assert parse_alias_address(f"{alias}@other.example", DOMAIN) is None
    assert parse_alias_address(f"r-{alias}@{DOMAIN}", DOMAIN) is None
