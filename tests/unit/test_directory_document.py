"""The directory document (message_center.services.directory): validation and the idempotent load."""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from message_center.domain.models import Language, Marketplace, Offer, Order, User
from message_center.services.directory import (
    DirectoryDocument,
    DirectoryDocumentError,
    DirectoryService,
    LoadReport,
    parse_directory,
)

from tests.unit.conftest import NetworkAccessError

DIRECTORY_FILE = Path(__file__).resolve().parents[1] / "support" / "directory.json"

Mutation = Callable[[dict[str, Any]], None]


@pytest.fixture
def document() -> dict[str, Any]:
    """A fresh copy of the valid test directory (5 users, 2 offers, 3 orders)."""
    return json.loads(DIRECTORY_FILE.read_text(encoding="utf-8"))


def _problems_of(document: dict[str, Any]) -> list[str]:
    with pytest.raises(DirectoryDocumentError) as excinfo:
        parse_directory(document)
    problems = excinfo.value.problems
    assert problems, "an invalid document must report at least one problem"
    assert str(excinfo.value) == "\n".join(problems)
    return problems


# --- in-memory fakes ----------------------------------------------------------------------------


class RecordingRepository:
    """Records every upsert and keeps the latest record per id (like the real upserting table)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []
        self.users: dict[str, User] = {}
        self.offers: dict[str, Offer] = {}
        self.orders: dict[str, Order] = {}

    def upsert_user(self, user: User) -> None:
        self.calls.append(("user", user))
        self.users[user.id] = user

    def upsert_offer(self, offer: Offer) -> None:
        self.calls.append(("offer", offer))
        self.offers[offer.id] = offer

    def upsert_order(self, order: Order) -> None:
        self.calls.append(("order", order))
        self.orders[order.id] = order


class FakeIdentityProvider:
    """Gives each login a stable id on first sight ("sub-0001", ...), like a user pool would."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.ids: dict[str, str] = {}

    def ensure_user(self, login: str, email: str) -> str:
        self.calls.append((login, email))
        if login not in self.ids:
            self.ids[login] = f"sub-{len(self.ids) + 1:04d}"
        return self.ids[login]


EXPECTED_USER_IDS = {
    "anna_kowalska": "sub-0001",
    "rowery-kraków": "sub-0002",
    "jan_prywatny": "sub-0003",
    "petra_svobodova": "sub-0004",
    "olena_k": "sub-0005",
}


# --- parse_directory: valid documents -----------------------------------------------------------


def test_parse_directory_accepts_the_test_directory(document: dict[str, Any]) -> None:
    # Given the valid test directory
    # When it is parsed
    parsed = parse_directory(document)
    # Then every entry is there, with enums and aliases resolved
    assert isinstance(parsed, DirectoryDocument)
    assert [user.login for user in parsed.users] == list(EXPECTED_USER_IDS)
    assert parsed.users[1].preferred_language is Language.PL
    assert parsed.users[1].business_account is True
    assert parsed.users[4].preferred_language is Language.UK
    assert parsed.users[4].marketplace is Marketplace.SK
    assert [offer.id for offer in parsed.offers] == ["pl-offer-1001", "pl-offer-2001"]
    assert parsed.offers[0].title == 'Rower miejski 28"'
    assert [(order.id, order.buyer, order.seller) for order in parsed.orders] == [
        ("order-anna-1", "anna_kowalska", "rowery-kraków"),
        ("order-petra-1", "petra_svobodova", "rowery-kraków"),
        ("order-anna-jan", "anna_kowalska", "jan_prywatny"),
    ]
    assert parsed.orders[1].marketplace is Marketplace.CZ


def test_parse_directory_accepts_an_empty_document() -> None:
    parsed = parse_directory({})
    assert (parsed.users, parsed.offers, parsed.orders) == ([], [], [])


def test_parse_directory_resolves_references_case_insensitively(document: dict[str, Any]) -> None:
    # Given references that spell logins with a different case (incl. non-ASCII letters)
    document["offers"][0]["seller"] = "ROWERY-KRAKÓW"
    document["orders"][0]["buyer"] = "Anna_Kowalska"
    # When the document is parsed
    parsed = parse_directory(document)
    # Then it is valid
    assert parsed.offers[0].seller == "ROWERY-KRAKÓW"
    assert parsed.orders[0].buyer == "Anna_Kowalska"


# --- parse_directory: invalid documents ---------------------------------------------------------


def _duplicate_login(doc: dict[str, Any]) -> None:
    doc["users"].insert(1, dict(doc["users"][0], login="ANNA_Kowalska", email="other@example.com"))


def _unknown_offer_seller(doc: dict[str, Any]) -> None:
    doc["offers"][1]["seller"] = "ghost_seller"


def _unknown_order_buyer(doc: dict[str, Any]) -> None:
    doc["orders"][0]["buyer"] = "x"


def _unknown_order_seller(doc: dict[str, Any]) -> None:
    doc["orders"][2]["seller"] = "nobody"


def _buyer_is_seller(doc: dict[str, Any]) -> None:
    doc["orders"][1]["buyer"] = "Rowery-Kraków"  # the seller, spelled with another case


def _unknown_offer_in_order(doc: dict[str, Any]) -> None:
    doc["orders"][2]["offers"] = ["pl-offer-2001", "pl-offer-9999"]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_duplicate_login, "users[1] (ANNA_Kowalska): login duplicates users[0]"),
        (_unknown_offer_seller, "offers[1] (pl-offer-2001): seller 'ghost_seller' is not in users"),
        (_unknown_order_buyer, "orders[0] (order-anna-1): buyer 'x' is not in users"),
        (_unknown_order_seller, "orders[2] (order-anna-jan): seller 'nobody' is not in users"),
        (_buyer_is_seller, "orders[1] (order-petra-1): buyer and seller are the same user"),
        (_unknown_offer_in_order, "orders[2] (order-anna-jan): offer 'pl-offer-9999' is not in offers"),
    ],
    ids=[
        "duplicate-login-case-insensitive",
        "unknown-seller-in-offer",
        "unknown-buyer-in-order",
        "unknown-seller-in-order",
        "order-buyer-is-seller",
        "unknown-offer-in-order",
    ],
)
def test_parse_directory_names_the_entry_with_a_broken_reference(
    document: dict[str, Any], mutate: Mutation, expected: str
) -> None:
    # Given the valid directory with one broken cross-reference
    mutate(document)
    # When it is parsed
    problems = _problems_of(document)
    # Then exactly one problem is reported, naming the bad entry and what is wrong with it
    assert len(problems) == 1
    assert expected in problems[0]


def test_parse_directory_reports_each_broken_reference_as_its_own_problem(document: dict[str, Any]) -> None:
    # Given a directory with three broken references in three entries
    _duplicate_login(document)
    _unknown_offer_seller(document)
    _unknown_order_buyer(document)
    # When it is parsed
    problems = _problems_of(document)
    # Then each bad entry is its own problem (the CLI prints one line per problem), located at the entry
    assert problems == [
        "users[1] (ANNA_Kowalska): login duplicates users[0]",
        "offers[1] (pl-offer-2001): seller 'ghost_seller' is not in users",
        "orders[0] (order-anna-1): buyer 'x' is not in users",
    ]


@pytest.mark.parametrize(
    ("mutate", "location", "message_part"),
    [
        (lambda d: d["users"][1].update(marketplace="ebay-pl"), "users[1].marketplace", "allegro-pl"),
        (lambda d: d["offers"][0].update(marketplace="allegro-de"), "offers[0].marketplace", "allegro-pl"),
        (
            lambda d: d["users"][1].update(preferredLanguage="de"),
            "users[1].preferredLanguage",
            "'pl', 'en' or 'uk'",
        ),
        (lambda d: d["users"][1].update(email="not-an-email"), "users[1].email", "not a valid email address"),
        (lambda d: d["users"][3].update(email="petra@"), "users[3].email", "not a valid email address"),
        (
            lambda d: d["users"][1].update(nickname="rowery"),
            "users[1].nickname",
            "Extra inputs are not permitted",
        ),
        (lambda d: d["offers"][1].update(price=100), "offers[1].price", "Extra inputs are not permitted"),
        (
            lambda d: d["orders"][0].update(status="PAID"),
            "orders[0].status",
            "Extra inputs are not permitted",
        ),
        (lambda d: d.update(sellers=[]), "sellers", "Extra inputs are not permitted"),
        (lambda d: d["users"][0].pop("email"), "users[0].email", "Field required"),
        (
            lambda d: d["users"][2].update(login="jan prywatny"),
            "users[2].login",
            "String should match pattern",
        ),
        (lambda d: d["offers"][0].update(title="   "), "offers[0].title", "at least 1 character"),
    ],
    ids=[
        "bad-user-marketplace",
        "bad-offer-marketplace",
        "bad-preferred-language",
        "bad-email-no-at",
        "bad-email-no-domain",
        "unknown-user-field",
        "unknown-offer-field",
        "unknown-order-field",
        "unknown-top-level-field",
        "missing-email",
        "login-with-space",
        "blank-title",
    ],
)
def test_parse_directory_names_the_bad_field(
    document: dict[str, Any], mutate: Mutation, location: str, message_part: str
) -> None:
    # Given the valid directory with one bad field
    mutate(document)
    # When it is parsed
    problems = _problems_of(document)
    # Then the single problem is located at that field (by its JSON name) and says what is wrong
    assert len(problems) == 1
    assert problems[0].startswith(f"{location}: ")
    assert message_part in problems[0]


def test_parse_directory_reports_every_bad_field(document: dict[str, Any]) -> None:
    # Given two bad fields in two different users
    document["users"][0]["marketplace"] = "ebay"
    document["users"][4]["preferredLanguage"] = "ru"
    # When it is parsed
    problems = _problems_of(document)
    # Then both are reported, in document order
    assert [problem.split(":", 1)[0] for problem in problems] == [
        "users[0].marketplace",
        "users[4].preferredLanguage",
    ]


def test_email_validation_does_not_need_the_network(document: dict[str, Any]) -> None:
    # Given that this suite refuses every socket and name lookup
    with pytest.raises(NetworkAccessError):
        socket.create_connection(("example.com", 443))
    with pytest.raises(NetworkAccessError):
        socket.socket()
    # When a document full of e-mail addresses is parsed
    parsed = parse_directory(document)
    # Then the e-mails validate offline
    assert [str(user.email) for user in parsed.users][:2] == [
        "anna.kowalska@example.com",
        "sklep@rowery.example.com",
    ]


# --- DirectoryService.load ----------------------------------------------------------------------


def test_load_upserts_users_with_ids_from_the_identity_provider(document: dict[str, Any]) -> None:
    # Given an empty repository and identity provider
    repository, identities = RecordingRepository(), FakeIdentityProvider()
    # When the test directory is loaded
    DirectoryService(repository, identities).load(document)  # type: ignore[arg-type]
    # Then every user was ensured in the identity provider with login and e-mail
    assert identities.calls == [
        ("anna_kowalska", "anna.kowalska@example.com"),
        ("rowery-kraków", "sklep@rowery.example.com"),
        ("jan_prywatny", "jan@example.org"),
        ("petra_svobodova", "petra@example.net"),
        ("olena_k", "olena@example.com"),
    ]
    # And stored under the id the identity provider gave, with every attribute
    assert list(repository.users.values()) == [
        User(
            id="sub-0001",
            login="anna_kowalska",
            email="anna.kowalska@example.com",
            preferred_language=Language.PL,
            business_account=False,
            marketplace=Marketplace.PL,
            avatar_url=None,
        ),
        User(
            id="sub-0002",
            login="rowery-kraków",
            email="sklep@rowery.example.com",
            preferred_language=Language.PL,
            business_account=True,
            marketplace=Marketplace.PL,
            avatar_url=None,
        ),
        User(
            id="sub-0003",
            login="jan_prywatny",
            email="jan@example.org",
            preferred_language=Language.PL,
            business_account=False,
            marketplace=Marketplace.PL,
        ),
        User(
            id="sub-0004",
            login="petra_svobodova",
            email="petra@example.net",
            preferred_language=Language.EN,
            business_account=False,
            marketplace=Marketplace.CZ,
        ),
        User(
            id="sub-0005",
            login="olena_k",
            email="olena@example.com",
            preferred_language=Language.UK,
            business_account=False,
            marketplace=Marketplace.SK,
        ),
    ]


def test_load_resolves_offer_sellers_and_order_participants_to_user_ids(document: dict[str, Any]) -> None:
    # Given an empty repository and identity provider
    repository, identities = RecordingRepository(), FakeIdentityProvider()
    # When the test directory is loaded
    DirectoryService(repository, identities).load(document)  # type: ignore[arg-type]
    # Then offers carry their seller's user id
    assert list(repository.offers.values()) == [
        Offer(id="pl-offer-1001", seller_id="sub-0002", marketplace=Marketplace.PL, title='Rower miejski 28"'),
        Offer(id="pl-offer-2001", seller_id="sub-0003", marketplace=Marketplace.PL, title="Używany aparat"),
    ]
    # And orders carry their buyer's and seller's user ids and their offers
    assert list(repository.orders.values()) == [
        Order(
            id="order-anna-1",
            buyer_id="sub-0001",
            seller_id="sub-0002",
            marketplace=Marketplace.PL,
            offer_ids=("pl-offer-1001",),
        ),
        Order(
            id="order-petra-1",
            buyer_id="sub-0004",
            seller_id="sub-0002",
            marketplace=Marketplace.CZ,
            offer_ids=("pl-offer-1001",),
        ),
        Order(
            id="order-anna-jan",
            buyer_id="sub-0001",
            seller_id="sub-0003",
            marketplace=Marketplace.PL,
            offer_ids=("pl-offer-2001",),
        ),
    ]
    # And users are upserted before the offers and orders that refer to them
    assert [kind for kind, _ in repository.calls] == ["user"] * 5 + ["offer"] * 2 + ["order"] * 3


def test_load_reports_counts_and_login_to_id_map(document: dict[str, Any]) -> None:
    # Given an empty repository and identity provider
    service = DirectoryService(RecordingRepository(), FakeIdentityProvider())  # type: ignore[arg-type]
    # When the test directory is loaded
    report = service.load(document)
    # Then the report counts each kind and maps every login to its id
    assert report == LoadReport(users=5, offers=2, orders=3, user_ids=EXPECTED_USER_IDS)


def test_load_resolves_references_spelled_with_another_case(document: dict[str, Any]) -> None:
    # Given an offer and an order naming users with a different case
    document["offers"][0]["seller"] = "ROWERY-KRAKÓW"
    document["orders"][1]["buyer"] = "Petra_Svobodova"
    repository = RecordingRepository()
    # When the directory is loaded
    DirectoryService(repository, FakeIdentityProvider()).load(document)  # type: ignore[arg-type]
    # Then they resolve to the same user ids
    assert repository.offers["pl-offer-1001"].seller_id == "sub-0002"
    assert repository.orders["order-petra-1"].buyer_id == "sub-0004"


def test_loading_twice_is_idempotent(document: dict[str, Any]) -> None:
    # Given the directory loaded once
    repository, identities = RecordingRepository(), FakeIdentityProvider()
    service = DirectoryService(repository, identities)  # type: ignore[arg-type]
    first = service.load(copy.deepcopy(document))
    state_after_first = (dict(repository.users), dict(repository.offers), dict(repository.orders))
    calls_of_first = list(repository.calls)
    # When the same document is loaded again
    second = service.load(copy.deepcopy(document))
    # Then the same ids are used, the same records are written, and the stored state is unchanged
    assert second == first
    assert dict(second.user_ids) == EXPECTED_USER_IDS
    assert identities.ids == EXPECTED_USER_IDS  # no new identity was created
    assert repository.calls[len(calls_of_first) :] == calls_of_first
    assert (repository.users, repository.offers, repository.orders) == state_after_first
    assert (len(repository.users), len(repository.offers), len(repository.orders)) == (5, 2, 3)


def test_load_of_an_invalid_document_writes_nothing(document: dict[str, Any]) -> None:
    # Given a directory with a broken reference in its last order
    _unknown_offer_in_order(document)
    repository, identities = RecordingRepository(), FakeIdentityProvider()
    # When it is loaded
    with pytest.raises(DirectoryDocumentError) as excinfo:
        DirectoryService(repository, identities).load(document)  # type: ignore[arg-type]
    # Then it is refused before any identity or record is created
    assert "orders[2] (order-anna-jan): offer 'pl-offer-9999' is not in offers" in str(excinfo.value)
    assert identities.calls == []
    assert repository.calls == []
