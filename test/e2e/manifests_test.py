#!/usr/bin/env python3
"""manifests/: every variant builds with `kubectl kustomize`, is accepted by a
real API server (`kubectl apply -k --server-side --dry-run=server`, which
also gives the objects as JSON), and has what the issue asks of it: a
non-root pod with a read-only root filesystem, all capabilities dropped,
RuntimeDefault seccomp, requests and limits, probes; the Lease and Events RBAC in
gitfed-system only; 2 replicas for the Deployment; no cluster-wide binding in
the restricted variant; a config file the agent accepts. The monitoring
component, in the overlay test/monitoring/overlay (manifests/deployment with
components/monitoring), is dry-run the same way with the Prometheus
Operator's real CRDs installed (test/env/operator-crds fetches them as a Go
module): it adds exactly a ServiceMonitor that selects the agent's Service
and port, a PrometheusRule and the dashboard's ConfigMap. (The e2e suite
applies manifests/deployment for real and runs agents with its
ServiceAccount's token.)

usage: manifests_test.py GITFED_BINARY KUBECONFIG
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
checks = 0


def ok(msg):
    global checks
    checks += 1
    print("ok %d - %s" % (checks, msg))


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def require(cond, msg):
    if not cond:
        fail(msg)
    ok(msg)


def kubectl(kubeconfig, *args, input=None):
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    r = subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "--request-timeout=30s"] + list(args),
                       capture_output=True, text=True, input=input, env=env, timeout=120)
    if r.returncode != 0:
        fail("kubectl %s: %s" % (" ".join(args), r.stderr.strip()[-1500:]))
    return r.stdout


def check_pod(kind, spec, configmaps):
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"]["labels"]
    require(labels.get("app.kubernetes.io/name") == "gitfed-agent", "%s: pods carry the Service's selector label" % kind)
    require(pod.get("serviceAccountName") == "gitfed-agent", "%s: runs as ServiceAccount gitfed-agent" % kind)
    psc = pod.get("securityContext", {})
    require(psc.get("runAsNonRoot") is True and psc.get("runAsUser", 0) != 0, "%s: pod runs as non-root" % kind)
    require(psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", "%s: RuntimeDefault seccomp" % kind)
    (c,) = pod["containers"]
    sc = c.get("securityContext", {})
    require(sc.get("readOnlyRootFilesystem") is True, "%s: read-only root filesystem" % kind)
    require(sc.get("allowPrivilegeEscalation") is False, "%s: no privilege escalation" % kind)
    require(sc.get("capabilities", {}).get("drop") == ["ALL"] and not sc.get("capabilities", {}).get("add"),
            "%s: all capabilities dropped" % kind)
    res = c.get("resources", {})
    require(all(k in res.get("requests", {}) for k in ("cpu", "memory")) and "memory" in res.get("limits", {}),
            "%s: cpu/memory requests and a memory limit (%s)" % (kind, res))
    require(c.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/healthz"
            and c.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/readyz", "%s: liveness and readiness probes" % kind)
    require(c["image"] != "gitfed" and ":" in c["image"], "%s: image set (%s)" % (kind, c["image"]))
    require(c["args"][:2] == ["agent", "--config"], "%s: runs `gitfed agent --config ...`" % kind)
    mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    cfg = c["args"][2]
    mount = [m for m in mounts.values() if cfg.startswith(m["mountPath"] + "/")]
    require(len(mount) == 1 and vols[mount[0]["name"]].get("configMap", {}).get("name") in configmaps,
            "%s: %s comes from the generated ConfigMap" % (kind, cfg))
    writable = [m["mountPath"] for m in mounts.values() if not m.get("readOnly") and "emptyDir" in vols[m["name"]]]
    require("/var/cache/gitfed" in writable and "/tmp" in writable, "%s: the cache and /tmp are emptyDirs" % kind)
    env = {e["name"] for e in c.get("env", [])}
    require("POD_NAME" in env, "%s: POD_NAME (the Lease identity) from the downward API" % kind)


def dry_run(kubeconfig, d):
    out = kubectl(kubeconfig, "apply", "-k", d, "--server-side", "--dry-run=server", "-o", "json")
    objs = json.loads(out)
    return objs["items"] if objs.get("kind") == "List" else [objs]


MONITORING_CRDS = ("servicemonitors.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com")


def check_monitoring(kubeconfig):
    crds = subprocess.run([os.path.join(ROOT, "test", "env", "operator-crds")], capture_output=True, text=True,
                          timeout=600)
    if crds.returncode != 0:
        fail("test/env/operator-crds: " + crds.stderr.strip()[-1500:])
    for f in crds.stdout.split():
        kubectl(kubeconfig, "apply", "--server-side", "-f", f)
    kubectl(kubeconfig, "wait", "--for=condition=Established", "--timeout=60s",
            *["customresourcedefinition/" + c for c in MONITORING_CRDS])
    # Left installed: the fixture's cluster lives for one ctest run, and
    # deleting them would race a second run's install.
    ok("the Prometheus Operator's ServiceMonitor and PrometheusRule CRDs installed")
    overlay = os.path.join(ROOT, "test", "monitoring", "overlay")
    items = dry_run(kubeconfig, overlay)
    ok("monitoring: the API server accepts all %d objects of the overlay (server-side apply, dry run)" % len(items))
    key = lambda o: (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])
    base = {key(o) for o in dry_run(kubeconfig, os.path.join(ROOT, "manifests", "deployment"))}
    added = sorted(key(o) for o in items if key(o) not in base)
    require(added == [("ConfigMap", "gitfed-system", "gitfed-dashboard"),
                      ("PrometheusRule", "gitfed-system", "gitfed-agent"),
                      ("ServiceMonitor", "gitfed-system", "gitfed-agent")],
            "monitoring: the component adds a ServiceMonitor, a PrometheusRule and the dashboard (%s)" % added)
    by = {key(o): o for o in items}
    svc = by[("Service", "gitfed-system", "gitfed-agent")]
    sm = by[("ServiceMonitor", "gitfed-system", "gitfed-agent")]
    selector = sm["spec"]["selector"]["matchLabels"]
    require(selector and all(svc["metadata"].get("labels", {}).get(k) == v for k, v in selector.items()),
            "monitoring: the ServiceMonitor selects the agent's Service (%s)" % selector)
    ports = {p.get("name") for p in svc["spec"]["ports"]}
    require([e["port"] for e in sm["spec"]["endpoints"]] == ["http"] and "http" in ports
            and sm["spec"]["endpoints"][0].get("path", "/metrics") == "/metrics",
            "monitoring: it scrapes /metrics on the Service's port http")
    rule = by[("PrometheusRule", "gitfed-system", "gitfed-agent")]
    alerts = [r["alert"] for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]
    require(len(alerts) >= 7, "monitoring: the PrometheusRule holds %d alerts" % len(alerts))
    cm = by[("ConfigMap", "gitfed-system", "gitfed-dashboard")]
    require(cm["metadata"].get("labels", {}).get("grafana_dashboard") == "1",
            "monitoring: the dashboard's ConfigMap carries the sidecar's label grafana_dashboard: \"1\"")
    source = os.path.join(ROOT, "manifests", "components", "monitoring", "gitfed-dashboard.json")
    require(list(cm["data"]) == ["gitfed-dashboard.json"] and json.loads(cm["data"]["gitfed-dashboard.json"])
            == json.load(open(source)), "monitoring: it holds gitfed-dashboard.json as generated from the component")


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    binary, kubeconfig = sys.argv[1], sys.argv[2]
    if not os.access(binary, os.X_OK):
        print("%s not built" % binary)
        return 77
    # A server-side dry run creates nothing: the namespaces the objects go to
    # must exist (gitfed-system; shop and payments for the restricted variant).
    for ns in ("gitfed-system", "shop", "payments"):
        kubectl(kubeconfig, "apply", "-f", "-", input='{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"%s"}}' % ns)
    for variant in ("deployment", "daemonset", "restricted"):
        d = os.path.join(ROOT, "manifests", variant)
        built = kubectl(kubeconfig, "kustomize", d)
        require(built.count("\nkind: ") + built.startswith("kind: ") >= 10, "%s: kubectl kustomize builds it" % variant)
        items = dry_run(kubeconfig, d)
        ok("%s: the API server accepts all %d objects (server-side apply, dry run)" % (variant, len(items)))
        by = {}
        for o in items:
            by.setdefault(o["kind"], []).append(o)
        ns = [o for o in by.get("Namespace", []) if o["metadata"]["name"] == "gitfed-system"]
        require(ns and ns[0]["metadata"]["labels"].get("pod-security.kubernetes.io/enforce") == "restricted",
                "%s: Namespace gitfed-system enforces the restricted Pod Security profile" % variant)
        lease_roles = [o for o in by.get("Role", []) + by.get("ClusterRole", [])
                       if any("leases" in r.get("resources", []) for r in o.get("rules", []))]
        require([(o["kind"], o["metadata"].get("namespace")) for o in lease_roles] == [("Role", "gitfed-system")],
                "%s: Lease rights only in gitfed-system (a Role)" % variant)
        event_rules = [(o["kind"], o["metadata"].get("namespace"), r.get("apiGroups"), r.get("verbs"))
                       for o in by.get("Role", []) + by.get("ClusterRole", []) for r in o.get("rules", [])
                       if "events" in r.get("resources", [])]
        require(event_rules == [("Role", "gitfed-system", [""], ["create", "patch"])],
                "%s: Events: create and patch in gitfed-system only (a Role): %r" % (variant, event_rules))
        configmaps = [o["metadata"]["name"] for o in by.get("ConfigMap", [])]
        require(len(configmaps) == 1 and configmaps[0].startswith("gitfed-config-"), "%s: one generated ConfigMap" % variant)
        cm = by["ConfigMap"][0]
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            f.write(cm["data"]["config.yaml"])
            f.flush()
            r = subprocess.run([binary, "agent", "--print-config", "--config", f.name], capture_output=True, text=True)
            require(r.returncode == 0 and json.loads(r.stdout)["leaderElection"]["enabled"],
                    "%s: gitfed agent accepts the shipped config.yaml %s" % (variant, r.stderr.strip()))
        require(any(o["metadata"]["name"] == "gitfed-git-credentials" for o in by.get("Secret", [])),
                "%s: the example credentials Secret" % variant)
        workload = by.get("Deployment", []) + by.get("DaemonSet", [])
        require(len(workload) == 1, "%s: one workload (%s)" % (variant, workload[0]["kind"] if workload else "none"))
        w = workload[0]
        check_pod(variant, w["spec"], configmaps)
        if w["kind"] == "Deployment":
            require(w["spec"]["replicas"] == 2, "%s: 2 replicas (leader + standby)" % variant)
        crbs = [o["metadata"]["name"] for o in by.get("ClusterRoleBinding", [])]
        if variant == "restricted":
            require(crbs == [], "restricted: no ClusterRoleBinding")
            rbs = sorted(o["metadata"]["namespace"] for o in by.get("RoleBinding", [])
                         if o["roleRef"]["name"] == "gitfed-agent")
            require(rbs == ["payments", "shop"], "restricted: gitfed-agent bound in shop and payments only")
        else:
            require(crbs == ["gitfed-agent"], "%s: the documented full-cluster ClusterRoleBinding" % variant)
            (cr,) = [o for o in by["ClusterRole"] if o["metadata"]["name"] == "gitfed-agent"]
            # The apply verbs on everything; beyond them only what tenants
            # need (docs/render-spec.md section 10): bind the built-in roles
            # admin/edit/view, impersonate the tenants' gitfed-tenant accounts.
            wide = [r for r in cr["rules"] if not r.get("resourceNames")]
            verbs = sorted({v for r in wide for v in r["verbs"]})
            require(verbs == ["create", "delete", "get", "list", "patch", "update", "watch"],
                    "%s: ClusterRole verbs are the apply verbs only (no impersonate/escalate/bind)" % variant)
            named = sorted((tuple(r.get("apiGroups", [])), tuple(r["resources"]), tuple(r["verbs"]),
                            tuple(sorted(r["resourceNames"]))) for r in cr["rules"] if r.get("resourceNames"))
            require(named == [(("",), ("serviceaccounts",), ("impersonate",), ("gitfed-tenant",)),
                              (("rbac.authorization.k8s.io",), ("clusterroles",), ("bind",), ("admin", "edit", "view"))],
                    "%s: tenants: bind admin/edit/view and impersonate gitfed-tenant only (by name)" % variant)
    check_monitoring(kubeconfig)
    print("manifests: %d checks passed" % checks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
