"""The caller's own profile: preferred language and unread badge."""

from __future__ import annotations

from ..domain.errors import NotFoundError
from ..domain.models import Language, User
from .ports import Directory


class ProfileService:
    def __init__(self, directory: Directory) -> None:
        self._directory = directory

    def get(self, caller_id: str) -> User:
        user = self._directory.get_user(caller_id)
        if user is None:
            raise NotFoundError("Your account is not in the marketplace directory.", code="USER_NOT_FOUND")
        return user

    def update(self, caller_id: str, *, language: Language | None = None, read_receipts: bool | None = None) -> User:
        """Change the preferences named (the others stay as they are)."""
        user: User | None = self.get(caller_id)
        if language is not None:
            user = self._directory.set_preferred_language(caller_id, language)
        if read_receipts is not None and user is not None:
            user = self._directory.set_read_receipts(caller_id, read_receipts)
        if user is None:
            raise NotFoundError("Your account is not in the marketplace directory.", code="USER_NOT_FOUND")
        return user

    def set_preferred_language(self, caller_id: str, language: Language) -> User:
        user = self._directory.set_preferred_language(caller_id, language)
        if user is None:
            raise NotFoundError("Your account is not in the marketplace directory.", code="USER_NOT_FOUND")
        return user
