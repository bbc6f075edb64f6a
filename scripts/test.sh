#!/usr/bin/env bash
# `make test`: set everything up, then lint, type-check and run the suite with coverage.
# With TEST_DATABASE_URL and TEST_REDIS_URL set, the suite uses those servers and starts nothing.
. "$(dirname "$0")/lib.sh"

if [[ -n "${TEST_DATABASE_URL:-}" && -n "${TEST_REDIS_URL:-}" ]]; then
  "$ROOT/scripts/venv.sh"
else
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
