# Shared settings for the project's scripts. Source it; do not run it.
# Every value can be set in a .env file at the project root, and the environment wins over it (as
# in the Python settings): a test or an operator's one-off `PG_PORT=... make run` is never overridden.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -f "$ROOT/.env" ]]; then
  environment="$(export -p)"
  set -a
  # shellcheck disable=SC1091
  . "$ROOT/.env"
  set +a
  eval "$environment"
  unset environment
fi

PG_VERSION=15
PG_BIN="/usr/lib/postgresql/$PG_VERSION/bin"
PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-55432}"
PG_DB="${PG_DB:-boxpro}"
PG_USER="${PG_USER:-postgres}"
REDIS_HOST="${REDIS_HOST:-127.0.0.1}"
REDIS_PORT="${REDIS_PORT:-56379}"
API_HOST="${API_HOST:-127.0.0.1}"
API_PORT="${API_PORT:-8000}"
DASHBOARD_PORT="${DASHBOARD_PORT:-9181}"
# Links in e-mails point at the running service unless the web client is elsewhere.
export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://$API_HOST:$API_PORT}"

# Private service state lives here (git-ignored).
VAR_DIR="${VAR_DIR:-$ROOT/.var}"
REDIS_DIR="$VAR_DIR/redis"
VENV="${VENV:-$ROOT/.venv}"

export DATABASE_URL="${DATABASE_URL:-postgresql://$PG_USER@$PG_HOST:$PG_PORT/$PG_DB}"
export REDIS_URL="${REDIS_URL:-redis://$REDIS_HOST:$REDIS_PORT/0}"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# Does a server answer on host $1, port $2?
port_taken() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# Run a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# PostgreSQL refuses to run as root, so its binaries run as the postgres user.
as_postgres() {
  if [[ $(id -un) == postgres ]]; then "$@"; else as_root runuser -u postgres -- "$@"; fi
}
