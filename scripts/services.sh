#!/usr/bin/env bash
# The private PostgreSQL 15 + TimescaleDB cluster and the private Redis, with their state under .var/.
# Usage: services.sh start|stop|status
. "$(dirname "$0")/lib.sh"

# The postgres user must reach the cluster's directory; a checkout under /root, say, is out of its
# reach, and then the cluster lives under /var/lib/boxpro instead (one per checkout).
mkdir -p "$VAR_DIR"
if [[ -z "${PG_HOME:-}" ]]; then
  if as_postgres test -x "$VAR_DIR"; then PG_HOME="$VAR_DIR/pg"
  else PG_HOME="/var/lib/boxpro/$(printf %s "$ROOT" | sha1sum | cut -c1-12)/pg"; fi
fi
PG_DATA="$PG_HOME/data"
PG_SOCKET_DIR="$PG_HOME/run"
PG_LOG="$PG_HOME/postgres.log"

pg_running() { [[ -f "$PG_DATA/postmaster.pid" ]] && as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }
redis_pid() { [[ -f "$REDIS_DIR/redis.pid" ]] && cat "$REDIS_DIR/redis.pid"; }
redis_running() { local pid; pid="$(redis_pid)" && kill -0 "$pid" 2>/dev/null; }
# A clock run (scripts/clock.sh) sets FAKETIME: PostgreSQL then runs on that fake clock. libfaketime is
# preloaded directly: the faketime command waits for every process it started, a daemon included.
clock=()
if [[ -n "${FAKETIME:-}" ]]; then
  clock=(env "LD_PRELOAD=$(echo /usr/lib/*/faketime/libfaketime.so.1)" "FAKETIME=$FAKETIME" FAKETIME_DONT_FAKE_MONOTONIC=1)
fi

init_pg() {
  [[ -f "$PG_DATA/PG_VERSION" ]] && return
  log "initialising the private PostgreSQL cluster in $PG_DATA"
  mkdir -p "$PG_DATA" "$PG_SOCKET_DIR"
  as_root chown -R postgres:postgres "$PG_HOME"
  as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_USER" --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  # Tuned for a 2-core, 24 GB machine that only this project uses. synchronous_commit=off risks the
  # last few hundred ms of commits on a crash, never corruption: fine for a development cluster.
  as_postgres tee -a "$PG_DATA/postgresql.conf" >/dev/null <<CONF

# --- BoosterBoxPro private cluster ---
shared_preload_libraries = 'timescaledb'
timescaledb.telemetry_level = off
timescaledb.max_background_workers = 8
max_connections = 200
shared_buffers = ${PG_SHARED_BUFFERS:-2GB}
work_mem = 64MB
maintenance_work_mem = 512MB
effective_cache_size = 8GB
synchronous_commit = off
max_wal_size = 8GB
checkpoint_timeout = 15min
wal_level = minimal
max_wal_senders = 0
max_locks_per_transaction = 256
jit = off
log_min_duration_statement = 1000
CONF
}

start_pg() {
  init_pg
  if pg_running; then return; fi
  port_taken "$PG_HOST" "$PG_PORT" && die "port $PG_HOST:$PG_PORT is taken by another server; set PG_PORT"
  local opts="-c port=$PG_PORT -c listen_addresses=$PG_HOST -c unix_socket_directories=$PG_SOCKET_DIR"
  # Tests ask for a faster, crash-unsafe server (the data is thrown away anyway).
  if [[ "${PG_FAST:-0}" == 1 ]]; then opts+=" -c fsync=off -c full_page_writes=off"; fi
  log "starting PostgreSQL on $PG_HOST:$PG_PORT"
  as_postgres "${clock[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 -o "$opts" start >/dev/null \
    || { tail -n 20 "$PG_LOG" >&2; die "PostgreSQL did not start (log: $PG_LOG)"; }
}

ensure_database() {
  local db="$1"
  local psql=("$PG_BIN/psql" -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -qtAX)
  if [[ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]]; then
    log "creating database $db"
    "${psql[@]}" -c "CREATE DATABASE \"$db\"" >/dev/null
  fi
}

# Append-only persistence, as docker-compose runs it: queued jobs and the schedule survive a restart.
redis_args=(--port "$REDIS_PORT" --bind "$REDIS_HOST" --save "" --appendonly yes --dir "$REDIS_DIR"
            --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log")

start_redis() {
  if redis_running; then return; fi
  port_taken "$REDIS_HOST" "$REDIS_PORT" && die "port $REDIS_HOST:$REDIS_PORT is taken by another server; set REDIS_PORT"
  mkdir -p "$REDIS_DIR"
  log "starting Redis on $REDIS_HOST:$REDIS_PORT"
  redis-server "${redis_args[@]}" --daemonize yes >/dev/null
  for _ in $(seq 50); do redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping >/dev/null 2>&1 && return; sleep 0.1; done
  die "Redis did not start (log: $REDIS_DIR/redis.log)"
}

stop_redis() {
  if redis_running; then
    log "stopping Redis"
    redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || kill "$(redis_pid)"
    for _ in $(seq 100); do redis_running || return 0; sleep 0.1; done
    die "Redis did not stop (pid $(redis_pid))"
  fi
}

# The same Redis in the foreground, for a supervisor (scripts/serve.sh under `make run`): the daemon
# `start` left is stopped first (its append-only file keeps the data), then this process becomes Redis.
redis_foreground() {
  stop_redis
  port_taken "$REDIS_HOST" "$REDIS_PORT" && die "port $REDIS_HOST:$REDIS_PORT is taken by another server; set REDIS_PORT"
  mkdir -p "$REDIS_DIR"
  exec redis-server "${redis_args[@]}" --daemonize no
}

stop_all() {
  if pg_running; then
    log "stopping PostgreSQL"
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null
  fi
  stop_redis
}

case "${1:-}" in
  start)
    start_pg
    start_redis
    for db in "$PG_DB" "${@:2}"; do ensure_database "$db"; done
    ;;
  stop) stop_all ;;
  redis-foreground) redis_foreground ;;
  status)
    if pg_running; then echo "postgres: running on $PG_HOST:$PG_PORT ($PG_DATA)"; else echo "postgres: stopped"; fi
    if redis_running; then echo "redis:    running on $REDIS_HOST:$REDIS_PORT"; else echo "redis:    stopped"; fi
    ;;
  *) die "usage: $0 start [extra databases...]|stop|status|redis-foreground" ;;
esac
