# Shared helpers for the test/env scripts (sourced, not run).
# Every wait here has a deadline; every failure says why and shows a log tail.

# Probes and clients here talk to 127.0.0.1 only: never through a proxy, and
# never with CA settings inherited from the invoking environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
  GIT_SSL_CAINFO GIT_SSL_CAPATH GIT_SSL_NO_VERIFY GIT_SSH GIT_SSH_COMMAND CURL_CA_BUNDLE

die() { echo "${GITFED_SCRIPT:-$(basename "$0")}: error: $*" >&2; exit 1; }

gitfed_cache_dir() { echo "${GITFED_CACHE:-${HOME:-/root}/.cache/gitfed}"; }

gitfed_find_go() {
  if command -v go >/dev/null 2>&1; then command -v go; return 0; fi
  if [[ -x /usr/local/go/bin/go ]]; then echo /usr/local/go/bin/go; return 0; fi
  return 1
}

# Print the last lines of a log file to stderr, with a header.
log_tail() { # file [lines]
  local f="$1" n="${2:-30}"
  if [[ -s "$f" ]]; then
    echo "---- last $n lines of $f ----" >&2
    tail -n "$n" "$f" >&2
    echo "---- end of $f ----" >&2
  else
    echo "(log $f is empty or missing)" >&2
  fi
}

# True when something listens on 127.0.0.1:port (TCP).
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Print N distinct TCP ports that are free on 127.0.0.1 right now. They are
# drawn at random below the kernel's ephemeral range (so no outgoing
# connection can take one before the server binds it) and each is checked by
# binding it. Callers still check that their server came up (start_daemon).
free_ports() { # count
  python3 - "$1" <<'EOF2'
import random, socket, sys
n = int(sys.argv[1])
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except Exception:
    low = 32768
lo, hi = 10000, low - 1
socks, ports = [], []
for _ in range(5000):
    if len(ports) == n:
        break
    p = random.randint(lo, hi) if hi - lo > 1000 else 0
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        s.close()
        continue
    socks.append(s)
    ports.append(s.getsockname()[1])
if len(ports) < n:
    sys.exit("free_ports: could not find %d free ports" % n)
print(" ".join(map(str, ports)))
EOF2
}

# Poll a command until it succeeds, with a deadline. On timeout, say what
# never became ready and show the log tail; also fail at once if the watched
# pid died.
wait_until() { # what deadline_seconds pid_or_empty logfile -- command...
  local what="$1" secs="$2" pid="$3" log="$4"; shift 5
  local end=$(( $(date +%s%N) / 1000000 + secs * 1000 ))
  while :; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if [[ -n "$pid" ]] && ! alive "$pid"; then
      echo "${GITFED_SCRIPT:-$(basename "$0")}: error: $what exited before becoming ready" >&2
      log_tail "$log"
      return 1
    fi
    if (( $(date +%s%N) / 1000000 >= end )); then
      echo "${GITFED_SCRIPT:-$(basename "$0")}: error: $what not ready after ${secs}s" >&2
      log_tail "$log"
      return 1
    fi
    sleep 0.1
  done
}

# Start a long-running program in its own session (so it can be stopped with
# its children), logging to a file and recording its pid in DIR/pids/NAME.
start_daemon() { # dir name logfile -- command...
  local dir="$1" name="$2" log="$3"; shift 4
  mkdir -p "$dir/pids" "$(dirname "$log")"
  setsid "$@" </dev/null >>"$log" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/pids/$name"
  echo "$pid"
}

# True while PID runs (a zombie, waiting for its reaper, counts as gone).
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z ]]
}

# Live (non-zombie) processes whose process group is PGID.
group_members() {
  awk -v pg="$1" '$5 == pg && $3 != "Z" { printf "%s ", $1 }' /proc/[0-9]*/stat 2>/dev/null || true
}

# Stop the process recorded in DIR/pids/NAME (and its process group): TERM,
# then KILL after a deadline. Quiet when it is already gone.
stop_daemon() { # dir name [grace_seconds]
  local dir="$1" name="$2" grace="${3:-10}" pid i
  [[ -f "$dir/pids/$name" ]] || return 0
  pid="$(cat "$dir/pids/$name")"
  if [[ -n "$pid" ]] && alive "$pid"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for (( i = 0; i < grace * 20; i++ )); do
      alive "$pid" || break
      sleep 0.05
    done
    if alive "$pid"; then
      echo "$(basename "$0"): $name (pid $pid) ignored TERM for ${grace}s, killing" >&2
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
  fi
  # Children in its process group (apache workers, fcgiwrap's, git's) go too.
  if [[ -n "$pid" ]]; then
    for (( i = 0; i < 100; i++ )); do
      [[ -z "$(group_members "$pid")" ]] && break
      (( i == 60 )) && kill -KILL -- "-$pid" 2>/dev/null
      sleep 0.05
    done
    [[ -z "$(group_members "$pid")" ]] || echo "$(basename "$0"): warning: processes of $name's group $pid survive: $(group_members "$pid")" >&2
  fi
  rm -f "$dir/pids/$name"
}

# Stop every service of a kube-up/git-up directory (reverse start order) and
# remove its state: mode "logs" keeps DIR/logs, "purge" removes DIR, "keep"
# only stops the processes.
env_down() { # mode dir
  local mode="$1" dir="$2" s f
  if [[ -f "$dir/services" ]]; then
    for s in $(tac "$dir/services"); do stop_daemon "$dir" "$s"; done
  fi
  if [[ -d "$dir/pids" ]]; then
    for f in "$dir"/pids/*; do [[ -e "$f" ]] && stop_daemon "$dir" "$(basename "$f")"; done
  fi
  case "$mode" in
    keep) ;;
    logs) find "$dir" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} + ;;
    purge) rm -rf "$dir" ;;
  esac
}

parse_down_args() { # sets down_mode and down_dir from "[--purge|--keep] DIR"
  down_mode=logs
  case "${1:-}" in
    --purge) down_mode=purge; shift ;;
    --keep) down_mode=keep; shift ;;
  esac
  [[ $# == 1 ]] || die "usage: $(basename "$0") [--purge|--keep] DIR"
  down_dir="$1"
}
