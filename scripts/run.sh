#!/usr/bin/env bash
# Serve MLRange: the web server, a Celery worker and beat. The worker and beat are restarted
# whenever they exit; the run ends only when the web server exits or on Ctrl-C / SIGTERM, and
# then everything started here stops. Each process runs in its own session (setsid), so that
# stopping it also stops what it started (pool processes, sandboxed kernels).
set -uo pipefail
cd "$(dirname "$0")/.."
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
VAR_DIR=${MLRANGE_VAR_DIR:-var}
GRACE=10 # seconds a process gets to stop after SIGTERM before its whole session is killed
# Prometheus multiprocess mode: the web server and the worker's pool processes keep their
# metrics in files of one folder, so /metrics (with METRICS_ENABLED=1) adds up all of them.
# Emptied at each start: the values of an earlier run's processes are not this run's.
export PROMETHEUS_MULTIPROC_DIR=${PROMETHEUS_MULTIPROC_DIR:-$(realpath -m "$VAR_DIR/metrics")}
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -name '*.db' -delete

# SIGTERM to a process started with setsid, then SIGKILL to whatever is left of its session.
stop_session() {
  local pid=$1 sleeper
  if kill -TERM "$pid" 2>/dev/null; then
    sleep "$GRACE" &
    sleeper=$!
    wait -n "$pid" "$sleeper" 2>/dev/null
    kill "$sleeper" 2>/dev/null
    wait "$sleeper" 2>/dev/null
  fi
  kill -KILL -- "-$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

# Run "$@" and start it again each time it exits: after 2 s, doubling up to 30 s while it keeps
# failing within a minute. SIGTERM stops it and ends the loop.
supervise() {
  local name=$1 stopping=0 delay=2 child sleeper started status
  shift
  trap 'stopping=1' TERM
  while :; do
    started=$SECONDS
    setsid "$@" &
    child=$!
    echo "  $name started (pid $child)"
    ((stopping)) || wait "$child" 2>/dev/null # silences bash's "Killed" notice: the echo below says it
    status=$?
    if ((stopping)); then
      stop_session "$child"
      exit 0
    fi
    kill -KILL -- "-$child" 2>/dev/null # what it left behind
    ((SECONDS - started >= 60)) && delay=2
    echo "  $name exited with status $status; restarting in $delay s"
    sleep "$delay" &
    sleeper=$!
    ((stopping)) || wait "$sleeper"
    kill "$sleeper" 2>/dev/null
    wait "$sleeper" 2>/dev/null
    ((stopping)) && exit 0
    delay=$((delay * 2 > 30 ? 30 : delay * 2))
  done
}

supervisors=()
web=""
stop() {
  trap - INT TERM
  local pid
  for pid in "${supervisors[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  [[ -n $web ]] && stop_session "$web"
  wait "${supervisors[@]}" 2>/dev/null
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM

supervise worker .venv/bin/celery -A mlrange worker -Q default,labs \
  --concurrency "${WORKER_CONCURRENCY:-2}" --loglevel INFO &
supervisors+=($!)
supervise beat .venv/bin/celery -A mlrange beat --loglevel WARNING \
  --schedule "$VAR_DIR/celerybeat-schedule" &
supervisors+=($!)
setsid .venv/bin/python manage.py runserver "$HOST:$PORT" --noreload &
web=$!
echo
echo "  MLRange is starting at http://$HOST:$PORT/  (API docs: http://$HOST:$PORT/api/docs/)"
echo "  A worker or beat that stops is restarted; the run ends when the web server stops."
echo "  Press Ctrl-C to stop the web server, the worker and beat."
echo
wait "$web"
status=$?
echo "  The web server exited with status $status; stopping the worker and beat."
stop
exit "$status"
