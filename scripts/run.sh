#!/usr/bin/env bash
# `make run`: set everything up, migrate, and run the API, an RQ worker, rq-scheduler and
# rq-dashboard in the foreground until Ctrl-C, each restarted by itself if it dies.
. "$(dirname "$0")/lib.sh"

"$ROOT/scripts/serve.sh" --check-ports  # before minutes of setup, not after
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/web.sh" build  # the web dashboard the API serves at /
cd "$ROOT"
export PATH="$VENV/bin:$PATH"

# A development signing key, made once and kept out of the repo (.var is git-ignored).
if [[ -z "${JWT_SECRET_KEY:-}" ]]; then
  [[ -f "$VAR_DIR/jwt_secret" ]] || (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(48))' >"$VAR_DIR/jwt_secret")
  JWT_SECRET_KEY="$(cat "$VAR_DIR/jwt_secret")"
  export JWT_SECRET_KEY
fi

# Migrate and load the catalog; in demo mode (DATA_MODE, the default) also simulate 90 days of market
# history on first start (afterwards: catch up to now) and compute it. Scheduled ticks keep it current.
flask --app service.app data init --backfill-days "${SIM_BACKFILL_DAYS:-90}"

# Then the supervised processes (scripts/serve.sh) until Ctrl-C.
SUPERVISE_REDIS=1 exec "$ROOT/scripts/serve.sh"
