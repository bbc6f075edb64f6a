#!/usr/bin/env bash
# The clock runs of `make test`: the tests marked `clock` (they read now() or today(), in Python or in
# SQL) run again at fake instants late and early in the day, around midnight and on a Sunday, so the
# suite passes at any hour. Usage: clock.sh [pytest arguments...]
#
# libfaketime (Debian's faketime) moves the clock of the process it wraps and of its children only.
# A test that compares Python's clock with the database's (a day computed in Python against SQL's
# current_date or now()) needs both on the same fake clock, so each run has servers of its own: a
# private PostgreSQL and Redis under $VAR_DIR/clock, on free ports, stopped after the run. PostgreSQL
# runs under the same offset as pytest (always forward, to the next such instant, in seconds, so every
# process started with it agrees to the second). Redis keeps the real clock: it only measures TTLs
# relative to itself, and every absolute time in it (rq's and rq-scheduler's scores, our own) is written
# and compared by the Python processes, which share the fake clock. (redis-server, built with jemalloc,
# also hangs at start under libfaketime.)
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

INSTANTS=("05:00" "18:30" "23:55" "00:05" "sunday 23:50")

# Only the wall clock moves. A faked monotonic clock hangs Python: its timed waits (locks, queues) pass
# the kernel deadlines on the moved clock.
export FAKETIME_DONT_FAKE_MONOTONIC=1

free_port() { "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Seconds from now to the next `instant` in UTC: "HH:MM" (today's or tomorrow's) or "weekday HH:MM".
offset_to() {
  local now target period=86400
  [[ "$1" == *" "* ]] && period=$((7 * 86400))
  now=$(date -u +%s)
  target=$(date -u -d "$1" +%s)
  (( target > now )) || target=$((target + period))
  echo $((target - now))
}

export VAR_DIR="$VAR_DIR/clock" PG_DB="${PG_DB}_test" PG_FAST=1 PG_SHARED_BUFFERS=256MB
export PG_PORT REDIS_PORT
PG_PORT=$(free_port)
REDIS_PORT=$(free_port)
export TEST_DATABASE_URL="postgresql://$PG_USER@$PG_HOST:$PG_PORT/$PG_DB"
export TEST_REDIS_URL="redis://$REDIS_HOST:$REDIS_PORT/15"
export DATABASE_URL="$TEST_DATABASE_URL" REDIS_URL="redis://$REDIS_HOST:$REDIS_PORT/0"
trap '"$ROOT/scripts/services.sh" stop' EXIT

for instant in "${INSTANTS[@]}"; do
  offset=$(offset_to "$instant")
  expected=$(date -u -d "@$(( $(date -u +%s) + offset ))" '+%a %H:%M')
  log "clock run at $expected UTC (real clock + $offset s)"
  FAKETIME="+$offset" "$ROOT/scripts/services.sh" start >/dev/null
  # Both clocks moved, or the run would prove nothing.
  seen="$(faketime -f "+$offset" date -u '+%a %H:%M') / $("$PG_BIN/psql" "$TEST_DATABASE_URL" -qtAX \
    -c "SELECT to_char(now() AT TIME ZONE 'UTC', 'Dy HH24:MI')")"
  [[ "$seen" == "$expected / $expected" ]] || die "the fake clock did not take (pytest / PostgreSQL: $seen)"
  # pytest exits 5 when no test is marked `clock`: that fails here too, never passes silently.
  faketime -f "+$offset" "$VENV/bin/pytest" -m clock -q -p no:cacheprovider "$@" \
    || die "the clock run at $expected UTC failed (pytest status $?; 5: no test selected)"
  "$ROOT/scripts/services.sh" stop >/dev/null
done
