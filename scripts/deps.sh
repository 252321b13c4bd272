# scripts/deps.sh — sourced by scripts/memtrace, scripts/test and scripts/bench.
# Installs the Debian packages memtrace needs when any is missing (we run as
# root on CI; elsewhere sudo is used if present), then configures and builds
# a build directory. Prints only on stderr, so wrappers keep stdout clean.

MT_PACKAGES=(build-essential cmake pkg-config binutils
  libunwind-dev libdw-dev libelf-dev libsqlite3-dev libncurses-dev libzstd-dev
  libcmocka-dev libprotobuf-c-dev protobuf-c-compiler zlib1g-dev
  sqlite3 zstd valgrind heaptrack tmux jq golang-go chromium
  libxml2-utils python3-jsonschema time)

mt_repo_root() { cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd; }

mt_install_deps() {
  local missing=()
  for p in "${MT_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo=sudo
  echo "memtrace: installing ${missing[*]}" >&2
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"; } >&2 ||
    { echo "memtrace: could not install ${missing[*]}" >&2; return 1; }
}

# mt_build DIR [cmake args...]: configure once, then build incrementally.
# The compiler's chatter goes to DIR/build.log; on failure its tail is shown.
mt_build() {
  local dir=$1; shift
  local root; root=$(mt_repo_root)
  mkdir -p "$dir"
  local log=$dir/build.log
  [ -f "$dir/CMakeCache.txt" ] || echo "memtrace: building into $dir (first run takes a minute)" >&2
  if ! { [ -f "$dir/CMakeCache.txt" ] || cmake -S "$root" -B "$dir" "$@"; } >"$log" 2>&1 ||
     ! cmake --build "$dir" -j "$(nproc)" >>"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "memtrace: build failed; full log in $log" >&2
    return 1
  fi
}
