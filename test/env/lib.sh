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

# Reservations of ports picked by these scripts, shared by every environment
# of this user on the machine: one file per port, created exclusively, holding
# the state directory that owns it. Two scripts started at the same moment
# (ctest -j2 starts kube-up and git-up together) can therefore never pick the
# same port, and a port stays reserved while its server restarts (service
# restart). The owner releases them when its environment goes down (env_down).
gitfed_port_dir() { echo "${GITFED_PORT_DIR:-${TMPDIR:-/tmp}/gitfed-ports-$(id -u)}"; }

# Exit status of kube-up/git-up when a port was taken between the pick and the
# bind (by a program that is not one of ours); run_with_port_retries reruns.
EX_PORT_TAKEN=75

# Print N distinct TCP ports that are free on 127.0.0.1 right now and reserve
# them for OWNER_DIR (see gitfed_port_dir). They are drawn at random below the
# kernel's ephemeral range (so no outgoing connection can take one before the
# server binds it), each is checked by binding it, and a port reserved by a
# live environment is never picked. Servers may still lose a port to a
# foreign program: kube-up and git-up then pick again (run_with_port_retries).
free_ports() { # count [owner_dir]
  # Test hook (test/env/port-retry-test): the first attempt of a script takes
  # these ports as they are, to prove that a taken port is picked again.
  if [[ -n "${GITFED_TEST_FIRST_PORTS:-}" && "${GITFED_PORT_ATTEMPT:-}" == 1 ]]; then
    echo "$GITFED_TEST_FIRST_PORTS"
    return 0
  fi
  python3 - "$1" "${2:-}" "$(gitfed_port_dir)" <<'EOF2'
import os, random, socket, sys, time
n, owner, resdir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except Exception:
    low = 32768
lo, hi = 10000, low - 1
if owner:
    os.makedirs(resdir, mode=0o700, exist_ok=True)

def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except Exception:
        return False

def reservation_live(path):
    # Live while young (its owner is still starting up), or while its owner
    # lists the port and a process of the owner runs.
    try:
        holder = open(path).read().strip()
        if time.time() - os.stat(path).st_mtime < 600:
            return True
        if os.path.basename(path) not in open(os.path.join(holder, "ports")).read().split():
            return False
        piddir = os.path.join(holder, "pids")
        for f in os.listdir(piddir):
            try:
                if pid_alive(int(open(os.path.join(piddir, f)).read().strip())):
                    return True
            except (OSError, ValueError):
                pass
    except OSError:
        pass
    return False

def reserve(p):
    if not owner:
        return True
    path = os.path.join(resdir, str(p))
    for _ in range(2):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            if reservation_live(path):
                return False
            try:
                os.unlink(path)  # stale: its owner is gone
            except OSError:
                pass
            continue
        os.write(fd, (owner + "\n").encode())
        os.close(fd)
        return True
    return False

socks, ports = [], []
for _ in range(5000):
    if len(ports) == n:
        break
    p = random.randint(lo, hi) if hi - lo > 1000 else 0
    if p in ports:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        s.close()
        continue
    p = s.getsockname()[1]
    if not reserve(p):
        s.close()
        continue
    socks.append(s)
    ports.append(p)
if len(ports) < n:
    sys.exit("free_ports: could not find %d free ports" % n)
if owner:
    with open(os.path.join(owner, "ports"), "a") as f:
        f.write("".join("%d\n" % p for p in ports))
print(" ".join(map(str, ports)))
EOF2
}

# Release the ports reserved for DIR (those listed in DIR/ports).
release_ports() { # dir
  local dir="$1" resdir p
  resdir="$(gitfed_port_dir)"
  [[ -f "$dir/ports" ]] || return 0
  for p in $(cat "$dir/ports"); do
    [[ "$(cat "$resdir/$p" 2>/dev/null)" == "$dir" ]] && rm -f "$resdir/$p"
  done
  rm -f "$dir/ports"
}

# True when the latest start of a server (the text after the last "==== "
# line service writes to its log) says its address was taken.
log_says_port_taken() { # logfile
  [[ -f "$1" ]] || return 1
  awk '/^==== /{buf=""; next} {buf = buf $0 "\n"} END{printf "%s", buf}' "$1" \
    | grep -qiE 'address already in use|could not bind|bind to port .* failed'
}

# Start a server with test/env/service; when it fails because its port was
# taken, exit with EX_PORT_TAKEN (so the script picks new ports), otherwise die.
start_service_or_port_taken() { # here dir name timeout
  "$1/service" "$2" "$3" start "$4" && return 0
  if log_says_port_taken "$2/logs/$3.log"; then
    echo "${GITFED_SCRIPT:-$(basename "$0")}: $3 lost its port to another program" >&2
    exit "$EX_PORT_TAKEN"
  fi
  die "$3 did not start (see above)"
}

# Every port of the list is still free, or exit with EX_PORT_TAKEN.
ports_still_free() { # port...
  local p
  # Test hook: let the server itself find its port taken (first attempt only).
  [[ "${GITFED_TEST_SKIP_PORT_CHECK:-}" == 1 && "${GITFED_PORT_ATTEMPT:-}" == 1 ]] && return 0
  for p in "$@"; do
    if port_in_use "$p"; then
      echo "${GITFED_SCRIPT:-$(basename "$0")}: port 127.0.0.1:$p was taken by another program after it was picked" >&2
      exit "$EX_PORT_TAKEN"
    fi
  done
}

# Wait for the background start_service_or_port_taken jobs of the caller:
# exit EX_PORT_TAKEN when one lost its port, die with MESSAGE when one failed.
wait_started_jobs() { # message
  local job rc taken=0 fail=0
  for job in $(jobs -p); do
    rc=0; wait "$job" || rc=$?
    if [[ $rc == "$EX_PORT_TAKEN" ]]; then taken=1; elif [[ $rc != 0 ]]; then fail=1; fi
  done
  [[ $taken == 0 ]] || exit "$EX_PORT_TAKEN"
  [[ $fail == 0 ]] || die "$1"
}

# Called first by kube-up and git-up with their arguments: runs the script
# again (as a child) until it does not exit with EX_PORT_TAKEN, at most 5
# times, each time with fresh ports. The child sees GITFED_PORT_ATTEMPT set
# and does the work.
run_with_port_retries() { # script-args...
  [[ -n "${GITFED_PORT_ATTEMPT:-}" ]] && return 0
  local attempt rc
  for attempt in 1 2 3 4 5; do
    rc=0
    GITFED_PORT_ATTEMPT=$attempt "$0" "$@" || rc=$?
    [[ $rc == "$EX_PORT_TAKEN" ]] || exit "$rc"
    echo "${GITFED_SCRIPT:-$(basename "$0")}: picking new ports (attempt $((attempt + 1)) of 5)" >&2
  done
  die "a port was taken before its server bound it, 5 times in a row"
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
  release_ports "$dir"
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
