"""The SMS gateway's inbound replies under /api/v1/sms (the gateway authenticates with QMS_SMS_TOKEN)."""

from __future__ import annotations

import hmac
import os
from typing import Any

from flask import jsonify, request

from kiosk.actions import commit
from kiosk.api import bp
from kiosk.api.models.sms import InboundAnswer, InboundSms
from kiosk.api.operations import api_route
from kiosk.context import clock
from kiosk.errors import error_body
from kiosk.extensions import db_session
from queue_engine.notify.visitors import inbound_sms

TOKEN_HEADER = "X-QMS-SMS-Token"


@bp.post("/sms/inbound")
@api_route(
    body=InboundSms,
    answers={200: InboundAnswer},
    errors={
        403: "forbidden: no or a wrong X-QMS-SMS-Token (or QMS_SMS_TOKEN is not set)",
        422: "invalid_input",
    },
)
def sms_inbound(body: InboundSms) -> Any:
    """A visitor's reply passed on by the gateway; STOP, 退订 or TD: the number gets nothing more.

    The gateway sends the header `X-QMS-SMS-Token` with the value of `QMS_SMS_TOKEN`.
    """
    expected = os.environ.get("QMS_SMS_TOKEN", "")
    given = request.headers.get(TOKEN_HEADER, "")
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        return error_body("forbidden", "The SMS gateway's token is missing or wrong.", 403)
    stopped = inbound_sms(db_session(), clock().now(), body.phone, body.text)
    commit()
    return jsonify({"stopped": stopped})
