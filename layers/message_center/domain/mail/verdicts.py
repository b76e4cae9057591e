"""Whether a received e-mail may be delivered at all: SES's receipt verdicts, and authentication
aligned with the domain of the From address (the address the sender is recognised by).

SPF and DKIM on their own say only that *some* domain vouched for the mail: a forger can pass SPF
for their own bounce domain while writing a registered user's address into From. So, as DMARC
does, a pass counts only when it is for the From domain:

- DMARC ``FAIL`` is refused whatever the domain's published policy (``none`` included);
- DMARC ``PASS`` (SES evaluated alignment for the From domain) is accepted;
- otherwise (the domain publishes no DMARC record, or evaluation failed) SPF must pass for an
  envelope sender (MAIL FROM) in the From domain, or DKIM must pass with every signature made by
  the From domain. SES's DKIM verdict does not say which signature verified, so a mail that also
  carries a third party's signature is not taken as aligned.

Alignment is relaxed by subdomain: ``mail.shop.example`` aligns with ``shop.example``. Without the
Public Suffix List, sibling subdomains (``a.shop.example`` / ``b.shop.example``) are not treated
as aligned: a stricter reading, which refuses rather than accepts in doubt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from enum import StrEnum

PASS = "PASS"  # noqa: S105 - a verdict, not a password
FAIL = "FAIL"

_DKIM_DOMAIN = re.compile(r"(?:^|;)\s*d\s*=\s*([^;\s]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Verdicts:
    """SES's receipt verdicts (``PASS``, ``FAIL``, ``GRAY``, ``PROCESSING_FAILED``, ``DISABLED``)."""

    spam: str
    virus: str
    spf: str
    dkim: str
    dmarc: str
    dmarc_policy: str | None = None


class Refusal(StrEnum):
    SPAM = "SPAM"
    VIRUS = "VIRUS"
    DMARC_FAIL = "DMARC_FAIL"
    UNAUTHENTICATED = "UNAUTHENTICATED"  # neither SPF nor DKIM passed
    NOT_ALIGNED = "NOT_ALIGNED"  # SPF or DKIM passed, but not for the From domain


def screen(verdicts: Verdicts) -> Refusal | None:
    """What the verdicts alone refuse, before the mail is read."""
    if verdicts.virus == FAIL:
        return Refusal.VIRUS
    if verdicts.spam == FAIL:
        return Refusal.SPAM
    if verdicts.dmarc == FAIL:
        return Refusal.DMARC_FAIL
    if PASS not in (verdicts.spf, verdicts.dkim):
        return Refusal.UNAUTHENTICATED
    return None


def authenticate_sender(
    verdicts: Verdicts, from_address: str, envelope_sender: str | None, dkim_domains: tuple[str, ...]
) -> Refusal | None:
    """None when the mail is authenticated for the domain of ``from_address``."""
    refusal = screen(verdicts)
    if refusal is not None:
        return refusal
    if verdicts.dmarc == PASS:
        return None
    from_domain = domain_of(from_address)
    if not from_domain:
        return Refusal.NOT_ALIGNED
    spf_aligned = verdicts.spf == PASS and aligned(domain_of(envelope_sender or ""), from_domain)
    dkim_aligned = verdicts.dkim == PASS and bool(dkim_domains) and all(aligned(d, from_domain) for d in dkim_domains)
    return None if spf_aligned or dkim_aligned else Refusal.NOT_ALIGNED


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().strip(".").lower() if "@" in address else ""


def aligned(domain: str, from_domain: str) -> bool:
    """Relaxed alignment by subdomain (see the module docstring)."""
    domain = domain.strip().strip(".").lower()
    if not domain or not from_domain:
        return False
    return domain == from_domain or domain.endswith("." + from_domain) or from_domain.endswith("." + domain)


def dkim_signing_domains(raw: bytes) -> tuple[str, ...]:
    """The ``d=`` domain of every DKIM-Signature header of the raw message (headers only)."""
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw[: 256 * 1024])
    domains = []
    for value in headers.get_all("DKIM-Signature") or ():
        match = _DKIM_DOMAIN.search(" ".join(str(value).split()))
        if match:
            domains.append(match.group(1).lower())
    return tuple(domains)
