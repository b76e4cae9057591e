"""Whether a received e-mail may be delivered (message_center.domain.mail.verdicts): SES's verdicts,
and SPF/DKIM counted only when aligned with the From address's domain."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from message_center.domain.mail.verdicts import (
    Refusal,
    Verdicts,
    aligned,
    authenticate_sender,
    dkim_signing_domains,
    domain_of,
    screen,
)

FROM = "sklep@rowery.example.com"


def verdicts(**overrides: str) -> Verdicts:
    values = {"spam": "PASS", "virus": "PASS", "spf": "PASS", "dkim": "PASS", "dmarc": "PASS"} | overrides
    return Verdicts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("domain", "from_domain", "expected"),
    [
        ("rowery.example.com", "rowery.example.com", True),
        ("ROWERY.example.com.", "rowery.example.com", True),  # case and a trailing dot do not matter
        ("mail.rowery.example.com", "rowery.example.com", True),  # relaxed: a subdomain of From
        ("example.com", "rowery.example.com", True),  # ... and From a subdomain of it
        ("a.rowery.example.com", "b.rowery.example.com", False),  # siblings: refused in doubt
        ("rowery.example.com.evil.example", "rowery.example.com", False),
        ("evilrowery.example.com", "rowery.example.com", False),  # a suffix is not a subdomain
        ("bulk-mailer.example", "rowery.example.com", False),
        ("", "rowery.example.com", False),
        ("rowery.example.com", "", False),
    ],
)
def test_alignment_is_relaxed_by_subdomain_only(domain, from_domain, expected):
    assert aligned(domain, from_domain) is expected


@pytest.mark.parametrize(
    ("address", "domain"),
    [("Sklep@Rowery.Example.COM", "rowery.example.com"), ("a@b@c.example.", "c.example"), ("no-domain", "")],
)
def test_the_domain_of_an_address(address, domain):
    assert domain_of(address) == domain


@pytest.mark.parametrize(
    ("given", "refusal"),
    [
        ({"virus": "FAIL", "spam": "FAIL", "dmarc": "FAIL"}, Refusal.VIRUS),  # the worst one is named
        ({"spam": "FAIL", "dmarc": "FAIL"}, Refusal.SPAM),
        ({"dmarc": "FAIL"}, Refusal.DMARC_FAIL),
        ({"spf": "FAIL", "dkim": "GRAY"}, Refusal.UNAUTHENTICATED),
        ({"spf": "PROCESSING_FAILED", "dkim": "DISABLED", "dmarc": "GRAY"}, Refusal.UNAUTHENTICATED),
        ({"spam": "GRAY", "virus": "GRAY", "spf": "FAIL"}, None),  # unknown is not a failure; DKIM passed
    ],
)
def test_the_screen_refuses_by_verdicts_alone(given, refusal):
    assert screen(verdicts(**given)) == refusal


@pytest.mark.parametrize("policy", ["none", "quarantine", "reject", None])
def test_a_dmarc_fail_is_refused_whatever_the_policy(policy):
    given = Verdicts(spam="PASS", virus="PASS", spf="PASS", dkim="PASS", dmarc="FAIL", dmarc_policy=policy)
    assert authenticate_sender(given, FROM, FROM, ("rowery.example.com",)) is Refusal.DMARC_FAIL


@pytest.mark.parametrize(
    ("given", "envelope_sender", "dkim_domains", "refusal"),
    [
        # SES found DMARC alignment itself: nothing else to check
        ({"dmarc": "PASS", "dkim": "FAIL"}, "bounce@bulk-mailer.example", (), None),
        # No DMARC verdict: SPF for an envelope sender in the From domain (or a subdomain)
        ({"dmarc": "GRAY", "dkim": "FAIL"}, "bounces@rowery.example.com", (), None),
        ({"dmarc": "GRAY", "dkim": "FAIL"}, "bounces@mail.rowery.example.com", (), None),
        ({"dmarc": "GRAY", "dkim": "FAIL"}, "bounce@bulk-mailer.example", (), Refusal.NOT_ALIGNED),
        ({"dmarc": "GRAY", "dkim": "FAIL"}, None, (), Refusal.NOT_ALIGNED),
        ({"dmarc": "GRAY", "dkim": "FAIL"}, "", (), Refusal.NOT_ALIGNED),
        # ... an aligned envelope does not help when SPF itself did not pass
        ({"dmarc": "GRAY", "spf": "GRAY"}, FROM, ("bulk-mailer.example",), Refusal.NOT_ALIGNED),
        # ... or DKIM passing with every signature made by the From domain
        ({"dmarc": "GRAY", "spf": "FAIL"}, None, ("rowery.example.com",), None),
        ({"dmarc": "GRAY", "spf": "FAIL"}, None, ("rowery.example.com", "mail.rowery.example.com"), None),
        ({"dmarc": "GRAY", "spf": "FAIL"}, None, ("rowery.example.com", "bulk-mailer.example"), Refusal.NOT_ALIGNED),
        ({"dmarc": "GRAY", "spf": "FAIL"}, None, (), Refusal.NOT_ALIGNED),
        ({"dmarc": "PROCESSING_FAILED", "spf": "FAIL"}, None, ("bulk-mailer.example",), Refusal.NOT_ALIGNED),
        # Failing verdicts are refused before alignment is looked at
        ({"spam": "FAIL"}, FROM, ("rowery.example.com",), Refusal.SPAM),
        ({"spf": "FAIL", "dkim": "FAIL", "dmarc": "GRAY"}, FROM, ("rowery.example.com",), Refusal.UNAUTHENTICATED),
    ],
)
def test_spf_or_dkim_count_only_for_the_from_domain(given, envelope_sender, dkim_domains, refusal):
    assert authenticate_sender(verdicts(**given), FROM, envelope_sender, dkim_domains) == refusal


@pytest.mark.parametrize("from_address", ["", "no-domain", "sklep@"])
def test_a_from_address_without_a_domain_is_not_aligned(from_address):
    given = verdicts(dmarc="GRAY")
    assert authenticate_sender(given, from_address, "bounce@", ("rowery.example.com",)) is Refusal.NOT_ALIGNED


def _signed(*signatures: str, body: str = "Treść wiadomości") -> bytes:
    message = EmailMessage()
    for signature in signatures:
        message["DKIM-Signature"] = signature
    message["From"] = FROM
    message["Subject"] = "Test"
    message.set_content(body)
    return message.as_bytes()


def test_every_dkim_signing_domain_is_read_lower_cased_in_order():
    raw = _signed(
        "v=1; a=rsa-sha256; c=relaxed/relaxed; d=Rowery.Example.com; s=k1; h=from:subject; bh=AAA=; b=BBB=",
        "v=1; a=rsa-sha256; s=k2; d = bulk-mailer.example ; bh=CCC=; b=DDD=",
    )
    assert dkim_signing_domains(raw) == ("rowery.example.com", "bulk-mailer.example")


def test_a_folded_signature_is_read_and_tags_ending_in_d_are_not_taken_for_it():
    raw = (
        b"DKIM-Signature: v=1; a=rsa-sha256; bd=wrong.example;\r\n"
        b"\td=rowery.example.com; s=k1;\r\n"
        b"\tb=AAA=\r\n"
        b"From: sklep@rowery.example.com\r\n\r\nTresc\r\n"
    )
    assert dkim_signing_domains(raw) == ("rowery.example.com",)


def test_no_dkim_domains_without_signatures_and_none_from_the_body():
    assert dkim_signing_domains(_signed()) == ()
    assert dkim_signing_domains(_signed("v=1; s=k1; b=AAA=")) == ()  # a signature without d=
    assert dkim_signing_domains(_signed(body="DKIM-Signature: v=1; d=body.example; s=k1")) == ()
