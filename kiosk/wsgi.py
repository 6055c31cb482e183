"""The WSGI entry point for gunicorn: ``gunicorn -w 1 --threads 100 kiosk.wsgi:app``."""

from kiosk import create_app

app = create_app()
