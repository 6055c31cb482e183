"""The command line (``flask --app kiosk ...``): set-up, staff, the day's close, configuration, history."""

from kiosk.cli.commands import init_app

__all__ = ["init_app"]
