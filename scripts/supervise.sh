# Process supervision for `make run`: source it, then `supervise NAME COMMAND...` in the background for
# each long-running process, and `stop_supervised` on exit.
#
# Each process runs in a session of its own, so that every process it started is stopped with it: an
# RQ work-horse moves to a process group of its own, but stays in its worker's session under a restart loop: when it exits or is killed, what is left
# of its group is stopped, `on_exit NAME` runs if defined (the worker deregisters there), and it starts
# again after a pause that doubles from 1 s up to 30 s (back to 1 s once it ran a minute). The others
# keep running meanwhile: the API keeps answering whatever else dies. A hand-written loop rather than
# supervisord: a few lines of bash that need no daemon, config file or socket of their own.
SUPERVISE_DIR="${SUPERVISE_DIR:-$VAR_DIR/run}"
mkdir -p "$SUPERVISE_DIR"
rm -f "$SUPERVISE_DIR/stopping" "$SUPERVISE_DIR"/*.pid  # an earlier run's pids are no longer ours
# Processes stopped only once all others are gone: Redis, which the others need to finish their work.
SUPERVISE_LAST=(redis)

supervise() {
  local name="$1" delay=1 started pid status
  shift
  while [[ ! -f "$SUPERVISE_DIR/stopping" ]]; do
    started=$SECONDS
    setsid "$@" &
    pid=$!
    echo "$pid" >"$SUPERVISE_DIR/$name.pid"
    wait "$pid" && status=0 || status=$?
    signal_session TERM "$pid"  # what it left behind: a killed worker's horse would run on
    [[ -f "$SUPERVISE_DIR/stopping" ]] && break
    if declare -F on_exit >/dev/null; then on_exit "$name" || true; fi
    (( SECONDS - started >= 60 )) && delay=1
    log "$name exited (status $status); restarting in ${delay} s"
    sleep "$delay"
    delay=$(( delay * 2 > 30 ? 30 : delay * 2 ))
  done
}

stop_supervised() {
  touch "$SUPERVISE_DIR/stopping"
  local file name first=() last=()
  for file in "$SUPERVISE_DIR"/*.pid; do
    [[ -f "$file" ]] || continue
    name="$(basename "$file" .pid)"
    if [[ " ${SUPERVISE_LAST[*]} " == *" $name "* ]]; then last+=("$(cat "$file")"); else first+=("$(cat "$file")"); fi
  done
  stop_sessions "${first[@]}"
  stop_sessions "${last[@]}"
}

stop_sessions() {
  local session left deadline=$((SECONDS + ${STOP_TIMEOUT_S:-20})) sessions=("$@")
  for session in "${sessions[@]}"; do
    signal_session TERM "$session"
  done
  # SIGTERM lets each finish what it is doing (gunicorn its requests, the worker its job); return only
  # when all are gone, so `make run` never exits leaving processes behind. What outstays the grace
  # period is killed (a killed worker's job is retried by the next worker: `jobs forget-worker`).
  while (( SECONDS < deadline )); do
    left=0
    for session in "${sessions[@]}"; do
      pgrep -s "$session" >/dev/null && left=1
    done
    (( left )) || return 0
    sleep 0.2
  done
  for session in "${sessions[@]}"; do
    signal_session KILL "$session"
  done
}

# Signal every process of a supervised process's session (its id is the leader's pid).
signal_session() {
  [[ "$2" =~ ^[1-9][0-9]*$ ]] && pkill "-$1" -s "$2" 2>/dev/null || true
}
