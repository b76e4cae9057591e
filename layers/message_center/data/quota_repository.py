"""Per-user daily counters, consumed atomically."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from pynamodb.exceptions import UpdateError

from ..domain.ids import utc_now
from .errors import CONDITION_FAILED
from .items import QuotaItem


def consume_translation_quota(limit: int) -> Callable[[str, str, int], bool]:
    """A function that adds characters to a user's day, refusing (False) past ``limit``."""

    def consume(user_id: str, day: str, characters: int) -> bool:
        item = QuotaItem(f"QUOTA#{user_id}#{day}", "TRANSLATION")
        try:
            item.update(
                actions=[
                    QuotaItem.characters.add(characters),
                    QuotaItem.expires_at.set(utc_now() + timedelta(days=2)),
                ],
                condition=QuotaItem.characters.does_not_exist() | (QuotaItem.characters <= limit - characters),
            )
        except UpdateError as error:
            if error.cause_response_code == CONDITION_FAILED:
                return False
            raise
        return True

    return consume
