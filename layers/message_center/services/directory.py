"""Loading the marketplace directory (users, offers, orders) from a JSON document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, ValidationError

from ..data.directory_repository import DirectoryRepository
from ..domain.models import Language, Marketplace, Offer, Order, User

Login = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[\w.\-]+$")]
EntityId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[\w.\-]+$")]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DirectoryUser(_Entry):
    login: Login
    email: EmailStr
    preferred_language: Language = Field(alias="preferredLanguage")
    business_account: bool = Field(alias="businessAccount")
    marketplace: Marketplace
    avatar_url: str | None = Field(default=None, alias="avatarUrl")


class DirectoryOffer(_Entry):
    id: EntityId
    seller: Login
    marketplace: Marketplace
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class DirectoryOrder(_Entry):
    id: EntityId
    buyer: Login
    seller: Login
    marketplace: Marketplace
    offers: list[EntityId] = Field(default_factory=list)


class DirectoryDocument(_Entry):
    users: list[DirectoryUser] = Field(default_factory=list)
    offers: list[DirectoryOffer] = Field(default_factory=list)
    orders: list[DirectoryOrder] = Field(default_factory=list)


def _reference_problems(document: DirectoryDocument) -> list[str]:
    """Cross-entry checks, one problem per bad entry: unique logins, known sellers, buyers, offers."""
    problems: list[str] = []
    logins: dict[str, int] = {}
    for position, user in enumerate(document.users):
        key = user.login.casefold()
        if key in logins:
            problems.append(f"users[{position}] ({user.login}): login duplicates users[{logins[key]}]")
        else:
            logins[key] = position
    offer_ids = {offer.id for offer in document.offers}
    for position, offer in enumerate(document.offers):
        if offer.seller.casefold() not in logins:
            problems.append(f"offers[{position}] ({offer.id}): seller {offer.seller!r} is not in users")
    for position, order in enumerate(document.orders):
        label = f"orders[{position}] ({order.id})"
        problems.extend(
            f"{label}: {role} {login!r} is not in users"
            for role, login in (("buyer", order.buyer), ("seller", order.seller))
            if login.casefold() not in logins
        )
        if order.buyer.casefold() == order.seller.casefold():
            problems.append(f"{label}: buyer and seller are the same user")
        problems.extend(
            f"{label}: offer {offer_id!r} is not in offers" for offer_id in order.offers if offer_id not in offer_ids
        )
    return problems


class DirectoryDocumentError(ValueError):
    """The document is invalid; ``problems`` names each bad entry."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class IdentityProvider(Protocol):
    """Where users sign in (Cognito): gives the stable user id (``sub``) for a login."""

    def ensure_user(self, login: str, email: str) -> str: ...


@dataclass(frozen=True)
class LoadReport:
    users: int
    offers: int
    orders: int
    user_ids: Mapping[str, str]  # login -> user id


def parse_directory(document: Mapping[str, Any]) -> DirectoryDocument:
    """Validate a directory document, with errors that name the bad entries."""
    try:
        parsed = DirectoryDocument.model_validate(document)
    except ValidationError as error:
        problems = []
        for issue in error.errors():
            location = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in issue["loc"])
            problems.append(f"{location.lstrip('.') or 'document'}: {issue['msg']}")
        raise DirectoryDocumentError(problems) from error
    problems = _reference_problems(parsed)
    if problems:
        raise DirectoryDocumentError(problems)
    return parsed


class DirectoryService:
    """Upserts the directory: loading the same document twice changes nothing."""

    def __init__(self, repository: DirectoryRepository, identities: IdentityProvider) -> None:
        self._repository = repository
        self._identities = identities

    def load(self, document: Mapping[str, Any]) -> LoadReport:
        parsed = parse_directory(document)
        user_ids: dict[str, str] = {}
        for entry in parsed.users:
            user_id = self._identities.ensure_user(entry.login, str(entry.email))
            user_ids[entry.login.casefold()] = user_id
            self._repository.upsert_user(
                User(
                    id=user_id,
                    login=entry.login,
                    email=str(entry.email),
                    preferred_language=entry.preferred_language,
                    business_account=entry.business_account,
                    marketplace=entry.marketplace,
                    avatar_url=entry.avatar_url,
                )
            )
        for offer in parsed.offers:
            self._repository.upsert_offer(
                Offer(
                    id=offer.id,
                    seller_id=user_ids[offer.seller.casefold()],
                    marketplace=offer.marketplace,
                    title=offer.title,
                )
            )
        for order in parsed.orders:
            self._repository.upsert_order(
                Order(
                    id=order.id,
                    buyer_id=user_ids[order.buyer.casefold()],
                    seller_id=user_ids[order.seller.casefold()],
                    marketplace=order.marketplace,
                    offer_ids=tuple(order.offers),
                )
            )
        return LoadReport(
            users=len(parsed.users),
            offers=len(parsed.offers),
            orders=len(parsed.orders),
            user_ids={entry.login: user_ids[entry.login.casefold()] for entry in parsed.users},
        )
