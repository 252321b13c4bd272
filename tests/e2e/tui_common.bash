# tests/e2e/tui_common.bash — tmux driving for the tui_*.sh tests (sourced after lib.sh)
#
# Each test gets a private tmux server (socket in $T: tmux leaves its socket
# file behind after kill-server), killed at exit, and drives the
# view at a fixed 80x24: tui_start, tui_keys, tui_cap, tui_wait_for. Waits
# poll the captured screen with a bound until it shows what is awaited and
# has settled; nothing asserts on timing.
command -v tmux >/dev/null || skip "tmux not installed"
TUI_SOCK=$T/tmux.sock
tui_tmux() { tmux -S "$TUI_SOCK" "$@"; }
tui_stop() { tui_tmux kill-server 2>/dev/null || true; }
trap 'tui_stop; mt_cleanup' EXIT

# tui_start NAME COMMAND...: a detached 80x24 session running COMMAND.
tui_start() {
  local name=$1; shift
  tui_tmux new-session -d -s "$name" -x 80 -y 24 "$*; sleep 600" || fail "tmux new-session"
}
tui_keys() { local name=$1; shift; tui_tmux send-keys -t "$name" "$@"; }
# tui_cap NAME FILE: the visible screen as text.
tui_cap() { tui_tmux capture-pane -p -t "$1" >"$2"; }
# tui_wait_until NAME FILE WHAT TEST...: polls (up to 60 s) until the
# command TEST succeeds on the captured screen in FILE and that screen is
# settled: the same on two captures 0.1 s apart, since a capture can land
# between a key and the redraw it causes, or in the middle of a frame. The
# screen must not have been settled before the key that the wait is for
# already: WHAT names the awaited screen in the failure message.
tui_wait_until() {
  local name=$1 file=$2 what=$3 i
  shift 3
  : >"$file.prev"
  for i in $(seq 600); do
    tui_cap "$name" "$file"
    if cmp -s "$file" "$file.prev" && "$@"; then
      rm -f "$file.prev"
      return 0
    fi
    cp "$file" "$file.prev"
    sleep 0.1
  done
  rm -f "$file.prev"
  cat "$file" >&2
  fail "screen never showed $what"
}
# tui_wait_for NAME TEXT FILE: tui_wait_until TEXT is on the screen. TEXT
# must be new on the awaited screen (not, say, in the status line already).
tui_wait_for() { tui_wait_until "$1" "$3" "'$2'" grep -qF -- "$2" "$3"; }
# tui_row FILE N: the Nth row of the site table (1 = first).
tui_row() { awk -v n="$2" 'f && ++i == n {print; exit} /SITE \(/ {f = 1}' "$1"; }
# wait_file PATH: polls (up to 60 s) for a file the target creates.
wait_file() {
  local i
  for i in $(seq 600); do [ -e "$1" ] && return 0; sleep 0.1; done
  fail "$1 never appeared"
}
