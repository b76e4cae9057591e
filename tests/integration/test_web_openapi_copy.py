"""The web client's API types are generated from web/openapi.json: it must be what the API serves."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.api import call

WEB_COPY = Path(__file__).resolve().parents[2] / "web" / "openapi.json"


def test_the_web_clients_copy_of_the_openapi_document_is_the_served_one(aws):
    # Given the document the API handler serves
    served = call("api_openapi", user_id=None).json
    # Then the committed copy the web client generates its types from is the same document
    copy = json.loads(WEB_COPY.read_text(encoding="utf-8"))
    assert copy == served, (
        "web/openapi.json is out of date: run `make web-openapi` (it rewrites the copy from the handler) "
        "and rebuild the web client"
    )


def _references(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _references(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _references(value)]
    return []


def test_every_reference_in_the_served_document_resolves(aws):
    # Given the served document (generators and Swagger UI refuse one with a dangling $ref)
    document = call("api_openapi", user_id=None).json
    schemas = document["components"]["schemas"]
    # Then each local schema reference names a schema of the document
    dangling = {ref for ref in _references(document) if ref.removeprefix("#/components/schemas/") not in schemas}
    assert dangling == set()
