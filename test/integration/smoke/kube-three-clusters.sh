#!/usr/bin/env bash
# Three independent clusters side by side: each starts on its own ports, runs
# a Deployment on its own fake node, and is torn down leaving no process.
# Prints each cluster's start time and memory (RSS of its five processes).
# Usage: kube-three-clusters.sh DIR
set -euo pipefail
[[ $# == 1 ]] || { echo "usage: $0 DIR" >&2; exit 2; }
env_scripts="$(cd "$(dirname "$0")/../../env" && pwd)"
base="$1"
names=(m1 m2 m3)
checks=0
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }
cleanup() { for n in "${names[@]}"; do "$env_scripts/kube-down" --purge "$base/$n" >/dev/null 2>&1 || true; done; }
trap cleanup EXIT
cleanup
for n in "${names[@]}"; do
  "$env_scripts/kube-up" "$n" "$base/$n" || { echo "FAIL: kube-up $n" >&2; exit 1; }
  ok "cluster $n up"
done
total=0
for n in "${names[@]}"; do
  kc=(timeout 90 kubectl --kubeconfig "$base/$n/kubeconfig" --request-timeout=30s)
  "${kc[@]}" create deployment "web-$n" --image=registry.invalid/web:1 >/dev/null
  "${kc[@]}" wait "deploy/web-$n" --for=condition=Available --timeout=60s >/dev/null \
    || { echo "FAIL: Deployment in $n not Available" >&2; exit 1; }
  # Each cluster sees only its own objects.
  others="$("${kc[@]}" get deploy -o name | grep -vc "web-$n" || true)"
  [[ "$others" == 0 ]] || { echo "FAIL: cluster $n sees other clusters' Deployments" >&2; exit 1; }
  ok "cluster $n runs its own Deployment"
  kib=0
  for f in "$base/$n"/pids/*; do
    r="$(awk '/VmRSS/ {print $2}' "/proc/$(cat "$f")/status" 2>/dev/null || echo 0)"
    kib=$((kib + ${r:-0}))
  done
  total=$((total + kib))
  echo "cluster $n: $((kib / 1024)) MiB RSS"
done
echo "three clusters: $((total / 1024)) MiB RSS in all"
pids=()
for n in "${names[@]}"; do pids+=($(cat "$base/$n"/pids/* 2>/dev/null)); done
for n in "${names[@]}"; do "$env_scripts/kube-down" --purge "$base/$n" >/dev/null; done
for p in "${pids[@]}"; do
  state="$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null || true)"
  if [[ -n "$state" && "$state" != Z ]]; then echo "FAIL: pid $p still running after kube-down" >&2; exit 1; fi
done
ok "all three torn down, no process left"
echo "kube-three-clusters: $checks checks passed"
