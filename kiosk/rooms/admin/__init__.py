"""Administration (/admin, admins only): the hall's set-up, who may use the system, the audit log.

``setup`` holds the blueprint and the services, counters and hall settings; ``access`` the staff
and kiosk devices; ``config`` the audit log and the configuration file; ``forms`` what they share.
"""

from kiosk.rooms.admin.setup import bp

__all__ = ["bp"]
