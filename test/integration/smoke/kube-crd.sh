#!/usr/bin/env bash
# kubectl applies a CRD and a custom resource of it, server-side.
source "$(dirname "$0")/common.sh"
ns="$(fresh_namespace)"
group="smoke$RANDOM.gitfed.test"
cat >"$work/crd.yaml" <<YAML
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.$group
spec:
  group: $group
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, minimum: 1}
YAML
run "CRD applied (server-side)" -- k apply --server-side -f "$work/crd.yaml"
run "CRD established" -- k wait --for=condition=Established --timeout=60s "crd/widgets.$group"
cat >"$work/cr.yaml" <<YAML
apiVersion: $group/v1
kind: Widget
metadata: {name: w1, namespace: $ns}
spec: {size: 3}
YAML
# Discovery of a brand-new group can lag a moment behind Established.
for i in $(seq 50); do k apply --server-side -f "$work/cr.yaml" >/dev/null 2>&1 && break; sleep 0.2; done
run "custom resource applied" -- k apply --server-side -f "$work/cr.yaml"
[[ "$(k get "widgets.$group" w1 -n "$ns" -o jsonpath='{.spec.size}')" == 3 ]] || fail "custom resource not read back"
ok "custom resource read back"
refuse "schema validation rejects size 0" 'Invalid value|should be greater than or equal to 1' -- \
  k patch "widgets.$group" w1 -n "$ns" --type merge -p '{"spec":{"size":0}}'
run "CRD deleted" -- k delete "crd/widgets.$group" --timeout=60s
run "namespace deleted" -- k delete namespace "$ns" --timeout=90s
done_ok
