#!/usr/bin/env bash
# A ServiceAccount whose RBAC allows one namespace only, with a token from the
# TokenRequest API, is allowed there and denied elsewhere.
source "$(dirname "$0")/common.sh"
ns="$(fresh_namespace)"
other="$(fresh_namespace)"
run "ServiceAccount created" -- k create serviceaccount agent -n "$ns"
run "Role created" -- k create role cm-editor -n "$ns" --verb=get,list,create,update,patch,delete --resource=configmaps
run "RoleBinding created" -- k create rolebinding agent-cm -n "$ns" --role=cm-editor --serviceaccount="$ns:agent"
token="$(k create token agent -n "$ns" --duration=10m)" || fail "TokenRequest failed"
[[ "$token" == *.*.* ]] || fail "TokenRequest returned no JWT"
ok "token from the TokenRequest API"
sa=(timeout 60 kubectl --server "$GITFED_TEST_APISERVER" --certificate-authority "$GITFED_TEST_KUBE_CA" --token "$token" --kubeconfig /dev/null --request-timeout=30s)
run "whoami is the ServiceAccount" -- bash -c "$(printf '%q ' "${sa[@]}") auth whoami -o jsonpath='{.status.userInfo.username}' | grep -qx system:serviceaccount:$ns:agent"
run "allowed: create a ConfigMap in its namespace" -- "${sa[@]}" create configmap c1 -n "$ns" --from-literal=a=b
run "allowed: list ConfigMaps in its namespace" -- "${sa[@]}" get configmaps -n "$ns"
refuse "denied: ConfigMaps in another namespace" 'Forbidden|forbidden' -- "${sa[@]}" get configmaps -n "$other"
refuse "denied: create in another namespace" 'Forbidden|forbidden' -- "${sa[@]}" create configmap c1 -n "$other" --from-literal=a=b
refuse "denied: Secrets in its own namespace" 'Forbidden|forbidden' -- "${sa[@]}" get secrets -n "$ns"
refuse "denied: cluster-scoped Namespaces" 'Forbidden|forbidden' -- "${sa[@]}" get namespaces
refuse "denied: a wrong token" 'Unauthorized|must be logged in' -- \
  timeout 60 kubectl --server "$GITFED_TEST_APISERVER" --certificate-authority "$GITFED_TEST_KUBE_CA" --token "x${token}" --kubeconfig /dev/null get configmaps -n "$ns"
run "static admin token works" -- timeout 60 kubectl --server "$GITFED_TEST_APISERVER" --certificate-authority "$GITFED_TEST_KUBE_CA" --token "$GITFED_TEST_KUBE_TOKEN" --kubeconfig /dev/null get namespaces
run "TLS verified with the cluster CA (curl)" -- curl -fsS --max-time 10 --cacert "$GITFED_TEST_KUBE_CA" -H "Authorization: Bearer $GITFED_TEST_KUBE_TOKEN" "$GITFED_TEST_APISERVER/version"
refuse "TLS refused without the cluster CA" 'certificate|SSL' -- curl -sS --max-time 10 "$GITFED_TEST_APISERVER/version"
k delete namespace "$ns" "$other" --wait=false >/dev/null
done_ok
