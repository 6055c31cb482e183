"""The record a clerk writes when closing a visit, and the one rule that checks it.

The counter's form and ``POST /api/v1/tickets/<token>/finish`` both hand their raw values to
:meth:`VisitRecord.parse`; ``finish_visit`` checks the record again against the ticket's
service (a complaint needs its responsible department), before it changes anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from queue_engine.core.errors import InvalidFields
from queue_engine.core.kinds import Outcome
from queue_engine.quality.complaints import COMPLAINT_PRIORITIES, DEPARTMENT_LIMIT

FIELD_LIMITS = {"customer_name": 128, "contact": 128, "description": 4000, "notes": 4000}
# The names a form or request body uses, in the order their errors are reported.
RECORD_FIELDS = ("outcome", *FIELD_LIMITS, "department", "priority", "due_date")

NEEDS_DEPARTMENT = "A complaint needs the responsible department. / 投诉须填写责任部门。"


def _too_long(limit: int) -> str:
    return f"At most {limit} characters of text. / 最多 {limit} 个字。"


@dataclass(frozen=True)
class VisitRecord:
    """What the clerk writes down when closing a visit."""

    outcome: str
    customer_name: str = ""
    contact: str = ""
    description: str = ""
    notes: str = ""
    complaint_department: str | None = None
    complaint_priority: str = "normal"
    complaint_due: date | None = None

    @classmethod
    def parse(cls, values: Mapping[str, Any], *, complaint_service: bool = False) -> VisitRecord:
        """A record from raw form or JSON values; InvalidFields names every field refused."""
        errors: dict[str, str] = {}
        texts: dict[str, str] = {}
        for name, limit in {**FIELD_LIMITS, "department": DEPARTMENT_LIMIT}.items():
            value = values.get(name)
            value = "" if value is None else value
            if not isinstance(value, str) or len(value) > limit or "\x00" in value:
                errors[name] = _too_long(limit)
            else:
                texts[name] = value
        due = values.get("due_date")
        if isinstance(due, str) and due:
            try:
                due = date.fromisoformat(due)
            except ValueError:
                errors["due_date"] = "Use a date like 2026-12-31. / 日期格式如 2026-12-31。"
        elif not isinstance(due, date):
            if due not in (None, ""):
                errors["due_date"] = "Use a date like 2026-12-31. / 日期格式如 2026-12-31。"
            due = None
        priority = values.get("priority") or "normal"
        record = cls(
            outcome=values.get("outcome") or "",
            customer_name=texts.get("customer_name", ""),
            contact=texts.get("contact", ""),
            description=texts.get("description", ""),
            notes=texts.get("notes", ""),
            complaint_department=texts.get("department", "").strip() or None,
            complaint_priority=priority if isinstance(priority, str) else "",
            complaint_due=due if isinstance(due, date) else None,
        )
        errors = {**record.problems(complaint_service=complaint_service), **errors}
        if errors:
            raise InvalidFields({name: errors[name] for name in RECORD_FIELDS if name in errors})
        return record

    def problems(self, *, complaint_service: bool = False) -> dict[str, str]:
        """What is wrong with the record, by field name (empty when the hall can use it)."""
        errors: dict[str, str] = {}
        if self.outcome not in set(Outcome):
            errors["outcome"] = f"Choose how the visit ended ({', '.join(Outcome)}). / 请选择办理结果。"
        for name, limit in FIELD_LIMITS.items():
            value = getattr(self, name)
            if not isinstance(value, str) or len(value) > limit or "\x00" in value:
                errors[name] = _too_long(limit)
        department = self.complaint_department
        if department is not None and (not isinstance(department, str) or len(department) > DEPARTMENT_LIMIT):
            errors["department"] = _too_long(DEPARTMENT_LIMIT)
        elif complaint_service and not (department or "").strip():
            errors["department"] = NEEDS_DEPARTMENT
        if self.complaint_priority not in COMPLAINT_PRIORITIES:
            errors["priority"] = f"Priority is one of {', '.join(COMPLAINT_PRIORITIES)}. / 优先级无效。"
        return errors

    def validate(self, *, complaint_service: bool = False) -> None:
        """Refuse a record the hall could not use (InvalidFields naming the fields)."""
        errors = self.problems(complaint_service=complaint_service)
        if errors:
            raise InvalidFields({name: errors[name] for name in RECORD_FIELDS if name in errors})
