#!/usr/bin/env bash
# ctest fixture steps for the integration tests (see CMakeLists.txt here):
#   fixture.sh kube-up|kube-down|git-up|git-down TESTENV_DIR
# starts/stops the cluster in TESTENV_DIR/kube and the Git servers in
# TESTENV_DIR/git, and keeps TESTENV_DIR/env (KEY=VALUE lines, the union of
# kube.env and git.env of what is up) current for the tests to read.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
env_scripts="$here/../env"
[[ $# == 2 ]] || { echo "usage: fixture.sh kube-up|kube-down|git-up|git-down TESTENV_DIR" >&2; exit 2; }
step="$1" dir="$2"
mkdir -p "$dir"

combine() {
  (
    flock -w 60 9 || { echo "fixture.sh: timed out locking $dir/env.lock" >&2; exit 1; }
    tmp="$dir/env.tmp.$$"
    {
      echo "# Test environment for the integration tests (written by test/integration/fixture.sh)."
      echo "GITFED_TEST_ENV_DIR=$dir"
      for part in "$dir/kube/kube.env" "$dir/git/git.env"; do
        [[ -f "$part" ]] && grep -v '^#' "$part"
      done
    } >"$tmp"
    mv "$tmp" "$dir/env"
  ) 9>"$dir/env.lock"
}

case "$step" in
  kube-up)
    # A cluster left over by an interrupted run is stopped first.
    "$env_scripts/kube-down" "$dir/kube" >/dev/null 2>&1 || true
    "$env_scripts/kube-up" "${GITFED_TEST_CLUSTER_NAME:-c1}" "$dir/kube"
    combine ;;
  git-up)
    "$env_scripts/git-down" "$dir/git" >/dev/null 2>&1 || true
    "$env_scripts/git-up" "$dir/git"
    combine ;;
  kube-down) "$env_scripts/kube-down" "$dir/kube"; combine ;;
  git-down) "$env_scripts/git-down" "$dir/git"; combine ;;
  *) echo "fixture.sh: unknown step $step" >&2; exit 2 ;;
esac
