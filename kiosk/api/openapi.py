"""The OpenAPI 3.1 document of /api/v1, generated from the routes' ``@api_route`` declarations.

Paths and path parameters come from Flask's own URL rules, bodies, query arguments and answers
from the models in kiosk.api.models; a route under /api/v1 without a declaration is an error.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, current_app, jsonify
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode
from werkzeug.routing import Rule

from kiosk.api import bp
from kiosk.api.models import Error
from kiosk.api.operations import Operation, api_route, operation_of
from queue_engine.core.numbers import MAX_ID

REF = "#/components/schemas/{model}"
STAFF_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"cookie": []}]
# ``<int:>`` takes ASCII digits up to the id columns' range (kiosk.security.IdConverter); beyond: 404.
CONVERTER_SCHEMAS = {
    "int": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
    "string": {"type": "string"},
}
PARAMETER = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")

SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "flask --app kiosk issue-token USERNAME"},
    "cookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
        "description": "staff login; send X-CSRFToken with every POST",
    },
}


class _Generator(GenerateJsonSchema):
    """Pydantic's schemas without a title on every field."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


class _Schemas:
    """JSON schemas of the models, their definitions gathered as the document's components."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def of(self, kind: Any, mode: JsonSchemaMode) -> dict[str, Any]:
        """The schema of a type, as a $ref when it is a named model."""
        schema = TypeAdapter(kind).json_schema(ref_template=REF, mode=mode, schema_generator=_Generator)
        for name, definition in schema.pop("$defs", {}).items():
            self._add(name, definition)
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            self._add(kind.__name__, schema)
            return {"$ref": REF.format(model=kind.__name__)}
        return schema

    def _add(self, name: str, schema: dict[str, Any]) -> None:
        if self.components.setdefault(name, schema) != schema:
            raise RuntimeError(f"Two different models are named {name} in the API.")


def _parameters(rule: Rule, operation: Operation, schemas: _Schemas) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {
            "name": match["name"],
            "in": "path",
            "required": True,
            "schema": CONVERTER_SCHEMAS.get(match["converter"] or "string", {"type": "string"}),
        }
        for match in PARAMETER.finditer(rule.rule)
    ]
    if operation.query is not None:
        model = schemas.of(operation.query, "validation")
        query = schemas.components.pop(operation.query.__name__) if "$ref" in model else model
        for name, schema in query["properties"].items():
            parameter = {"name": name, "in": "query", "required": name in query.get("required", [])}
            if "description" in schema:
                parameter["description"] = schema.pop("description")
            schema.pop("title", None)
            if schema.get("type") == "array":
                parameter.update(style="form", explode=False)
            parameters.append({**parameter, "schema": schema})
    return parameters


def _answer(status: int, kind: Any, operation: Operation, schemas: _Schemas) -> dict[str, Any]:
    if kind is None:
        return {"description": "No content"}
    schema = schemas.of(kind, "serialization")
    description = getattr(kind, "__doc__", None) if isinstance(kind, type) else None
    content: dict[str, Any] = {"application/json": {"schema": schema}}
    if operation.csv:
        content["text/csv"] = {"schema": {"type": "string"}}
    return {"description": (description or "The answer").strip().splitlines()[0], "content": content}


def _operation(rule: Rule, operation: Operation, schemas: _Schemas) -> dict[str, Any]:
    described: dict[str, Any] = {
        "operationId": rule.endpoint.removeprefix("api."),
        "summary": operation.summary,
    }
    if operation.description:
        described["description"] = operation.description
    if operation.roles:
        described["security"] = STAFF_SECURITY
        described["x-roles"] = list(operation.roles)
    parameters = _parameters(rule, operation, schemas)
    if parameters:
        described["parameters"] = parameters
    if operation.body is not None:
        body_schema = schemas.of(operation.body, "validation")
        required = bool(operation.body.model_json_schema().get("required"))
        described["requestBody"] = {
            "required": required,
            "content": {"application/json": {"schema": body_schema}},
        }
    responses = {
        str(status): _answer(status, kind, operation, schemas) for status, kind in operation.answers.items()
    }
    error = schemas.of(Error, "serialization")
    for status, codes in operation.error_statuses().items():
        responses[str(status)] = {"description": codes, "content": {"application/json": {"schema": error}}}
    described["responses"] = responses
    return described


def build_document(app: Flask) -> dict[str, Any]:
    """The document for an app's /api/v1 routes."""
    schemas = _Schemas()
    schemas.of(Error, "serialization")
    prefix = bp.url_prefix or ""
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(prefix + "/"):
            continue
        operation = operation_of(app.view_functions[rule.endpoint])
        if operation is None:
            raise RuntimeError(f"{rule.rule} ({rule.endpoint}) has no @api_route declaration.")
        path = PARAMETER.sub(r"{\g<name>}", rule.rule.removeprefix(prefix))
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, operation, schemas)
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Service hall queue API",
            "version": "1.0.0",
            "description": "Take-a-number, calling and statistics for a service hall. "
            'Errors are {"error": {"code", "message"}} with a 4xx status. '
            "Generated from the API's models (kiosk/api/models/).",
        },
        "servers": [{"url": prefix}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.components.items())),
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def document() -> dict[str, Any]:
    """The current app's document, built once."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if "openapi" not in app.extensions:
        app.extensions["openapi"] = build_document(app)
    return app.extensions["openapi"]  # type: ignore[no-any-return]


@bp.get("/openapi.json")
@api_route(answers={200: dict[str, Any]})
def openapi() -> Any:
    """This document (OpenAPI 3.1)."""
    return jsonify(document())
