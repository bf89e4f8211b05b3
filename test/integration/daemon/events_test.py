#!/usr/bin/env python3
"""The agent's Kubernetes Events against a real kube-apiserver
(agent/daemon/README.md, "Events"): a live `gitfed agent` (leader election,
1 s polls) with a ServiceAccount token holding exactly the Roles of
manifests/base (copied under names of their own, so the shipped rules are
what is tested: events create and patch) and `admin` in its test namespace,
syncing a file:// repository through four commits:

  A  a ConfigMap and a Secret          -> Normal Applied "revision A: 2 created; 2 objects"
     (then idle polls: no new Event)
  B  a file that does not parse        -> Warning RenderFailed "... at bad.yaml:N", its count
                                          growing with the retries (one Event, not one per round)
  C  fixed; the Secret's value changed; a ConfigMap the API server refuses
                                       -> Warning SyncFailed naming the object

Then every Event about the agent's inventory ConfigMap in gitfed-system is
checked for type, reason, message, count, source and involved object (its
uid: `kubectl describe` lists them), and no Event of the namespace holds
either Secret value (as written or base64).

usage: events_test.py GITFED_BINARY MANIFESTS_BASE_DIR   (ctest: integration.daemon.events)
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import live  # noqa: E402
from live import Agent, Repo, require, run, wait_for  # noqa: E402

def yaml_docs(path):
    """The documents of one of manifests/base's RBAC files."""
    import yaml  # python3-yaml (scripts/setup)
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    binary, base = sys.argv[1], sys.argv[2]
    if not os.access(binary, os.X_OK):
        print("%s not built" % binary)
        return 77
    admin_kubeconfig = os.environ["GITFED_TEST_KUBECONFIG"]
    tag = "%d-%d" % (os.getpid(), int(time.time()) % 100000)
    ns = "gitfed-ev-" + tag            # the objects the agent applies, and its ServiceAccount
    inventory = "ev-" + tag
    involved = "gitfed-inventory-" + inventory
    secret1, secret2 = "ev-s3cr3t-%s-one" % tag, "ev-s3cr3t-%s-two" % tag
    kenv = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    kubectl = ["kubectl", "--kubeconfig", admin_kubeconfig, "--request-timeout=30s"]
    work = tempfile.mkdtemp(prefix="gitfed-ev-")
    made = []  # (kind, namespace, name) to delete at the end
    agent = None
    try:
        # ---- the agent's identity: the shipped Roles, nothing else in gitfed-system
        run(kubectl + ["create", "namespace", ns], env=kenv)
        r = run(kubectl + ["create", "namespace", "gitfed-system"], check=False, env=kenv)
        require(r.returncode == 0 or "AlreadyExists" in r.stderr, "namespace gitfed-system exists")
        run(kubectl + ["-n", ns, "create", "serviceaccount", "agent"], env=kenv)
        roles = []
        for f in sorted(os.listdir(base)):
            if f.endswith("-rbac.yaml"):
                roles += [d for d in yaml_docs(os.path.join(base, f)) if d["kind"] == "Role"]
        require(any(any("events" in r.get("resources", []) for r in role["rules"]) for role in roles),
                "manifests/base has a Role for events (%s)" % ", ".join(r["metadata"]["name"] for r in roles))
        objects = []
        for role in roles:
            name = "%s-%s" % (role["metadata"]["name"], tag)
            objects.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                            "metadata": {"name": name, "namespace": "gitfed-system"}, "rules": role["rules"]})
            objects.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                            "metadata": {"name": name, "namespace": "gitfed-system"},
                            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                            "subjects": [{"kind": "ServiceAccount", "name": "agent", "namespace": ns}]})
            made += [("role", "gitfed-system", name), ("rolebinding", "gitfed-system", name)]
        run(kubectl + ["apply", "-f", "-"], input=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}), env=kenv)
        run(kubectl + ["-n", ns, "create", "rolebinding", "agent-admin", "--clusterrole=admin",
                       "--serviceaccount=%s:agent" % ns], env=kenv)
        token = run(kubectl + ["-n", ns, "create", "token", "agent", "--duration=1h"], env=kenv).stdout.strip()
        server = run(kubectl + ["config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}"], env=kenv).stdout
        sa_kubeconfig = os.path.join(work, "agent.kubeconfig")
        with open(sa_kubeconfig, "w") as f:
            json.dump({"apiVersion": "v1", "kind": "Config", "current-context": "agent",
                       "clusters": [{"name": "c", "cluster": {"server": server,
                                                               "certificate-authority": os.environ["GITFED_TEST_KUBE_CA"]}}],
                       "users": [{"name": "agent", "user": {"token": token}}],
                       "contexts": [{"name": "agent", "context": {"cluster": "c", "user": "agent", "namespace": ns}}]}, f)
        sa = "system:serviceaccount:%s:agent" % ns
        can = lambda *q: run(kubectl + ["auth", "can-i", *q, "--as", sa], check=False, env=kenv).stdout.strip() == "yes"
        require(can("create", "events", "-n", "gitfed-system") and can("patch", "events", "-n", "gitfed-system")
                and not can("list", "events", "-n", "gitfed-system") and not can("delete", "events", "-n", "gitfed-system"),
                "the agent may create and patch events in gitfed-system, not list or delete them")

        # ---- the repository
        repo = Repo(work)
        bare, commit = repo.bare, repo.commit

        def secret(value):
            return ("apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: %s}\n"
                    "stringData: {password: %s}\n" % (ns, value))
        web = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web, namespace: %s}\ndata: {k: v}\n" % ns
        rev_a = commit({"web.yaml": web, "secret.yaml": secret(secret1)}, "web and db")

        config = os.path.join(work, "config.yaml")
        with open(config, "w") as f:
            f.write("cluster: ev-test\nrepository: {url: 'file://%s', ref: main}\n" % bare)
            f.write("interval: 1s\ndriftInterval: 10m\nretryMin: 1s\nretryMax: 2s\n")
            f.write("inventory: {id: %s}\n" % inventory)  # in gitfed-system, the default
            f.write("leaderElection: {identity: ev-agent-%s}\n" % tag)
            f.write("status: {enabled: false}\n")
            f.write("kube: {kubeconfig: '%s'}\n" % sa_kubeconfig)
            f.write("httpAddress: 'off'\ncacheDir: '%s'\nlogFormat: json\nlogLevel: debug\n" % os.path.join(work, "cache"))
        agent = Agent(binary, config, os.path.join(work, "agent.log"))

        def events():
            out = run(kubectl + ["-n", "gitfed-system", "get", "events", "-o", "json",
                                 "--field-selector", "involvedObject.name=" + involved], env=kenv).stdout
            return sorted(json.loads(out)["items"], key=lambda e: e["metadata"]["creationTimestamp"] + e["metadata"]["name"])

        def by_reason(reason, revision):
            agent.alive()
            return [e for e in events() if e["reason"] == reason and e["message"].startswith("revision " + revision[:12])]

        # ---- A: applied
        (applied,) = wait_for("the Applied event of revision A", lambda: by_reason("Applied", rev_a), 60)
        require(applied["type"] == "Normal" and applied["message"] == "revision %s: 2 created; 2 objects" % rev_a[:12],
                "A: Normal Applied %r" % applied["message"])
        require(applied["count"] == 1 and applied["source"] == {"component": "gitfed-agent", "host": "ev-agent-" + tag}
                and applied["reportingComponent"] == "gitfed-agent", "A: count 1, source gitfed-agent on ev-agent-" + tag)
        inv = json.loads(run(kubectl + ["-n", "gitfed-system", "get", "configmap", involved, "-o", "json"], env=kenv).stdout)
        io = applied["involvedObject"]
        require(io == {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "gitfed-system", "name": involved,
                       "uid": inv["metadata"]["uid"]}, "A: about the inventory ConfigMap, with its uid: %r" % io)
        described = run(kubectl + ["-n", "gitfed-system", "describe", "configmap", involved], env=kenv).stdout
        require("Applied" in described and "2 created" in described, "kubectl describe configmap %s lists it" % involved)
        rounds = lambda: [l for l in agent.lines() if l.get("msg") == "reconciled"]
        n = len(rounds())
        time.sleep(4)  # four idle polls
        require(len(events()) == 1 and events()[0]["count"] == 1,
                "4 s of idle polls (and %d unchanged sync rounds) write nothing" % (len(rounds()) - n))

        # ---- B: a render error, retried
        rev_b = commit({"bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad, namespace: [\n"}, "broken")
        (failed,) = wait_for("the RenderFailed event of revision B counting a retry",
                             lambda: [e for e in by_reason("RenderFailed", rev_b) if e["count"] >= 2], 60)
        require(failed["type"] == "Warning" and failed["message"].startswith(
            "revision %s not applied: 1 render error at bad.yaml:" % rev_b[:12]), "B: Warning RenderFailed %r" % failed["message"])
        require(len(by_reason("RenderFailed", rev_b)) == 1 and failed["lastTimestamp"] >= failed["firstTimestamp"],
                "B: the retries are one Event counting them (count %d)" % failed["count"])

        # ---- C: fixed, the Secret changed, one object refused by the API server
        refused = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: refused, namespace: %s}\ndata: {'bad key!': v}\n" % ns
        rev_c = commit({"bad.yaml": None, "secret.yaml": secret(secret2), "refused.yaml": refused}, "fix, new password, refused")
        (sync_failed,) = wait_for("the SyncFailed event of revision C", lambda: by_reason("SyncFailed", rev_c), 60)
        m = sync_failed["message"]
        require(sync_failed["type"] == "Warning"
                and m.startswith("revision %s: 1 object failed (ConfigMap %s/refused)" % (rev_c[:12], ns))
                and "1 updated" in m and m.endswith("; 3 objects"), "C: Warning SyncFailed %r" % m)

        # ---- the whole picture, and no Secret value anywhere
        agent.stop()
        agent_lines = agent.lines()
        agent = None
        mine = events()
        require(sorted((e["type"], e["reason"]) for e in mine)
                == [("Normal", "Applied"), ("Warning", "RenderFailed"), ("Warning", "SyncFailed")],
                "gitfed-system holds exactly these Events about %s: %s" % (involved, [(e["reason"], e["count"]) for e in mine]))
        require(all(len(e["message"]) <= 1024 and "\n" not in e["message"] for e in mine), "short one-line messages")
        unwritten = [l for l in agent_lines if l.get("msg") == "event not written"]
        require(not unwritten, "every create and count patch was allowed by the shipped Role: %r" % unwritten[:2])
        everything = run(kubectl + ["get", "events", "-A", "-o", "json"], env=kenv).stdout
        table = run(kubectl + ["-n", "gitfed-system", "get", "events"], env=kenv).stdout
        for value in (secret1, secret2):
            for form in (value, base64.b64encode(value.encode()).decode()):
                require(form not in everything and form not in table, "no Event holds the Secret value %s..." % form[:6])
        require("RenderFailed" in table and "SyncFailed" in table, "kubectl get events -n gitfed-system shows them")
        print("events: %d checks passed" % live.checks)
        return 0
    finally:
        if agent:
            agent.stop()
            print(open(agent.log).read()[-4000:])
        subprocess.run(kubectl + ["-n", "gitfed-system", "delete", "events", "--field-selector",
                                  "involvedObject.name=" + involved], capture_output=True, env=kenv, timeout=60)
        subprocess.run(kubectl + ["-n", "gitfed-system", "delete", "configmap", involved, "--ignore-not-found"],
                       capture_output=True, env=kenv, timeout=60)
        subprocess.run(kubectl + ["-n", "gitfed-system", "delete", "lease", "gitfed-" + inventory, "--ignore-not-found"],
                       capture_output=True, env=kenv, timeout=60)
        for kind, namespace, name in made:
            subprocess.run(kubectl + ["-n", namespace, "delete", kind, name, "--ignore-not-found"],
                           capture_output=True, env=kenv, timeout=60)
        subprocess.run(kubectl + ["delete", "namespace", ns, "--wait=false"], capture_output=True, env=kenv, timeout=60)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
