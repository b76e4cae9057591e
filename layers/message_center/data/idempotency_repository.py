"""Clients' Idempotency-Keys (and e-mails' ids): claimed in the send transaction, read on replay."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from ..domain.sending import IdempotencyClaim, IdempotencyRecord
from .items import IdempotencyItem


def idempotency_key(owner_id: str, key: str) -> tuple[str, str]:
    return f"IDEMPOTENCY#{owner_id}#{key}", "IDEMPOTENCY"


def claim_item(claim: IdempotencyClaim, message_id: str, thread_id: str) -> IdempotencyItem:
    """The item a send transaction puts (on condition that it does not exist yet)."""
    return IdempotencyItem(
        *idempotency_key(claim.owner_id, claim.key),
        message_id=message_id,
        thread_id=thread_id,
        request_hash=claim.request_hash,
        expires_at=claim.expires_at,
    )


class IdempotencyRepository:
    def get(self, owner_id: str, key: str) -> IdempotencyRecord | None:
        try:
            item = IdempotencyItem.get(*idempotency_key(owner_id, key), consistent_read=True)
        except DoesNotExist:
            return None
        if item.expires_at is not None and item.expires_at < datetime.now(item.expires_at.tzinfo):
            return None  # TTL deletion lags; an expired key is treated as gone.
        return IdempotencyRecord(item.message_id, item.thread_id, item.request_hash)
