"""The ratings export for the provincial review platform (supervisors and admins)."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, jsonify

from kiosk.actions import writes_on_get
from kiosk.api import bp
from kiosk.api.models import RatingsExport, RatingsQuery
from kiosk.api.operations import api_route
from kiosk.auth import MANAGER_ROLES, staff
from kiosk.context import clock
from kiosk.extensions import db, db_session
from queue_engine.core.dates import MAX_DAYS, DateRange
from queue_engine.hall.audit import audit
from queue_engine.quality.rating_export import FIELDS, ratings_between


@bp.get("/ratings")
@api_route(
    query=RatingsQuery,
    roles=MANAGER_ROLES,
    answers={200: RatingsExport},
    csv=True,
    errors={422: f"invalid_input: a date is not YYYY-MM-DD, to is before from or over {MAX_DAYS} days on"},
)
@writes_on_get
def ratings(query: RatingsQuery) -> Any:
    """Rated visits of a date range (``from``, ``to``; ``format=csv`` for CSV); no contact data.

    Each access is audited.
    """
    first = query.from_ or clock().today()
    period = DateRange(first, query.to or first)  # one range rule: at most MAX_DAYS, 'from' first
    start, end = period.first, period.last
    fmt = query.format
    rows = ratings_between(db_session(), start, end)
    audit(db_session(), clock(), staff().id, "export_ratings", f"{start}..{end}", after={"count": len(rows)})
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
