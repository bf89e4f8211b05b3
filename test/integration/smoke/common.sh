# Sourced by the smoke tests: loads the test environment and small helpers.
# Every command that talks to a server runs under `timeout`, so nothing hangs.
set -euo pipefail
: "${GITFED_TEST_ENV:?GITFED_TEST_ENV must name the env file written by the testenv fixtures}"
[[ -f "$GITFED_TEST_ENV" ]] || { echo "FAIL: $GITFED_TEST_ENV missing (did the testenv setup fixtures run?)" >&2; exit 1; }
set -a
# shellcheck disable=SC1090
source "$GITFED_TEST_ENV"
set +a
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_TERMINAL_PROMPT=0 GIT_ASKPASS=/bin/false SSH_ASKPASS=/bin/false
# Nothing from the invoking environment may change what is verified or where
# connections go (some machines export GIT_SSL_CAINFO, proxies...).
unset SSH_AUTH_SOCK GIT_SSL_CAINFO GIT_SSL_CAPATH GIT_SSL_NO_VERIFY GIT_SSH GIT_SSH_COMMAND GIT_SSH_VARIANT \
  GIT_PROXY_COMMAND GIT_HTTP_PROXY_AUTHMETHOD CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR \
  http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
test_name="$(basename "$0" .sh)"
work="$(mktemp -d "${TMPDIR:-/tmp}/gitfed-smoke-$test_name.XXXXXX")"
trap 'rm -rf "$work"' EXIT
checks=0

ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# Run a command with a deadline (shell functions here carry their own).
bounded() {
  if [[ "$(type -t "$1")" == function ]]; then "$@"; else timeout 120 "$@"; fi
}
# run DESCRIPTION -- command...: must succeed (output shown on failure)
run() {
  local what="$1"; shift 2
  local out rc=0
  out="$(bounded "$@" 2>&1)" || rc=$?
  if [[ $rc == 0 ]]; then ok "$what"; else echo "$out" >&2; fail "$what (exit $rc): $*"; fi
}
# refuse DESCRIPTION PATTERN -- command...: must fail, with output matching PATTERN (ERE)
refuse() {
  local what="$1" pattern="$2"; shift 3
  local out rc=0
  out="$(bounded "$@" 2>&1)" || rc=$?
  [[ $rc != 0 ]] || { echo "$out" >&2; fail "$what: expected a refusal, but it succeeded: $*"; }
  [[ $rc != 124 ]] || { echo "$out" >&2; fail "$what: timed out instead of being refused: $*"; }
  grep -Eq -- "$pattern" <<<"$out" || { echo "$out" >&2; fail "$what: refused, but not with /$pattern/: $*"; }
  ok "$what (refused: $(grep -Eo -- "$pattern" <<<"$out" | head -n1))"
}

k() { timeout 90 kubectl --kubeconfig "$GITFED_TEST_KUBECONFIG" --request-timeout=30s "$@"; }
# A namespace of this test's own (tests may run in parallel).
fresh_namespace() { local ns="smoke-$test_name-$RANDOM$RANDOM"; ns="${ns:0:63}"; k create namespace "$ns" >/dev/null; echo "$ns"; }

# A git identity for commits made by the tests.
gitc() { git -c user.name=gitfed-smoke -c user.email=smoke@127.0.0.1 -c init.defaultBranch=main -c commit.gpgsign=false "$@"; }
# Clone URL into DIR, commit a file, push it back to main.
clone_commit_push() { # url dir [git -c options...]
  local url="$1" d="$2"; shift 2
  timeout 120 git "$@" clone -q "$url" "$d"
  echo "$test_name $RANDOM $(date +%s%N)" >"$d/smoke-$test_name.txt"
  gitc -C "$d" add "smoke-$test_name.txt"
  gitc -C "$d" commit -q -m "smoke: $test_name"
  # Other tests push to the same repository: retry on a non-fast-forward.
  local i
  for i in 1 2 3 4 5; do
    if timeout 120 git "$@" -C "$d" push -q origin HEAD:main 2>"$d.push-err"; then return 0; fi
    grep -q 'rejected\|fetch first\|non-fast-forward\|cannot lock ref' "$d.push-err" || { cat "$d.push-err" >&2; return 1; }
    timeout 120 git "$@" -C "$d" pull -q --rebase origin main
  done
  cat "$d.push-err" >&2; return 1
}
done_ok() { echo "$test_name: $checks checks passed"; }
