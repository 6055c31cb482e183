"""The OpenAPI 3 description of /api/v1; a test checks it against the real routes both ways."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from kiosk.api import bp

STAFF = [{"bearer": []}, {"cookie": []}]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    str(status): {"$ref": f"#/components/responses/{name}"}
    for status, name in (
        (401, "Unauthorized"),
        (403, "Forbidden"),
        (404, "NotFound"),
        (409, "Conflict"),
        (422, "Invalid"),
    )
}


def _body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "required": bool(required),
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": required,
                    "properties": properties,
                }
            }
        },
    }


TOKEN = {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}
COUNTER_ID = {"name": "counter_id", "in": "path", "required": True, "schema": {"type": "integer"}}
TEXT = {"type": "string"}
SCORE = {"type": "integer", "minimum": 1, "maximum": 5}


def _staff_ticket_action(summary: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "security": STAFF,
        "parameters": [TOKEN],
        "responses": {"200": _json(_ref("Ticket"), "The ticket after the action"), **ERRORS},
    }
    if body:
        operation["requestBody"] = body
    return {"post": operation}


def _counter_action(summary: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "security": STAFF,
        "parameters": [COUNTER_ID],
        "responses": {"200": _json(_ref("Counter"), "The counter after the action"), **ERRORS},
    }
    if body:
        operation["requestBody"] = body
    return {"post": operation}


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": TEXT, "message": TEXT},
            }
        },
    },
    "Service": {
        "type": "object",
        "required": ["code", "prefix", "name", "waiting", "estimated_wait_s"],
        "properties": {
            "code": TEXT,
            "prefix": TEXT,
            "name": TEXT,
            "names": {"type": "object", "additionalProperties": TEXT},
            "category": {"type": "string", "enum": ["inquiry", "transaction", "complaint", "other"]},
            "active": {"type": "boolean"},
            "waiting": {"type": "integer"},
            "estimated_wait_s": {"type": "integer"},
        },
    },
    "Ticket": {
        "type": "object",
        "required": [
            "token",
            "number",
            "service",
            "status",
            "position",
            "estimated_wait_s",
            "counter",
            "issued_at",
        ],
        "properties": {
            "token": TEXT,
            "number": {"type": "string", "example": "A012"},
            "service": TEXT,
            "service_name": {"type": "object", "additionalProperties": TEXT},
            "status": {
                "type": "string",
                "enum": ["waiting", "called", "serving", "done", "no_show", "cancelled", "expired"],
            },
            "position": {
                "type": ["integer", "null"],
                "description": "1 = next to be called; null unless waiting",
            },
            "ahead": {"type": ["integer", "null"], "description": "waiting tickets called before this one"},
            "estimated_wait_s": {"type": ["integer", "null"]},
            "counter": {
                "oneOf": [
                    {"type": "null"},
                    {"type": "object", "properties": {"id": {"type": "integer"}, "name": TEXT}},
                ]
            },
            "issued_at": {"type": "string", "format": "date-time"},
            "called_at": {"type": ["string", "null"], "format": "date-time"},
            "started_at": {"type": ["string", "null"], "format": "date-time"},
            "finished_at": {"type": ["string", "null"], "format": "date-time"},
            "call_count": {"type": "integer"},
            "priority": {"type": "boolean"},
            "lang": TEXT,
            "business_date": {"type": "string", "format": "date"},
            "transferred_from": {"type": ["string", "null"]},
            "rated": {"type": "boolean"},
            "can_rate": {"type": "boolean"},
        },
    },
    "Call": {
        "type": "object",
        "properties": {
            "number": TEXT,
            "service": TEXT,
            "counter": TEXT,
            "counter_id": {"type": "integer"},
            "called_at": {"type": "string", "format": "date-time"},
            "call_count": {"type": "integer"},
            "status": TEXT,
        },
    },
    "Display": {
        "type": "object",
        "required": ["now_serving", "recent", "waiting"],
        "properties": {
            "hall": {"type": "object", "additionalProperties": TEXT},
            "now_serving": {"type": "array", "items": _ref("Call")},
            "recent": {"type": "array", "items": _ref("Call")},
            "waiting": {"type": "object", "additionalProperties": {"type": "integer"}},
            "generated_at": {"type": "string", "format": "date-time"},
        },
    },
    "Counter": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "name": TEXT,
            "state": {"type": "string", "enum": ["closed", "open", "paused"]},
            "state_since": {"type": ["string", "null"], "format": "date-time"},
            "services": {"type": "array", "items": TEXT},
            "staff": {"type": ["string", "null"]},
            "ticket": {"type": ["object", "null"]},
            "handover_note": TEXT,
        },
    },
    "DailySummary": {
        "type": "object",
        "description": "One business day's report: volumes (issued, served, no_show, cancelled, "
        "transferred_out, expired, open), wait/walk/service_time (count, mean_s, median_s, p90_s; whole "
        "seconds), over_target, satisfaction; per service (by the service issued for), hour, clerk and "
        "counter; complaints raised at the day's visits.",
        "required": ["date", "totals", "services", "hours", "staff"],
        "properties": {
            "date": {"type": "string", "format": "date"},
            "from": {"type": "string", "format": "date"},
            "to": {"type": "string", "format": "date"},
            "days": {"type": "integer"},
            "filters": {"type": "object"},
            "totals": {"type": "object"},
            "services": {"type": "array", "items": {"type": "object"}},
            "hours": {"type": "array", "items": {"type": "object"}},
            "staff": {"type": "array", "items": {"type": "object"}},
            "counters": {"type": "array", "items": {"type": "object"}},
            "complaints": {
                "type": "object",
                "properties": {k: {"type": "integer"} for k in ("opened", "resolved", "open", "overdue")},
            },
        },
    },
}

PATHS: dict[str, Any] = {
    "/services": {
        "get": {
            "summary": "Open services with waiting counts and the estimated wait for a new ticket",
            "parameters": [{"name": "lang", "in": "query", "schema": TEXT}],
            "responses": {
                "200": _json({"type": "array", "items": _ref("Service")}, "Services in kiosk order")
            },
        }
    },
    "/tickets": {
        "post": {
            "summary": "Take a number (rate-limited per client address: QMS_TICKET_RATE_LIMIT)",
            "requestBody": _body(
                {"service": TEXT, "lang": TEXT, "priority": {"type": "boolean"}}, ["service"]
            ),
            "responses": {
                "201": _json(_ref("Ticket"), "The new ticket"),
                "404": ERRORS["404"],
                "409": ERRORS["409"],
                "422": ERRORS["422"],
                "429": {"$ref": "#/components/responses/RateLimited"},
            },
        }
    },
    "/tickets/{token}": {
        "get": {
            "summary": "The ticket as its holder sees it",
            "parameters": [TOKEN],
            "responses": {"200": _json(_ref("Ticket"), "The ticket"), "404": ERRORS["404"]},
        }
    },
    "/tickets/{token}/cancel": {
        "post": {
            "summary": "The holder cancels a waiting ticket",
            "parameters": [TOKEN],
            "responses": {
                "200": _json(_ref("Ticket"), "The cancelled ticket"),
                "404": ERRORS["404"],
                "409": ERRORS["409"],
            },
        }
    },
    "/tickets/{token}/rating": {
        "post": {
            "summary": "The holder rates the finished visit, once, within 7 days",
            "parameters": [TOKEN],
            "requestBody": _body(
                {"score": SCORE, "comment": TEXT, "efficiency": SCORE, "level": SCORE, "attitude": SCORE},
                ["score"],
            ),
            "responses": {
                "201": _json({"type": "object"}, "The rating was stored"),
                "404": ERRORS["404"],
                "409": ERRORS["409"],
                "422": ERRORS["422"],
            },
        }
    },
    "/display": {
        "get": {
            "summary": "What a hall board shows",
            "parameters": [
                {"name": "services", "in": "query", "schema": TEXT, "description": "e.g. A,B"},
                {"name": "counters", "in": "query", "schema": TEXT, "description": "e.g. 1,2"},
            ],
            "responses": {"200": _json(_ref("Display"), "The board's content")},
        }
    },
    "/counters": {
        "get": {
            "summary": "Counters the caller may use, with state and held ticket",
            "security": STAFF,
            "responses": {"200": _json({"type": "array", "items": _ref("Counter")}, "Counters"), **ERRORS},
        }
    },
    "/counters/{counter_id}/call-next": {
        "post": {
            "summary": "Call the next visitor (opens a closed counter for the caller)",
            "security": STAFF,
            "parameters": [COUNTER_ID],
            "responses": {
                "200": _json(
                    {"type": "object", "properties": {"ticket": _ref("Ticket")}}, "The called ticket"
                ),
                "204": {"description": "Nobody is waiting"},
                **ERRORS,
            },
        }
    },
    "/counters/{counter_id}/call": {
        "post": {
            "summary": "Call one waiting ticket out of order, with a reason",
            "security": STAFF,
            "parameters": [COUNTER_ID],
            "requestBody": _body(
                {"ticket": {"type": "string", "description": "number or token"}, "reason": TEXT},
                ["ticket", "reason"],
            ),
            "responses": {
                "200": _json(
                    {"type": "object", "properties": {"ticket": _ref("Ticket")}}, "The called ticket"
                ),
                **ERRORS,
            },
        }
    },
    "/counters/{counter_id}/open": _counter_action("Go on duty at a counter"),
    "/counters/{counter_id}/pause": _counter_action("Pause calling"),
    "/counters/{counter_id}/resume": _counter_action("Resume calling"),
    "/counters/{counter_id}/close": _counter_action(
        "Go off duty with a handover note", _body({"handover_note": TEXT}, [])
    ),
    "/tickets/{token}/recall": _staff_ticket_action("Announce the called ticket again"),
    "/tickets/{token}/no-show": _staff_ticket_action("The called visitor did not come"),
    "/tickets/{token}/start": _staff_ticket_action("The visitor is at the counter"),
    "/tickets/{token}/finish": _staff_ticket_action(
        "Close the visit with its record",
        _body(
            {
                "outcome": {"type": "string", "enum": ["resolved", "referred", "follow_up"]},
                "customer_name": {"type": "string", "maxLength": 128},
                "contact": {"type": "string", "maxLength": 128},
                "description": {"type": "string", "maxLength": 4000},
                "notes": {"type": "string", "maxLength": 4000},
                "department": {"type": "string", "maxLength": 128, "description": "opens a complaint"},
                "priority": {"type": "string", "enum": ["low", "normal", "high", "urgent"]},
                "due_date": {"type": "string", "format": "date"},
            },
            ["outcome"],
        ),
    ),
    "/tickets/{token}/transfer": _staff_ticket_action(
        "Send the visitor to another service (same number, keeps its place)",
        _body({"service": TEXT}, ["service"]),
    ),
    "/stats/daily": {
        "get": {
            "summary": "The daily summary (supervisors and admins)",
            "security": STAFF,
            "parameters": [
                {"name": "date", "in": "query", "schema": {"type": "string", "format": "date"}},
                {
                    "name": "min_ratings",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1},
                    "description": "ratings a clerk or counter needs to be ranked (QMS_RANKING_MIN_RATINGS)",
                },
            ],
            "responses": {"200": _json(_ref("DailySummary"), "The summary"), **ERRORS},
        }
    },
    "/ratings": {
        "get": {
            "summary": "Rated visits for the provincial review platform (no contact data)",
            "description": "Fields: visit_number, business_date, service, counter, clerk_id, issued_at, "
            "called_at, finished_at, rated_at, level (1-5), level_name, efficiency, service_level, "
            "attitude, comment, channel. format=csv gives the same fields as CSV columns.",
            "security": STAFF,
            "parameters": [
                {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
                {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
                {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv"]}},
            ],
            "responses": {
                "200": {
                    "description": "The ratings",
                    "content": {
                        "application/json": {"schema": {"type": "object"}},
                        "text/csv": {"schema": {"type": "string"}},
                    },
                },
                **ERRORS,
            },
        }
    },
    "/openapi.json": {
        "get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1"}}}
    },
}


def _error_response(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Service hall queue API",
        "version": "1.0.0",
        "description": "Take-a-number, calling and statistics for a service hall. "
        'Errors are {"error": {"code", "message"}} with a 4xx status.',
    },
    "servers": [{"url": "/api/v1"}],
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "flask --app kiosk issue-token USERNAME",
            },
            "cookie": {
                "type": "apiKey",
                "in": "cookie",
                "name": "session",
                "description": "staff login; send X-CSRFToken",
            },
        },
        "responses": {
            "Unauthorized": _error_response("Not logged in / no valid token"),
            "Forbidden": _error_response("The caller's role or counter does not allow this"),
            "NotFound": _error_response("Unknown service, ticket or counter"),
            "Conflict": _error_response("The queue's state refuses the action (e.g. counter_busy)"),
            "Invalid": _error_response("The input is malformed or out of range"),
            "RateLimited": _error_response("Too many tickets from this address"),
        },
    },
}


@bp.get("/openapi.json")
def openapi() -> Any:
    """The OpenAPI document."""
    return jsonify(DOCUMENT)
