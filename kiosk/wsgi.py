"""The WSGI entry point for gunicorn: ``gunicorn -w 1 --threads 100 kiosk.wsgi:app``.

With ``QMS_ASYNC_MODE=gevent``: ``gunicorn -k gevent -w 1 --worker-connections 12000
kiosk.wsgi:app``.  gunicorn's gevent worker monkey-patches the standard library before it
imports this module, so every lock, socket and sleep of the app (and psycopg's waiting, chosen
when psycopg is imported) is a greenlet's; a gevent app in an unpatched worker would block on
its first socket, so it is refused here.
"""

from kiosk import create_app
from kiosk.serving import check_worker

app = create_app()
check_worker(app)
