"""Users, offers and orders of the marketplace directory."""

from __future__ import annotations

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from ..domain.ids import utc_now
from ..domain.models import Language, Marketplace, Offer, Order, User
from ..domain.relay_addresses import new_alias
from .errors import CONDITION_FAILED
from .items import AliasItem, EmailItem, LoginItem, OfferItem, OrderItem, UserItem


def _user_key(user_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", "PROFILE"


def _login_key(login: str) -> tuple[str, str]:
    # Logins are unique regardless of case, as on the marketplace.
    return f"LOGIN#{login.casefold()}", "LOGIN"


def _email_key(address: str) -> tuple[str, str]:
    return f"EMAIL#{address.strip().casefold()}", "EMAIL"


def _to_user(item: UserItem) -> User:
    return User(
        id=item.pk.removeprefix("USER#"),
        login=item.login,
        email=item.email,
        preferred_language=Language(item.preferred_language),
        business_account=item.business_account,
        marketplace=Marketplace(item.marketplace),
        avatar_url=item.avatar_url,
        unread_threads=max(int(item.unread_threads or 0), 0),
        mail_alias=item.mail_alias,
        read_receipts=item.read_receipts is not False,
    )


class DirectoryRepository:
    """Reads and upserts directory entries; every read is a ``GetItem``."""

    def __init__(self, connection: Connection) -> None:
        """``connection``: the items' shared connection (``bind_table`` returns it)."""
        self._connection = connection

    def get_user(self, user_id: str) -> User | None:
        try:
            return _to_user(UserItem.get(*_user_key(user_id)))
        except DoesNotExist:
            return None

    def get_user_id_by_login(self, login: str) -> str | None:
        try:
            return LoginItem.get(*_login_key(login)).user_id
        except DoesNotExist:
            return None

    def get_user_by_login(self, login: str) -> User | None:
        user_id = self.get_user_id_by_login(login)
        return self.get_user(user_id) if user_id else None

    def get_offer(self, offer_id: str) -> Offer | None:
        try:
            item = OfferItem.get(f"OFFER#{offer_id}", "OFFER")
        except DoesNotExist:
            return None
        return Offer(id=offer_id, seller_id=item.seller_id, marketplace=Marketplace(item.marketplace), title=item.title)

    def get_order(self, order_id: str) -> Order | None:
        try:
            item = OrderItem.get(f"ORDER#{order_id}", "ORDER")
        except DoesNotExist:
            return None
        return Order(
            id=order_id,
            buyer_id=item.buyer_id,
            seller_id=item.seller_id,
            marketplace=Marketplace(item.marketplace),
            offer_ids=tuple(str(offer_id) for offer_id in item.offer_ids or ()),
        )

    def upsert_user(self, user: User) -> None:
        """Create or update a profile, keeping its badge counter, and its login and e-mail lookups."""
        previous = self.get_user(user.id)
        pk, sk = _user_key(user.id)
        item = UserItem(pk, sk)
        item.update(
            actions=[
                UserItem.login.set(user.login),
                UserItem.email.set(user.email),
                UserItem.preferred_language.set(user.preferred_language.value),
                UserItem.business_account.set(user.business_account),
                UserItem.marketplace.set(user.marketplace.value),
                UserItem.avatar_url.set(user.avatar_url) if user.avatar_url else UserItem.avatar_url.remove(),
                UserItem.unread_threads.set(UserItem.unread_threads | 0),
                UserItem.updated_at.set(utc_now()),
            ]
        )
        LoginItem(*_login_key(user.login), user_id=user.id).save()
        EmailItem(*_email_key(user.email), user_id=user.id).save()
        if previous is not None and _email_key(previous.email) != _email_key(user.email):
            EmailItem(*_email_key(previous.email)).delete(condition=EmailItem.user_id == user.id)

    def get_user_by_email(self, address: str) -> User | None:
        """The user whose registered e-mail address this is (compared case-insensitively)."""
        try:
            user_id = EmailItem.get(*_email_key(address)).user_id
        except DoesNotExist:
            return None
        return self.get_user(user_id)

    def set_preferred_language(self, user_id: str, language: Language) -> User | None:
        pk, sk = _user_key(user_id)
        try:
            item = UserItem(pk, sk)
            item.update(
                actions=[UserItem.preferred_language.set(language.value), UserItem.updated_at.set(utc_now())],
                condition=UserItem.pk.exists(),
            )
        except UpdateError as error:
            if error.cause_response_code == CONDITION_FAILED:
                return None
            raise
        return _to_user(item)

    def set_read_receipts(self, user_id: str, enabled: bool) -> User | None:
        """Turn sending (and seeing) read receipts on or off; None if the user is unknown."""
        pk, sk = _user_key(user_id)
        try:
            item = UserItem(pk, sk)
            item.update(
                actions=[UserItem.read_receipts.set(enabled), UserItem.updated_at.set(utc_now())],
                condition=UserItem.pk.exists(),
            )
        except UpdateError as error:
            if error.cause_response_code == CONDITION_FAILED:
                return None
            raise
        return _to_user(item)

    def upsert_offer(self, offer: Offer) -> None:
        OfferItem(
            f"OFFER#{offer.id}",
            "OFFER",
            seller_id=offer.seller_id,
            marketplace=offer.marketplace.value,
            title=offer.title,
        ).save()

    def upsert_order(self, order: Order) -> None:
        OrderItem(
            f"ORDER#{order.id}",
            "ORDER",
            buyer_id=order.buyer_id,
            seller_id=order.seller_id,
            marketplace=order.marketplace.value,
            offer_ids=list(order.offer_ids),
        ).save()

    def get_user_by_alias(self, alias: str) -> User | None:
        try:
            user_id = AliasItem.get(f"ALIAS#{alias}", "ALIAS").user_id
        except DoesNotExist:
            return None
        return self.get_user(user_id)

    def ensure_mail_alias(self, user: User) -> str:
        """The user's masked-address alias, created on first use (unique, never reassigned)."""
        for _ in range(3):
            if user.mail_alias:
                return user.mail_alias
            alias = new_alias()
            pk, sk = _user_key(user.id)
            try:
                with TransactWrite(connection=self._connection) as transaction:
                    transaction.save(
                        AliasItem(f"ALIAS#{alias}", "ALIAS", user_id=user.id),
                        condition=AliasItem.pk.does_not_exist(),
                    )
                    transaction.update(
                        UserItem(pk, sk),
                        actions=[UserItem.mail_alias.set(alias)],
                        condition=UserItem.pk.exists() & UserItem.mail_alias.does_not_exist(),
                    )
                return alias
            except TransactWriteError:
                # Someone gave this user an alias first, or (rarely) the alias is taken: re-read.
                user = self.get_user(user.id) or user
        raise RuntimeError("could not allocate a mail alias")
