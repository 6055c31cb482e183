"""Administration (/admin, admins only): the hall's set-up, who may use the system, the audit log.

``setup`` holds the blueprint, the services and the counters; ``hall`` the hall settings page
(on the same blueprint); ``access`` the staff and kiosk devices; ``config`` the audit log and
the configuration file; ``forms`` what they share.
"""

from kiosk.rooms.admin import hall as _hall  # noqa: F401  (its routes join the blueprint)
from kiosk.rooms.admin import notifications as _notifications  # noqa: F401  (likewise)
from kiosk.rooms.admin.setup import bp

__all__ = ["bp"]
