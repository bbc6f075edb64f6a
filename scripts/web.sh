#!/usr/bin/env bash
# The web dashboard (web/): `install` its npm packages from the lockfile (npm ci, only when the lockfile
# changed), `build` it into web/dist (only when its sources changed), or regenerate its API `types` from
# the service's OpenAPI document. Node 20 and npm come from Debian (scripts/install-system.sh).
. "$(dirname "$0")/lib.sh"

WEB="$ROOT/web"
command -v npm >/dev/null || die "npm is missing: scripts/install-system.sh installs nodejs and npm"

install() {
  local stamp="$WEB/node_modules/.package-lock.sha256" wanted
  wanted="$(sha256sum "$WEB/package-lock.json" | cut -d' ' -f1)"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$wanted" ]]; then
    log "installing the web client's npm packages (npm ci)"
    (cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$wanted" >"$stamp"
  fi
}

build() {
  install
  local stamp="$WEB/dist/.sources.sha256" wanted
  wanted="$(cd "$WEB" && find src index.html vite.config.ts tsconfig.json scripts package-lock.json -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$wanted" ]]; then
    log "building the web client (web/dist)"
    (cd "$WEB" && npm run --silent build >/dev/null)
    echo "$wanted" >"$stamp"
  fi
}

types() {
  install
  mkdir -p "$VAR_DIR"
  "$VENV/bin/flask" --app service.app openapi write "$VAR_DIR/openapi.json" 2>/dev/null
  (cd "$WEB" && npx openapi-typescript "$VAR_DIR/openapi.json" -o src/api/schema.d.ts)
}

case "${1:-}" in
  install | build | types) "$1" ;;
  *) die "usage: scripts/web.sh install|build|types" ;;
esac
