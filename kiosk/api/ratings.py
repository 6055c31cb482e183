"""The ratings export for the provincial review platform (supervisors and admins)."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, jsonify, request

from kiosk.api import bp
from kiosk.auth import MANAGER_ROLES, roles_required, staff
from kiosk.context import clock
from kiosk.errors import ApiError
from kiosk.extensions import db
from queue_engine.core.dates import DateRange
from queue_engine.hall.audit import audit
from queue_engine.quality.rating_export import FIELDS, ratings_between


@bp.get("/ratings")
@roles_required(*MANAGER_ROLES)
def ratings() -> Any:
    """Rated visits of a date range (``from``, ``to``; ``format=csv`` for CSV); no contact data."""
    period = DateRange.parse(request.args.get("from"), request.args.get("to"), default=clock().today())
    start, end = period.first, period.last
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise ApiError(422, "invalid_input", "format must be json or csv.")
    rows = ratings_between(db.session, start, end)
    audit(db.session, clock(), staff().id, "export_ratings", f"{start}..{end}", after={"count": len(rows)})
    db.session.commit()
    if fmt == "json":
        return jsonify(
            {"from": start.isoformat(), "to": end.isoformat(), "count": len(rows), "ratings": rows}
        )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=ratings-{start}-{end}.csv"},
    )
