#!/usr/bin/env bash
# The test environment never loses a race for a port (test/env/lib.sh):
#  1. parallel pickers never pick the same port (reservations);
#  2. a port taken by a foreign program after it was picked is picked again by
#     git-up and kube-up themselves: caught before the start (the check) and
#     when the server itself fails to bind (its log says so), for each server;
#  3. reservations are released when an environment goes down.
# Usage: ports.sh WORK_DIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
env_scripts="$here/../../env"
GITFED_SCRIPT=ports.sh
source "$env_scripts/lib.sh"
work="${1:?usage: ports.sh WORK_DIR}"
rm -rf "$work"; mkdir -p "$work"
work="$(cd "$work" && pwd)"
# Our own reservation directory: the checks below count its files.
export GITFED_PORT_DIR="$work/reservations"
fail() { echo "FAIL: $*" >&2; exit 1; }

# ---- 1. parallel pickers: 20 rounds of two pickers of 50 ports at once. ------
# Without reservations two random draws of 50 from ~22,000 ports overlap in
# about 11% of rounds (so 20 rounds would show it with probability ~90%).
for round in $(seq 1 20); do
  mkdir -p "$work/a$round" "$work/b$round"
  free_ports 50 "$work/a$round" >"$work/a$round/out" &
  free_ports 50 "$work/b$round" >"$work/b$round/out" &
  wait
  both="$(cat "$work/a$round/out" "$work/b$round/out" | tr ' ' '\n' | sort | uniq -d)"
  [[ -z "$both" ]] || fail "round $round: two pickers both got port(s) $both"
  [[ $(wc -w <"$work/a$round/out") == 50 ]] || fail "round $round: picker a got $(wc -w <"$work/a$round/out") ports"
done
echo "ok: 20 rounds of two parallel pickers of 50 ports never shared a port"
for round in $(seq 1 20); do release_ports "$work/a$round"; release_ports "$work/b$round"; done
left="$(find "$GITFED_PORT_DIR" -type f | wc -l)"
[[ "$left" == 0 ]] || fail "$left reservations left after release_ports"
echo "ok: release_ports released every reservation"

# ---- 2. a squatter on a port we force the first attempt to use. --------------
python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
time.sleep(3600)
' >"$work/squatter.port" 2>&1 &
squatter=$!
cleanup() {
  kill "$squatter" 2>/dev/null || true
  local d
  for d in "$work"/g-* "$work"/k-*; do [[ -d "$d/pids" ]] && env_down keep "$d"; done
  return 0
}
trap cleanup EXIT
for (( i = 0; i < 50; i++ )); do [[ -s "$work/squatter.port" ]] && break; sleep 0.1; done
taken="$(cat "$work/squatter.port")"
[[ "$taken" =~ ^[0-9]+$ ]] || fail "the squatter did not start: $taken"
port_in_use "$taken" || fail "the squatter does not listen on $taken"

# Ports that are free now for the other positions of the forced first attempt.
read -r f1 f2 f3 f4 f5 f6 < <(free_ports 6)

expect_retry() { # what log
  grep -q "picking new ports (attempt 2 of 5)" "$2" || { cat "$2" >&2; fail "$1: no retry with new ports"; }
}

git_case() { # name skipcheck position-of-taken-port(1..3) what-must-be-said
  local name="$1" skip="$2" pos="$3" said="$4" d="$work/$1" ports=("$f1" "$f2" "$f3")
  ports[$((pos - 1))]="$taken"
  GITFED_TEST_FIRST_PORTS="${ports[*]}" GITFED_TEST_SKIP_PORT_CHECK="$skip" \
    "$env_scripts/git-up" "$d" >"$d.log" 2>&1 || { cat "$d.log" >&2; fail "$name: git-up failed"; }
  expect_retry "$name" "$d.log"
  grep -q "$said" "$d.log" || { cat "$d.log" >&2; fail "$name: the log does not say '$said'"; }
  # shellcheck disable=SC1091
  ( set -a; . "$d/git.env"; [[ "$GITFED_TEST_HTTPS_PORT" != "$taken" && "$GITFED_TEST_SSH_PORT" != "$taken" \
      && "$GITFED_TEST_GIT_PORT" != "$taken" ]] ) || fail "$name: a server claims the squatter's port"
  GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null git ls-remote "$(grep '^GITFED_TEST_GIT_URL=' "$d/git.env" | cut -d= -f2)" \
    >/dev/null || fail "$name: the git daemon does not serve after the retry"
  "$env_scripts/git-down" "$d" >/dev/null
  echo "ok: git-up, $name: picked again and serves"
}
git_case g-check 0 1 "was taken by another program after it was picked"
git_case g-https 1 1 "https lost its port to another program"
git_case g-ssh 1 2 "ssh lost its port to another program"
git_case g-daemon 1 3 "git-daemon lost its port to another program"

kube_case() { # name position-of-taken-port(1..6) what-must-be-said
  local name="$1" pos="$2" said="$3" d="$work/$1" ports=("$f1" "$f2" "$f3" "$f4" "$f5" "$f6")
  ports[$((pos - 1))]="$taken"
  GITFED_TEST_FIRST_PORTS="${ports[*]}" GITFED_TEST_SKIP_PORT_CHECK=1 \
    "$env_scripts/kube-up" "$name" "$d" >"$d.log" 2>&1 || { cat "$d.log" >&2; fail "$name: kube-up failed"; }
  expect_retry "$name" "$d.log"
  grep -q "$said" "$d.log" || { cat "$d.log" >&2; fail "$name: the log does not say '$said'"; }
  kubectl --kubeconfig "$d/kubeconfig" --request-timeout=20s get --raw /readyz >/dev/null \
    || fail "$name: the apiserver does not serve after the retry"
  "$env_scripts/kube-down" "$d" >/dev/null
  echo "ok: kube-up, $name: picked again and serves"
}
# etcd's client port and the apiserver's port (positions of kube-up's ports).
kube_case k-etcd 1 "etcd lost its port to another program"
kube_case k-apiserver 3 "apiserver lost its port to another program"

left="$(find "$GITFED_PORT_DIR" -type f | wc -l)"
[[ "$left" == 0 ]] || fail "$left reservations left after every environment went down"
echo "ok: every environment released its ports"
