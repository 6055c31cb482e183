#!/usr/bin/env bash
# Two server processes (ports 5001, 5002) on PostgreSQL + Redis, with nginx on 127.0.0.1:8080.
# Usage: QMS_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \
#        QMS_REDIS_URL=redis://127.0.0.1:6379/0 QMS_SECRET_KEY=... deploy/run-two.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
: "${QMS_DATABASE_URL:?set QMS_DATABASE_URL to a PostgreSQL URL}"
: "${QMS_REDIS_URL:?set QMS_REDIS_URL (the processes share events through it)}"
: "${QMS_SECRET_KEY:?set QMS_SECRET_KEY (all processes must share it)}"
export QMS_DATABASE_URL QMS_REDIS_URL QMS_SECRET_KEY
export QMS_PROXY_COUNT=1  # nginx is in front: trust one X-Forwarded-For hop
# No per-thread cache of freed memory in glibc: with a thread per WebSocket it grows all day (as the Makefile).
export GLIBC_TUNABLES=${GLIBC_TUNABLES:-glibc.malloc.tcache_count=0}
threads=${QMS_THREADS:-1000}
# QMS_ASYNC_MODE=gevent: gunicorn's gevent worker, a greenlet per connection (no thread per socket).
export QMS_ASYNC_MODE=${QMS_ASYNC_MODE:-threading}
if [ "$QMS_ASYNC_MODE" = gevent ]; then
  worker=(--worker-class gevent --worker-connections "${QMS_CONNECTIONS:-12000}")
else
  # Each open WebSocket holds one thread; keep threads (and connections) above the screens.
  worker=(--worker-class gthread --threads "$threads" --worker-connections "$((threads + 100))")
fi
cd "$root"
.venv/bin/flask --app kiosk init-db
.venv/bin/flask --app kiosk seed-demo
pids=()
for port in 5001 5002; do
  .venv/bin/gunicorn "${worker[@]}" --workers 1 --no-control-socket \
    --bind "127.0.0.1:$port" kiosk.wsgi:app &
  pids+=($!)
done
sed "s|QMS_ROOT|$root|" deploy/nginx.conf > /tmp/qms-nginx.conf
nginx -c /tmp/qms-nginx.conf -g "daemon off;" &
pids+=($!)
trap 'kill "${pids[@]}" 2>/dev/null' EXIT INT TERM
echo "Serving on http://127.0.0.1:8080 (processes on 5001 and 5002)"
wait
