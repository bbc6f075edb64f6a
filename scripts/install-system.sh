#!/usr/bin/env bash
# Installs what the project needs from Debian (PostgreSQL 15, Redis, build tools, wrk for
# `make bench-api`, Chromium for the web client's browser tests and `make bench-web`, faketime for the
# clock runs of `make test` (scripts/clock.sh), Node.js and npm
# to build the web client) and builds
# TimescaleDB from Debian 13's source package when it is missing. Idempotent and fast when all is there.
. "$(dirname "$0")/lib.sh"

PACKAGES=(procps postgresql-$PG_VERSION postgresql-server-dev-$PG_VERSION redis-server cmake build-essential
          xz-utils libssl-dev libkrb5-dev wrk chromium faketime)
# The web client is built and tested with Node 20 (the project's machines have NodeSource's, whose nodejs
# bundles npm and conflicts with Debian's npm package). Only where there is no npm at all, Debian's
# nodejs 18 and npm are installed: Vite 6 and Vitest 3 support it, one build-only dependency asks for 20.
command -v npm >/dev/null || PACKAGES+=(nodejs npm)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  log "installing system packages: ${missing[*]}"
  # Our private cluster is the only one we use: don't let the package create and start a default one.
  as_root mkdir -p /etc/postgresql-common
  echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ -f "/usr/share/postgresql/$PG_VERSION/extension/timescaledb.control" ]]; then
  exit 0
fi

# Debian 12 has no TimescaleDB package; Debian 13 has its source. Build that against PostgreSQL 15
# (the Apache-2 edition: the Debian source ships without the tsl/ directory). We read the mirror the
# machine already uses and point apt at a private source list, leaving the system's apt sources alone.
log "building TimescaleDB from Debian 13's source package (about a minute)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mirror=""
if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
  mirror="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
fi
if [[ -z "$mirror" && -f /etc/apt/sources.list ]]; then
  mirror="$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list)"
fi
[[ -n "$mirror" ]] || die "cannot find the Debian mirror in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"

mkdir -p "$work/lists/partial"
chmod -R a+rwX "$work"  # apt downloads as the unprivileged _apt user
echo "deb-src $mirror trixie main" >"$work/sources.list"
apt_private=(-o "Dir::Etc::sourcelist=$work/sources.list" -o "Dir::Etc::sourceparts=-" -o "Dir::State::Lists=$work/lists")
as_root apt-get "${apt_private[@]}" update -qq
(cd "$work" && as_root apt-get "${apt_private[@]}" source --download-only -qq timescaledb/trixie >/dev/null)
tar -xJf "$work"/timescaledb_*.orig.tar.xz -C "$work"
src="$(find "$work" -maxdepth 1 -mindepth 1 -type d -name 'timescaledb*' | head -n 1)"
[[ -n "$src" ]] || die "the TimescaleDB source did not unpack"
cmake -S "$src" -B "$src/build" -DPG_CONFIG="$PG_BIN/pg_config" -DAPACHE_ONLY=1 -DREGRESS_CHECKS=OFF \
  -DTAP_CHECKS=OFF -DSEND_TELEMETRY_DEFAULT=OFF -DUSE_TELEMETRY=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null 2>&1
make -C "$src/build" -j"$(nproc)" >/dev/null
as_root make -C "$src/build" install >/dev/null
log "TimescaleDB installed: $(ls /usr/share/postgresql/$PG_VERSION/extension/timescaledb--*.sql | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | sort -V | tail -n 1)"
