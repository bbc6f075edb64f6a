#!/usr/bin/env bash
# `make test`: set everything up, then lint, type-check and run the suite with coverage.
# With TEST_DATABASE_URL and TEST_REDIS_URL set, the suite uses those servers and starts nothing.
. "$(dirname "$0")/lib.sh"

own_servers=0
if [[ -n "${TEST_DATABASE_URL:-}" && -n "${TEST_REDIS_URL:-}" ]]; then
  "$ROOT/scripts/venv.sh"
else
  own_servers=1
  export PG_FAST=1
  "$ROOT/scripts/setup.sh" "${PG_DB}_test"
  export TEST_DATABASE_URL="postgresql://$PG_USER@$PG_HOST:$PG_PORT/${PG_DB}_test"
  export TEST_REDIS_URL="redis://$REDIS_HOST:$REDIS_PORT/15"
fi

cd "$ROOT"
export PATH="$VENV/bin:$PATH"
log "ruff"
ruff check .
ruff format --check .
log "mypy"
mypy
log "web client: type check and component tests (vitest)"
"$ROOT/scripts/web.sh" build
(cd "$ROOT/web" && npx tsc --noEmit && npx vitest run)
log "pytest"
mkdir -p "$VAR_DIR"
pytest --cov --cov-report=term --junitxml="$VAR_DIR/junit.xml" "$@"

# The whole suite passes at any hour: the tests that read the clock again at fake instants, on servers of
# their own (scripts/clock.sh). Not for a chosen subset of tests, nor against servers given from outside
# (their clock cannot be moved).
if (( $# == 0 && own_servers )); then
  log "pytest -m clock at fake instants (scripts/clock.sh)"
  "$ROOT/scripts/clock.sh"
fi
