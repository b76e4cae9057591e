"""Integration fixtures: conversations set up through the real API handler."""

from __future__ import annotations

import pytest

from tests.support.api import call


@pytest.fixture
def question_thread(users: dict[str, str]) -> str:
    """Given anna asked rowery-kraków a question about an offer: the thread id."""
    response = call("api_write_new_message", user_id=users["anna_kowalska"])
    assert response.status == 201, response.raw_body
    return response.json["thread"]["id"]
