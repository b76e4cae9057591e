"""Property-based fuzzing of the API from its served OpenAPI document (schemathesis).

For every operation, valid and invalid requests generated from the document (with random ids and
with the owner's real ones, so that the deep paths run too) go through the gateway's real JWT
authorizer to the handler. Every answer must be one the document declares: no status ≥ 500, no
undocumented status code, content type, header or body.

Seeded and bounded: ``MESSAGE_CENTER_FUZZ_EXAMPLES`` requests per operation (a short run in
``make test``; ``make fuzz`` runs a long one), the same ones on every run.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks

from tests.attack.conftest import OWNER, World
from tests.support.gateway import served_openapi, served_operations
from tests.support.tally import record

EXAMPLES = int(os.environ.get("MESSAGE_CENTER_FUZZ_EXAMPLES", "100"))
OPERATIONS = served_operations()
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@cache
def _schema() -> Any:
    return schemathesis.openapi.from_dict(served_openapi())


def _strategy(operation: Any, real_ids: dict[str, str]) -> st.SearchStrategy[Any]:
    """Valid and invalid requests, with generated path parameters and with the owner's objects."""
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategies.append(operation.as_strategy(generation_mode=mode))
        if real_ids:
            strategies.append(operation.as_strategy(generation_mode=mode, path_parameters=real_ids))
    return st.one_of(strategies)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_fuzzed_requests_get_documented_answers(world: World, request: pytest.FixtureRequest, method: str, path: str):
    api = world.api
    operation = _schema()[path][method]
    real_ids = {name: value for name, value in world.ids.items() if f"{{{name}}}" in path}
    auth = {"Authorization": f"Bearer {world.tokens[OWNER]}"}
    sent = api.requests
    problems: list[str] = []
    found = {"answered 2xx/3xx": 0, "responses ≥ 500": 0, "schema violations": 0}

    @given(case=_strategy(operation, real_ids))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any) -> None:
        crashes = len(api.crashes)
        # When a generated request is sent with the owner's valid token
        response = case.call(app=api.wsgi, headers=auth)
        found["answered 2xx/3xx"] += response.status_code < 400
        # Then the answer is one the document declares
        try:
            case.validate_response(response, checks=CHECKS, headers=auth)
        except (AssertionError, BaseExceptionGroup) as failure:
            found["responses ≥ 500" if response.status_code >= 500 else "schema violations"] += 1
            crash = api.crashes[-1].strip().splitlines()[-1] if len(api.crashes) > crashes else ""
            problems.append(f"{failure}\n{crash}".strip())

    fuzz()
    record(request, "fuzzing", requests=api.requests - sent, **found)
    assert problems == [], "\n\n".join(problems[:5])


def test_the_document_declares_problems_and_the_bearer_scheme():
    # Given the served document
    document = served_openapi()
    # Then every operation needs the bearer token, and answers 401 and 422 as declared bodies
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A Cognito access or ID token",
    }
    assert document["security"] == [{"bearer": []}]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            label = f"{method.upper()} {path}"
            assert {"401", "422"} <= set(responses), label
            for status, response in responses.items():
                if int(status) >= 400 and status != "413":
                    problem = response["content"]["application/problem+json"]["schema"]
                    assert problem == {"$ref": "#/components/schemas/Problem"}, label
            assert any(int(status) < 400 for status in responses), label
    # The success codes are the real ones
    paths = document["paths"]
    assert set(paths["/messaging/messages"]["post"]["responses"]) >= {"201"}
    assert "200" not in paths["/messaging/messages"]["post"]["responses"]
    assert paths["/messaging/messages/{messageId}"]["delete"]["responses"]["204"]["content"] == {}
    assert "Location" in paths["/messaging/message-attachments/{attachmentId}"]["get"]["responses"]["302"]["headers"]
