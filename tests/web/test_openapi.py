"""The OpenAPI document at /api/v1/openapi.json: OpenAPI 3 in shape, and true to the routes."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kiosk.api.openapi import build_document

from .helpers import PUBLIC, api_routes

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
def document(client) -> dict[str, Any]:
    """The served document."""
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.is_json
    return response.get_json()


def documented_routes(document: dict[str, Any]) -> set[tuple[str, str]]:
    """(METHOD, /api/v1 path) of every operation the document describes."""
    (server,) = document["servers"]
    return {
        (method.upper(), server["url"] + path)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def refs(node: Any) -> list[str]:
    """Every $ref anywhere in a JSON value."""
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def resolve(document: dict[str, Any], ref: str) -> Any:
    """Follow a local JSON pointer."""
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_the_document_has_the_openapi_3_shape(document):
    assert re.fullmatch(r"3\.\d+\.\d+", document["openapi"])
    assert document["info"]["title"] and document["info"]["version"]
    assert document["paths"]
    schemes = document["components"]["securitySchemes"]
    for path, item in document["paths"].items():
        assert path.startswith("/"), path
        template_params = set(re.findall(r"{([^}]+)}", path))
        for method, operation in item.items():
            assert method in HTTP_METHODS, (path, method)
            assert operation["responses"], (path, method)
            for status in operation["responses"]:
                assert re.fullmatch(r"[1-5]\d\d|[1-5]XX|default", status), (path, method, status)
            path_params = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"}
            assert path_params == template_params, (path, method)
            assert all(p["required"] is True for p in operation.get("parameters", []) if p["in"] == "path")
            for requirement in operation.get("security", []):
                assert set(requirement) <= set(schemes), (path, method)
    for ref in refs(document):
        assert resolve(document, ref) is not None, ref


def test_documented_operations_are_exactly_the_apps_routes(app, document):
    real = api_routes(app)
    documented = documented_routes(document)

    assert documented - real == set(), "documented but not served"
    assert real - documented == set(), "served but not documented"


def test_staff_operations_are_documented_as_needing_credentials(app, document):
    (server,) = document["servers"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            public = (method.upper(), server["url"] + path) in PUBLIC
            assert bool(operation.get("security")) is not public, (method, path)


def test_the_error_schema_matches_the_error_answers(client, document):
    error_schema = document["components"]["schemas"]["Error"]
    answer = client.get("/api/v1/tickets/no-such-token").get_json()

    detail_schema = resolve(document, error_schema["properties"]["error"]["$ref"])

    assert set(answer) == set(error_schema["required"])
    assert set(answer["error"]) == set(detail_schema["required"])


def test_the_ticket_schema_requires_what_the_api_sends(client, document):
    ticket_schema = document["components"]["schemas"]["Ticket"]
    ticket = client.post("/api/v1/tickets", json={"service": "A"}).get_json()

    assert set(ticket_schema["required"]) <= set(ticket)
    assert set(ticket) <= set(ticket_schema["properties"]), "fields sent but not described"
    statuses = set(ticket_schema["properties"]["status"]["enum"])
    assert {"waiting", "called", "serving", "done", "no_show", "cancelled", "expired"} <= statuses


def test_every_refusal_is_documented_with_the_error_shape(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, answer in operation["responses"].items():
                if status.startswith("4"):
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)
            if operation.get("security"):
                assert "401" in operation["responses"], (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "415", "422"} <= set(operation["responses"]), (method, path)


def test_query_arguments_are_documented(document):
    def query(path: str, method: str = "get") -> set[str]:
        parameters = document["paths"][path][method].get("parameters", [])
        return {p["name"] for p in parameters if p["in"] == "query"}

    assert query("/services") == {"lang"}
    assert query("/display") == {"services", "counters"}
    assert query("/stats/daily") == {"date", "min_ratings"}
    assert query("/ratings") == {"from", "to", "format"}
    assert query("/tickets/{token}/rating", "post") == {"via"}


def test_a_route_without_a_declaration_stops_the_document(app_factory):
    app = app_factory()
    app.add_url_rule("/api/v1/undeclared", "undeclared", lambda: {})

    with app.app_context(), pytest.raises(RuntimeError, match="/api/v1/undeclared .* no @api_route"):
        build_document(app)


def test_path_ids_are_documented_within_the_columns_range(document):
    # Beyond 2^31 - 1 an id names nothing (404); the document says so, and schemathesis tries it.
    ids = [
        p["schema"]
        for item in document["paths"].values()
        for operation in item.values()
        for p in operation.get("parameters", [])
        if p["in"] == "path" and p["schema"].get("type") == "integer"
    ]
    assert ids and all(schema == {"type": "integer", "minimum": 0, "maximum": 2**31 - 1} for schema in ids)
