#!/usr/bin/env bash
# The long-running processes of `make run` (API, RQ worker, rq-scheduler, rq-dashboard, and Redis), supervised,
# against services that are already set up and migrated (scripts/run.sh does that first). The fault
# suite (tests/faults/test_kills.py) starts exactly this script, with its own ports and databases.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
export PATH="$VENV/bin:$PATH"

# A port already served (a second `make run` of this checkout, another program) would make the API or
# the dashboard exit at once and be restarted for ever: say so and stop instead, as for PostgreSQL and
# Redis (scripts/services.sh). `serve.sh --check-ports` does only this.
check_port() { ! port_taken "$API_HOST" "$1" || die "port $API_HOST:$1 is taken by another server; set $2"; }
check_port "$API_PORT" API_PORT
check_port "$DASHBOARD_PORT" DASHBOARD_PORT
[[ "${1:-}" == --check-ports ]] && exit 0

# Every process is supervised: one that dies comes back by itself, the rest keep running.
. "$ROOT/scripts/supervise.sh"
WORKER_NAME="${WORKER_NAME:-$(hostname)-make-run-worker}"
on_exit() {  # a worker killed outright leaves its registration and its job behind: clean both up
  [[ "$1" == worker ]] && flask --app service.app jobs forget-worker "$WORKER_NAME" >/dev/null 2>&1
}
pids=()
cleanup() {
  # Ignore further signals until everything has stopped: make passes Ctrl-C (or TERM) on to this
  # script a second time, which would otherwise end it mid-stop and orphan the processes.
  trap '' INT TERM
  trap - EXIT
  log "stopping"
  stop_supervised
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

# Under `make run` (SUPERVISE_REDIS=1) the private Redis is one of them: a crashed Redis comes back with
# its append-only file, and it stops after the others, which need it to finish their work. Elsewhere
# (docker-compose, the fault tests' deployment) Redis is someone else's to run.
if [[ "${SUPERVISE_REDIS:-0}" == 1 ]]; then
  supervise redis "$ROOT/scripts/services.sh" redis-foreground & pids+=($!)
  for _ in $(seq 100); do
    [[ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]] && break
    sleep 0.1
  done
fi
supervise api gunicorn --workers "${GUNICORN_WORKERS:-4}" --bind "$API_HOST:$API_PORT" wsgi:app & pids+=($!)
supervise worker rq worker --url "$REDIS_URL" --worker-class jobs.worker.Worker --with-scheduler --name "$WORKER_NAME" default & pids+=($!)
supervise scheduler flask --app service.app jobs scheduler & pids+=($!)
supervise dashboard rq-dashboard --redis-url "$REDIS_URL" --bind "$API_HOST" --port "$DASHBOARD_PORT" >/dev/null 2>&1 & pids+=($!)

for _ in $(seq 100); do
  curl -fsS "http://$API_HOST:$API_PORT/health" >/dev/null 2>&1 && break
  sleep 0.2
done
cat <<MSG

  BoosterBoxPro is running (Ctrl-C to stop):
    web app      http://$API_HOST:$API_PORT/
    API          http://$API_HOST:$API_PORT/api/v1
    API docs     http://$API_HOST:$API_PORT/docs, /redoc   (OpenAPI: /openapi.json)
    readiness    http://$API_HOST:$API_PORT/health/ready
    Prometheus   http://$API_HOST:$API_PORT/metrics
    RQ dashboard http://$API_HOST:$DASHBOARD_PORT
    database     $DATABASE_URL   (make psql)

MSG
wait
