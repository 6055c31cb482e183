"""Web Push for the phone page: the hall's VAPID keys (generated into ``instance/``) and the channel.

On unless ``QMS_WEB_PUSH`` (environment or config) says ``0``; off under TESTING unless the
config turns it on.  ``QMS_VAPID_KEY_FILE`` (default ``instance/vapid_private.pem``) holds the
key pair; ``QMS_VAPID_SUBJECT`` (default ``mailto:admin@localhost``) is the contact the push
services see.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from queue_engine.notify.channels_push import configure_push, push_public_key

OFF = ("0", "false", "off", "no")


def push_wanted(app: Flask) -> bool:
    """Whether this app offers Web Push."""
    flag = os.environ.get("QMS_WEB_PUSH")
    default = flag.strip().lower() not in OFF if flag is not None else not app.testing
    return bool(app.config.get("QMS_WEB_PUSH", default))


def start_push(app: Flask) -> str:
    """Make (or read) the VAPID keys and turn the push channel on; the public key ("" when off)."""
    if not push_wanted(app):
        return ""
    if push_public_key():
        return push_public_key()
    key_file = Path(
        app.config.get("QMS_VAPID_KEY_FILE")
        or os.environ.get("QMS_VAPID_KEY_FILE")
        or Path(app.instance_path) / "vapid_private.pem"
    )
    subject = str(
        app.config.get("QMS_VAPID_SUBJECT") or os.environ.get("QMS_VAPID_SUBJECT") or "mailto:admin@localhost"
    )
    try:
        return configure_push(key_file, subject)
    except OSError:
        app.logger.exception("Web Push is off: the VAPID key file %s cannot be made or read", key_file)
        return ""
