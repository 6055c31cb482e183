"""Every /api/v1 exchange a web test makes, checked against the served OpenAPI document.

``ContractClient`` is the test client of the apps the web fixtures build. For each request under
/api/v1 it finds the operation by method and path template and checks, with JSON Schema Draft
2020-12:
- the answer's status is documented for that operation, and its JSON body fits that status's
  schema (an answer with no documented content has no body);
- a JSON body the app accepted (2xx) fits the operation's request body schema: the document
  must not refuse what the app takes. Refused bodies are the bad-input tests' business.
A path no operation matches must answer a 404 or 405 error. A mismatch fails the test.
"""

from __future__ import annotations

import json
import re
import weakref
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCUMENT_PATH = "/api/v1/openapi.json"
API_PREFIX = "/api/v1/"


class ContractViolation(AssertionError):
    """An /api/v1 exchange the OpenAPI document does not describe."""


@dataclass
class Contract:
    """The served document of one app, ready to check exchanges against."""

    document: dict[str, Any]
    _validators: dict[str, Draft202012Validator] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.server = self.document["servers"][0]["url"]
        self.templates = [(path, self._pattern(path, item)) for path, item in self.document["paths"].items()]
        # Literal paths before templated ones, so /counters wins over /counters/{id} and the like.
        self.templates.sort(key=lambda entry: entry[0].count("{"))
        self.registry: Registry[Any] = Registry().with_resource(
            "urn:openapi", Resource.from_contents(self.document, default_specification=DRAFT202012)
        )

    @staticmethod
    def _pattern(path: str, item: dict[str, Any]) -> re.Pattern[str]:
        kinds = {
            p["name"]: p["schema"].get("type")
            for operation in item.values()
            for p in operation.get("parameters", [])
            if p["in"] == "path"
        }

        # re.split leaves literal text at even places and parameter names at odd ones.
        parts = re.split(r"\{(\w+)\}", path)
        regex = "".join(
            re.escape(part) if i % 2 == 0 else (r"\d+" if kinds.get(part) == "integer" else "[^/]+")
            for i, part in enumerate(parts)
        )
        return re.compile(regex + "$")

    def operation(self, method: str, path: str) -> tuple[str | None, dict[str, Any] | None]:
        """The path template a request path falls under, and its operation for the method."""
        relative = path.removeprefix(self.server)
        for template, pattern in self.templates:
            if pattern.match(relative):
                return template, self.document["paths"][template].get(method.lower())
        return None, None

    def problems(self, schema: dict[str, Any], value: Any) -> str | None:
        """Why a JSON value does not fit a schema of the document, or None."""
        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            wrapped = {**_relative(schema), "$schema": "https://json-schema.org/draft/2020-12/schema"}
            self._validators[key] = Draft202012Validator(
                wrapped, registry=self.registry, format_checker=Draft202012Validator.FORMAT_CHECKER
            )
        error = best_match(self._validators[key].iter_errors(value))
        if error is None:
            return None
        where = "/".join(str(part) for part in error.absolute_path) or "(the whole body)"
        return f"at {where}: {error.message}"

    def check(self, method: str, path: str, sent: Any, sent_json: bool, response: Any) -> None:
        """Raise ContractViolation when the exchange is not what the document says."""
        template, operation = self.operation(method, path)
        status = response.status_code
        what = f"{method} {path} answered {status}"
        if operation is None:
            if status not in (404, 405):
                where = "no documented path" if template is None else f"no {method} on {template}"
                raise ContractViolation(f"{what}, but the document has {where}.")
            self._check_body(what, _error_schema(), response)
            return
        responses = operation["responses"]
        if str(status) not in responses:
            raise ContractViolation(
                f"{what}: an undocumented status for {method} {template} "
                f"(documented: {', '.join(responses)})."
            )
        if 200 <= status < 300:
            self._check_request(what, str(template), operation, sent, sent_json)
        documented = responses[str(status)].get("content")
        if not documented:
            if response.get_data():
                raise ContractViolation(f"{what} with a body, but the document gives that answer none.")
            return
        if response.mimetype != "application/json":
            if response.mimetype not in documented:
                raise ContractViolation(f"{what} as {response.mimetype}, not documented for that status.")
            return
        if "application/json" not in documented:
            raise ContractViolation(f"{what} as JSON, not documented for that status.")
        self._check_body(what, documented["application/json"]["schema"], response)

    def _check_request(
        self, what: str, template: str, operation: dict[str, Any], sent: Any, sent_json: bool
    ) -> None:
        body = operation.get("requestBody")
        if not sent_json:
            if body is not None and body.get("required"):
                raise ContractViolation(f"{what} to no JSON body, but the document requires one.")
            return
        if body is None:
            raise ContractViolation(f"{what} to a JSON body, but {template} documents none.")
        problem = self.problems(body["content"]["application/json"]["schema"], sent)
        if problem:
            raise ContractViolation(f"{what} to a body the document refuses, {problem}. Body: {sent!r}"[:600])

    def _check_body(self, what: str, schema: dict[str, Any], response: Any) -> None:
        if not response.is_json:
            raise ContractViolation(f"{what} as {response.mimetype}, but the document says JSON.")
        problem = self.problems(schema, response.get_json())
        if problem:
            raise ContractViolation(
                f"{what} with a body the document does not describe, {problem}. "
                f"Body: {response.get_data(as_text=True)[:300]}"
            )


def _relative(schema: Any) -> Any:
    """A schema whose #/components/... references point into the registered document."""
    if isinstance(schema, dict):
        return {
            key: ("urn:openapi" + value if key == "$ref" and value.startswith("#/") else _relative(value))
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_relative(value) for value in schema]
    return schema


def _error_schema() -> dict[str, Any]:
    return {"$ref": "#/components/schemas/Error"}


_contracts: weakref.WeakKeyDictionary[Flask, Contract] = weakref.WeakKeyDictionary()


def contract_of(app: Flask) -> Contract:
    """The contract of an app, read once from its own /api/v1/openapi.json."""
    if app not in _contracts:
        answer = FlaskClient(app).get(DOCUMENT_PATH)
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
        _contracts[app] = Contract(answer.get_json())
    return _contracts[app]


def hold_to(app: Flask, document: dict[str, Any]) -> None:
    """Check an app's exchanges against another document (to prove the checks catch drift)."""
    _contracts[app] = Contract(document)


class ContractClient(FlaskClient):
    """A test client that holds every /api/v1 exchange to the OpenAPI document."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = super().open(*args, **kwargs)
        request = response.request
        if request.path.startswith(API_PREFIX) and request.path != DOCUMENT_PATH:
            sent, sent_json = _sent_body(request)
            contract_of(self.application).check(request.method, request.path, sent, sent_json, response)
        return response


def _sent_body(request: Any) -> tuple[Any, bool]:
    """The JSON body a request carried (re-read from its input), and whether it had one."""
    stream = request.environ.get("wsgi.input")
    if stream is None or not hasattr(stream, "seek"):
        return None, False
    stream.seek(0)
    raw = stream.read()
    if not raw or not request.is_json:
        return None, False
    try:
        return json.loads(raw), True
    except ValueError:
        return None, False
