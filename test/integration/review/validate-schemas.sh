#!/usr/bin/env bash
# Saves the OpenAPI v3 documents of the test cluster, as a user would
# (`kubectl get --raw /openapi/v3/...`), and checks `gitfed validate
# --schema-dir` with them: the example fleet is clean; a broken copy is refused
# with file, object and field.
set -euo pipefail
gitfed=$1 fleet=$2
source "$GITFED_TEST_ENV"
export KUBECONFIG=$GITFED_TEST_KUBECONFIG
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/schemas"
paths=$(kubectl get --raw /openapi/v3 | python3 -c 'import json,sys; print("\n".join(p for p in json.load(sys.stdin)["paths"] if p.startswith("api")))')
for p in $paths; do kubectl get --raw "/openapi/v3/$p" >"$work/schemas/${p//\//_}.json"; done
echo "saved $(ls "$work/schemas" | wc -l) schema documents"

out=$("$gitfed" validate --schema-dir "$work/schemas" --cluster dev-laptop --label environment=dev "$fleet") || {
  echo "example fleet should validate cleanly:"; echo "$out"; exit 1; }
echo "$out"
[[ "$out" == *"0 errors, 0 warnings"* ]]

cp -r "$fleet" "$work/broken"
# A typo'd field and a string where the API wants an integer. (Not in
# /spec/replicas: the RSP web-rsp.yaml replaces it on every registry cluster.)
sed -i '0,/      replicas: 2/s//      replicas: 2\n      replica: 3/' "$work/broken/apps/shop/web-deployment.yaml"
sed -i 's/^      revisionHistoryLimit: 5$/      revisionHistoryLimit: "5"/' "$work/broken/apps/shop/web-deployment.yaml"
sed -i 's/^      schedule: .*/      schedule: 42/' "$work/broken/apps/shop/web-uploads-backup.yaml"
set +e
out=$("$gitfed" validate --schema-dir "$work/schemas" "$work/broken")
status=$?
set -e
echo "$out"
[[ $status == 2 ]] || { echo "expected exit 2, got $status"; exit 1; }
grep -q 'apps/shop/web-deployment.yaml:1: error: Deployment shop/web: /spec/replica: unknown field "replica"' <<<"$out"
grep -q 'apps/shop/web-deployment.yaml:1: error: Deployment shop/web: /spec/revisionHistoryLimit: must be an integer, not string (clusters: all clusters)' <<<"$out"
grep -q 'apps/shop/web-uploads-backup.yaml:3: error: BackupSchedule shop/web-uploads: /spec/schedule: must be a string, not integer' <<<"$out"
echo "ok"
