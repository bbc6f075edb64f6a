#!/usr/bin/env bash
# Everything both commands need: system packages, TimescaleDB, the virtualenv, the private services.
# Usage: setup.sh [extra database names to create...]
. "$(dirname "$0")/lib.sh"

"$ROOT/scripts/install-system.sh"
"$ROOT/scripts/venv.sh"
"$ROOT/scripts/services.sh" start "$@"
