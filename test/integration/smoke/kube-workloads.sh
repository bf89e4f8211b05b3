#!/usr/bin/env bash
# A Namespace, a Deployment that becomes Available on the kwok node, a Job that
# completes, and the Namespace's deletion finishing.
source "$(dirname "$0")/common.sh"
ns="$(fresh_namespace)"
cat >"$work/w.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: $ns}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: registry.invalid/web:1}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: $ns}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: once, image: registry.invalid/once:1}]
YAML
# Pods need the namespace's "default" ServiceAccount (controller-manager).
run "default ServiceAccount appears" -- bash -c "for i in \$(seq 100); do kubectl --kubeconfig $GITFED_TEST_KUBECONFIG get sa default -n $ns >/dev/null 2>&1 && exit 0; sleep 0.2; done; exit 1"
run "Deployment and Job applied" -- k apply --server-side -f "$work/w.yaml"
run "Deployment Available" -- k wait -n "$ns" deploy/web --for=condition=Available --timeout=60s
[[ "$(k get -n "$ns" deploy/web -o jsonpath='{.status.readyReplicas}')" == 2 ]] || fail "Deployment has not 2 ready replicas"
ok "Deployment has 2 ready replicas"
run "Job Complete" -- k wait -n "$ns" job/once --for=condition=Complete --timeout=60s
start=$(date +%s)
run "Namespace deletion finishes" -- k delete namespace "$ns" --timeout=90s
refuse "Namespace is gone" 'NotFound|not found' -- k get namespace "$ns"
echo "namespace deletion took $(( $(date +%s) - start )) s"
done_ok
