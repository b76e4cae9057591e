"""The authorization matrix: every operation of the served OpenAPI document × every kind of caller.

Callers: the owner of the objects, the other participant of her thread, a stranger, and requests
without a valid token (none, signed by another key, expired, another issuer, another audience).
Each request names the owner's real objects and, again, random ids of the same kinds. What must
hold: a bad token never reaches the API; for anyone but the owner "not yours" answers exactly like
"does not exist" (or succeeds where the object is shared with them); no one else's private value
appears in an answer; and a refused request changes nothing that is stored.

The requests are the routes' sample events (``events/api_*.json``) with the ids swapped, so a new
route is covered once it has a sample event; a new kind of id needs an object in ``world``.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.attack.conftest import INTERLOCUTOR, OWNER, STRANGER, World, Writes, comparable, stored
from tests.support.api import load_event
from tests.support.gateway import Answer, served_operations
from tests.support.tally import record

EVENTS = Path(__file__).resolve().parents[2] / "events"
OPERATIONS = served_operations()
# Ids the other participant of a thread shares with its owner once they are in the thread.
SHARED_IN_A_THREAD = frozenset({"threadId", "messageId", "attachmentId"})
# What only the owner may see, by who is looking.
UNSHARED_SECRETS = {STRANGER: None, INTERLOCUTOR: ("deviceId", "user id", "e-mail")}  # None: every secret
BAD_TOKENS: dict[str, dict[str, Any] | None] = {
    "no token": None,
    "forged: signed by another key": {"signed_by": "forger"},
    "expired": {"expires_in": -300},
    "another issuer": {"issuer": "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Elsewhere"},
    "another audience": {"audience": "another-app-client"},
}


@cache
def _samples() -> dict[str, dict[str, Any]]:
    """routeKey → the route's sample API Gateway event."""
    events = (load_event(path.stem) for path in sorted(EVENTS.glob("api_*.json")))
    return {event["routeKey"]: event for event in events}


def _parameters(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


def _send(world: World, method: str, path: str, ids: dict[str, str], token: str | None) -> Answer:
    """The route's sample request, with ``ids`` in its path, as the holder of ``token``."""
    sample = _samples()[f"{method} {path}"]
    target = path
    for name in _parameters(path):
        target = target.replace(f"{{{name}}}", ids.get(name) or sample["pathParameters"][name])
    if sample.get("rawQueryString"):
        target += f"?{sample['rawQueryString']}"
    raw = sample.get("body") or ""
    body = base64.b64decode(raw) if sample.get("isBase64Encoded") else raw.encode()
    headers = {name: sample["headers"][name] for name in ("content-type", "accept") if name in sample["headers"]}
    return world.api.request(method, target, token=token, headers=headers, body=body)


def _leaked(world: World, viewer: str, answer: Answer) -> list[str]:
    names = UNSHARED_SECRETS[viewer] or tuple(world.secrets)
    text = answer.text()
    return [name for name in names if world.secrets[name] in text]


def test_every_operation_has_a_sample_request():
    # A route without a sample event would silently drop out of the matrix.
    missing = [f"{m} {p}" for m, p in OPERATIONS if f"{m} {p}" not in _samples()]
    assert missing == []
    assert len(OPERATIONS) >= 18


def test_a_bad_token_never_reaches_the_api(world: World, request: pytest.FixtureRequest):
    # Given the owner's objects, and tokens that claim to be the owner but are not valid
    api, owner_id = world.api, world.users[OWNER]
    before, invocations, sent = stored(), api.invocations, api.requests
    tokens = {case: None if flaw is None else api.token(owner_id, OWNER, **flaw) for case, flaw in BAD_TOKENS.items()}
    problems = []
    # When each is presented on every operation, for the owner's real objects and for random ids
    for method, path in OPERATIONS:
        for case, token in tokens.items():
            for ids in (world.ids, world.random_ids()):
                answer = _send(world, method, path, ids, token)
                # Then the gateway refuses it, the same way every time
                if (answer.status, answer.body) != (401, b'{"message":"Unauthorized"}'):
                    problems.append(f"{method} {path}, {case}: {answer.status} {answer.body[:200]!r}")
    # And the API never ran, and nothing changed
    if api.invocations != invocations:
        problems.append(f"the API ran {api.invocations - invocations} times")
    if stored() != before:
        problems.append("stored data changed")
    record(request, "authorization matrix", requests=api.requests - sent, leaks=len(problems))
    assert problems == [], "\n".join(problems)


def test_not_yours_answers_like_does_not_exist(world: World, request: pytest.FixtureRequest):
    api = world.api
    sent = api.requests
    problems: list[str] = []
    writes = Writes()
    # Deleting comes last: until then every operation finds the owner's objects in place.
    for method, path in sorted(OPERATIONS, key=lambda operation: operation[0] == "DELETE"):
        problems.extend(f"{method} {path}: {problem}" for problem in _matrix_row(world, writes, method, path))
    record(request, "authorization matrix", requests=api.requests - sent, leaks=len(problems))
    assert problems == [], "\n".join(problems)


def _matrix_row(world: World, writes: Writes, method: str, path: str) -> list[str]:
    """One operation asked by each kind of caller, for random ids and for the owner's objects."""
    ids = [name for name in _parameters(path) if name.endswith("Id")]
    unknown = [name for name in ids if name not in world.ids]
    if unknown:
        return [f"the world has no object for {unknown}: add one to the world fixture"]
    problems: list[str] = []
    answers: dict[tuple[str, str], Answer] = {}
    # When the stranger, the other participant and the owner each ask for random ids, then for
    # the owner's real objects
    writes.since_last_look()
    for login in (STRANGER, INTERLOCUTOR, OWNER):
        for kind, chosen in (("random", world.random_ids()), ("real", world.ids)):
            answer = _send(world, method, path, chosen, world.tokens[login])
            answers[login, kind] = answer
            written = writes.since_last_look()
            if answer.status >= 400 and written:
                problems.append(f"{login} ({kind} ids) was refused ({answer.status}) but wrote {written}")
            if login != OWNER and (leaks := _leaked(world, login, answer)):
                problems.append(f"{login} ({kind} ids) was shown the owner's {leaks}")
            if answer.status >= 500:
                problems.append(f"{login} ({kind} ids): {answer.status}")
    if not ids:
        return problems
    not_found = comparable(answers[STRANGER, "random"])
    # Then the stranger cannot tell the owner's objects from ids that do not exist
    if not_found[0] < 400:
        problems.append(f"random ids were accepted: {not_found}")
    if comparable(answers[STRANGER, "real"]) != not_found:
        problems.append(f"the stranger can tell: {comparable(answers[STRANGER, 'real'])} vs {not_found}")
    # The other participant either reaches what the thread shares, or cannot tell either
    interlocutor = comparable(answers[INTERLOCUTOR, "real"])
    shared = set(ids) <= SHARED_IN_A_THREAD
    if interlocutor != comparable(answers[INTERLOCUTOR, "random"]) and not (shared and interlocutor[0] < 400):
        problems.append(f"the other participant can tell: {interlocutor} vs {not_found}")
    # "Does not exist" is the same answer whoever asks, and the owner's real objects are found
    if comparable(answers[OWNER, "random"]) != not_found:
        problems.append(f"the owner's not-found differs: {comparable(answers[OWNER, 'random'])} vs {not_found}")
    if comparable(answers[OWNER, "real"]) == not_found:
        problems.append("the owner's real objects were not found: the matrix proves nothing")
    return problems
