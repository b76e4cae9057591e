"""The record of each received e-mail's outcome (delivered or refused, with the reason)."""

from __future__ import annotations

from datetime import timedelta

from pynamodb.exceptions import DoesNotExist

from ..domain.ids import utc_now
from .items import InboundMailItem

RETENTION = timedelta(days=90)


class InboundMailRepository:
    def record(self, mail_id: str, outcome: str, detail: str | None, message_id: str | None) -> None:
        now = utc_now()
        InboundMailItem(
            f"INBOUND#{mail_id}",
            "INBOUND",
            outcome=outcome,
            detail=detail,
            message_id=message_id,
            received_at=now,
            expires_at=now + RETENTION,
        ).save()

    def outcome(self, mail_id: str) -> tuple[str, str | None] | None:
        try:
            item = InboundMailItem.get(f"INBOUND#{mail_id}", "INBOUND", consistent_read=True)
        except DoesNotExist:
            return None
        return item.outcome, item.detail
