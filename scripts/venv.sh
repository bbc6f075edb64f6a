#!/usr/bin/env bash
# Creates the virtualenv and installs the pinned requirements; reinstalls only when they change.
. "$(dirname "$0")/lib.sh"

requirements="${1:-requirements-dev.txt}"
if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating virtualenv $VENV"
  if ! python3 -m venv "$VENV" 2>/dev/null; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$VENV"
  fi
fi

stamp="$VENV/.requirements.sha256"
wanted="$(cat "$ROOT/requirements.txt" "$ROOT/$requirements" | sha256sum | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$wanted" ]]; then
  log "installing Python requirements ($requirements)"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/$requirements"
  echo "$wanted" >"$stamp"
fi
