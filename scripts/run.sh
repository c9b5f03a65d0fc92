#!/usr/bin/env bash
# Start the web server and a Celery worker together; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
pids=()
stop() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop INT TERM EXIT
.venv/bin/celery -A mlrange worker -Q default,labs --concurrency "${WORKER_CONCURRENCY:-2}" --loglevel INFO &
pids+=($!)
.venv/bin/celery -A mlrange beat --loglevel WARNING --schedule var/celerybeat-schedule &
pids+=($!)
.venv/bin/python manage.py runserver "$HOST:$PORT" --noreload &
pids+=($!)
echo
echo "  MLRange is starting at http://$HOST:$PORT/  (API docs: http://$HOST:$PORT/api/docs/)"
echo "  Press Ctrl-C to stop the web server and the worker."
echo
wait -n
