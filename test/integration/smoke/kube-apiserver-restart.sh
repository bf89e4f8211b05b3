#!/usr/bin/env bash
# The cluster survives an apiserver restart: stop it (clients get connection
# refused), start it again on the same port, and the data and controllers are
# still there. Runs alone (RUN_SERIAL): it takes the API away from others.
source "$(dirname "$0")/common.sh"
svc="$(dirname "$0")/../../env/service"
ns="$(fresh_namespace)"
run "ConfigMap before the outage" -- k create configmap before -n "$ns" --from-literal=k=v
run "apiserver stopped" -- "$svc" "$GITFED_TEST_KUBE_DIR" apiserver stop
refuse "API unreachable during the outage" 'connection refused|Unable to connect|was refused' -- \
  timeout 30 kubectl --kubeconfig "$GITFED_TEST_KUBECONFIG" --request-timeout=5s get configmaps -n "$ns"
start=$(date +%s%N)
run "apiserver started again" -- "$svc" "$GITFED_TEST_KUBE_DIR" apiserver start 60
echo "apiserver back in $(( ($(date +%s%N) - start) / 1000000 )) ms"
run "data survived" -- k get configmap before -n "$ns"
run "writes work" -- k create configmap after -n "$ns" --from-literal=k=v
# Controllers, scheduler and kwok reconnect by themselves.
run "default ServiceAccount appears" -- bash -c "for i in \$(seq 150); do kubectl --kubeconfig $GITFED_TEST_KUBECONFIG get sa default -n $ns >/dev/null 2>&1 && exit 0; sleep 0.2; done; exit 1"
run "a Deployment becomes Available after the restart" -- \
  bash -c "kubectl --kubeconfig $GITFED_TEST_KUBECONFIG create deployment web -n $ns --image=registry.invalid/web:1 >/dev/null && kubectl --kubeconfig $GITFED_TEST_KUBECONFIG wait -n $ns deploy/web --for=condition=Available --timeout=90s"
# A crash of etcd (SIGKILL) and its restart: the data is still there.
run "etcd killed" -- "$svc" "$GITFED_TEST_KUBE_DIR" etcd kill
run "etcd started again" -- "$svc" "$GITFED_TEST_KUBE_DIR" etcd start 60
run "apiserver ready again" -- "$svc" "$GITFED_TEST_KUBE_DIR" apiserver wait 60
run "data survived the etcd crash" -- k get configmap after -n "$ns"
run "all components serve" -- bash -c "for s in etcd apiserver controller-manager scheduler kwok; do $svc $GITFED_TEST_KUBE_DIR \$s status || { echo \$s down; exit 1; }; done"
k delete namespace "$ns" --wait=false >/dev/null
done_ok
