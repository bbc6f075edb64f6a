# Process supervision for `make run`: source it, then `supervise NAME COMMAND...` in the background for
# each long-running process, and `stop_supervised` on exit.
#
# Each process runs in a session of its own (so that its children, such as an RQ worker's scheduler
# and work-horses, are stopped with it) under a restart loop: when it exits or is killed, what is left
# of its group is stopped, `on_exit NAME` runs if defined (the worker deregisters there), and it starts
# again after a pause that doubles from 1 s up to 30 s (back to 1 s once it ran a minute). The others
# keep running meanwhile: the API keeps answering whatever else dies. A hand-written loop rather than
# supervisord: a few lines of bash that need no daemon, config file or socket of their own.
SUPERVISE_DIR="${SUPERVISE_DIR:-$VAR_DIR/run}"
mkdir -p "$SUPERVISE_DIR"
rm -f "$SUPERVISE_DIR/stopping"

supervise() {
  local name="$1" delay=1 started pid status
  shift
  while [[ ! -f "$SUPERVISE_DIR/stopping" ]]; do
    started=$SECONDS
    setsid "$@" &
    pid=$!
    echo "$pid" >"$SUPERVISE_DIR/$name.pid"
    wait "$pid" && status=0 || status=$?
    kill -TERM -- "-$pid" 2>/dev/null || true  # its children, if it left any
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
  local file
  for file in "$SUPERVISE_DIR"/*.pid; do
    [[ -f "$file" ]] && kill -TERM -- "-$(cat "$file")" 2>/dev/null || true
  done
}
