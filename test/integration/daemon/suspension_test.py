#!/usr/bin/env python3
"""Cluster suspension against a real kube-apiserver (agent/daemon/README.md,
"Suspension"; docs/status-spec.md, "Suspended clusters"): a live `gitfed
agent` (1 s polls, per-cluster status ref and the status branch in the same
file:// repository, its inventory namespace a test namespace of its own, so
the ConfigMap gitfed-suspend of this test suspends no other agent):

  A  the registry suspends the cluster; ConfigMap web, ConfigMap old
       -> nothing applied; report: sync.suspended {by: Cluster C (clusters.yaml:N), reason},
          message "suspended by ...: nothing applied, nothing pruned; 2 would change"
  B  the registry's suspend removed   -> web and old applied; report not suspended
  ConfigMap gitfed-suspend created (data.reason)
  C  web changed, old removed from Git -> live web unchanged, old not pruned, report suspended
                                          by the ConfigMap, appliedRevision still B
     web edited by hand                 -> not healed while suspended
  ConfigMap gitfed-suspend deleted   -> resumed: web as in C, old pruned, appliedRevision C

`gitfed status` shows the row SUSPENDED, its JSON `suspended`, and the
cluster view a `suspended` line, while suspended; none of it after.

usage: suspension_test.py GITFED_BINARY   (ctest: integration.daemon.suspension)
"""
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

# The agent polls every 1 s and a round here takes well under a second; 60 s
# is the same generous bound the events test uses for one round to land.
ROUND = 60


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    binary = sys.argv[1]
    if not os.access(binary, os.X_OK):
        print("%s not built" % binary)
        return 77
    import yaml  # python3-yaml (scripts/setup)
    admin_kubeconfig = os.environ["GITFED_TEST_KUBECONFIG"]
    tag = "%d-%d" % (os.getpid(), int(time.time()) % 100000)
    ns = "gitfed-sus-" + tag            # the applied objects, the inventory and gitfed-suspend
    cluster = "sus-" + tag
    kenv = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    kubectl = ["kubectl", "--kubeconfig", admin_kubeconfig, "--request-timeout=30s"]
    work = tempfile.mkdtemp(prefix="gitfed-sus-")
    agent = None
    try:
        run(kubectl + ["create", "namespace", ns], env=kenv)
        repo = Repo(work)

        def registry(suspend):
            spec = "spec:\n  suspend: true\n  suspendReason: maintenance OPS-42\n" if suspend else ""
            return ("# the fleet's clusters\napiVersion: gitfed.io/v1alpha1\nkind: Cluster\n"
                    "metadata:\n  name: %s\n  labels: {env: test}\n%s" % (cluster, spec))

        def configmap(name, value):
            return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: %s}\ndata: {k: %s}\n" % (name, ns, value)

        def live_value(name):
            r = run(kubectl + ["-n", ns, "get", "configmap", name, "-o", "json"], check=False, env=kenv)
            if r.returncode != 0:
                require("NotFound" in r.stderr, "kubectl get configmap %s: %s" % (name, r.stderr.strip()))
                return None
            return json.loads(r.stdout)["data"]["k"]

        def report():
            text = repo.show("refs/gitfed/status/%s:report.yaml" % cluster)
            return yaml.safe_load(text) if text else None

        def report_of(revision, pred=lambda r: True):
            agent.alive()
            r = report()
            return r if r and r["source"]["revision"] == revision and pred(r) else None

        def status(*args):
            return run([binary, "status", "--stale-after", "1h", *args, repo.url]).stdout

        rev_a = repo.commit({"clusters.yaml": registry(True), "web.yaml": configmap("web", "a"),
                             "old.yaml": configmap("old", "a")}, "A: suspended from Git")
        config = os.path.join(work, "config.yaml")
        with open(config, "w") as f:
            f.write("cluster: %s\nrepository: {url: '%s', ref: main}\n" % (cluster, repo.url))
            f.write("interval: 1s\ndriftInterval: 1s\nretryMin: 1s\nretryMax: 2s\n")
            f.write("inventory: {id: %s, namespace: %s}\n" % (cluster, ns))
            f.write("leaderElection: {identity: sus-agent-%s, leaseNamespace: %s}\n" % (tag, ns))
            f.write("kube: {kubeconfig: '%s'}\n" % admin_kubeconfig)
            f.write("httpAddress: 'off'\ncacheDir: '%s'\nlogFormat: json\nlogLevel: debug\n" % os.path.join(work, "cache"))
        agent = Agent(binary, config, os.path.join(work, "agent.log"))

        # ---- A: suspended from Git
        ra = wait_for("the report of revision A", lambda: report_of(rev_a), ROUND)
        by_git = "Cluster %s (clusters.yaml:2)" % cluster  # the entry's first line, after the comment
        require(ra["sync"].get("suspended") == {"by": by_git, "reason": "maintenance OPS-42"},
                "A: sync.suspended %r" % ra["sync"].get("suspended"))
        require(ra["sync"]["message"].startswith(
            "suspended by %s (maintenance OPS-42): nothing applied, nothing pruned; " % by_git)
                and "2 would change" in ra["sync"]["message"], "A: message %r" % ra["sync"]["message"])
        require(ra["sync"].get("appliedRevision", "") in ("", None), "A: nothing applied yet: appliedRevision %r"
                % ra["sync"].get("appliedRevision"))
        require(live_value("web") is None and live_value("old") is None, "A: neither ConfigMap exists in the cluster")
        table = status()
        row = [line for line in table.splitlines() if line.startswith(cluster + " ")]
        require(len(row) == 1 and "SUSPENDED" in row[0], "A: gitfed status marks the row: %r" % row)
        rows = json.loads(status("--output", "json"))
        mine = [r for r in rows["clusters"] if r["name"] == cluster] if isinstance(rows, dict) else []
        require(len(mine) == 1 and mine[0]["suspended"] == {"by": by_git, "reason": "maintenance OPS-42"},
                "A: gitfed status --output json: suspended %r" % (mine[0]["suspended"] if mine else rows))
        view = status("--cluster", cluster)
        require("  suspended    by %s (maintenance OPS-42)\n" % by_git in view,
                "A: gitfed status --cluster shows who suspended it")
        logged = [l for l in agent.lines() if l.get("suspendedBy") == by_git]
        require(logged, "A: the agent's log says who suspended the cluster")

        # ---- B: resumed from Git
        rev_b = repo.commit({"clusters.yaml": registry(False)}, "B: resumed")
        rb = wait_for("the applied report of revision B",
                      lambda: report_of(rev_b, lambda r: r["sync"].get("appliedRevision") == rev_b), ROUND)
        require("suspended" not in rb["sync"] and rb["sync"]["phase"] == "Synced",
                "B: not suspended, phase Synced: %r" % rb["sync"]["message"])
        require(live_value("web") == "a" and live_value("old") == "a", "B: web and old applied")

        # ---- suspended from the cluster
        run(kubectl + ["-n", ns, "create", "configmap", "gitfed-suspend", "--from-literal=reason=node upgrade"], env=kenv)
        by_cm = "ConfigMap %s/gitfed-suspend" % ns
        rev_c = repo.commit({"web.yaml": configmap("web", "c"), "old.yaml": None}, "C: web changed, old removed")
        rc = wait_for("the suspended report of revision C",
                      lambda: report_of(rev_c, lambda r: r["sync"].get("suspended")), ROUND)
        require(rc["sync"]["suspended"] == {"by": by_cm, "reason": "node upgrade"}, "C: suspended by the ConfigMap: %r"
                % rc["sync"]["suspended"])
        require(rc["sync"]["message"].startswith("suspended by %s (node upgrade): nothing applied, nothing pruned; " % by_cm),
                "C: message %r" % rc["sync"]["message"])
        require(rc["sync"]["appliedRevision"] == rev_b and rc["sync"]["phase"] == "Drifted",
                "C: appliedRevision stays B, phase Drifted (resuming would change web and prune old)")
        require(live_value("web") == "a" and live_value("old") == "a", "C: web not updated, old not pruned")
        run(kubectl + ["-n", ns, "patch", "configmap", "web", "--type=merge", "-p", '{"data":{"k":"by-hand"}}'], env=kenv)
        # Several rounds (1 s polls, 1 s drift checks) with the hand edit in place.
        seen = len([l for l in agent.lines() if l.get("suspendedBy") == by_cm])
        wait_for("three more suspended rounds", lambda: agent.alive() and len(
            [l for l in agent.lines() if l.get("suspendedBy") == by_cm]) >= seen + 3, ROUND)
        require(live_value("web") == "by-hand" and live_value("old") == "a",
                "C: a hand edit is not healed while suspended, old still there")

        # ---- resumed from the cluster
        run(kubectl + ["-n", ns, "delete", "configmap", "gitfed-suspend"], env=kenv)
        rr = wait_for("the applied report of revision C",
                      lambda: report_of(rev_c, lambda r: r["sync"].get("appliedRevision") == rev_c), ROUND)
        require("suspended" not in rr["sync"], "resumed: the report is not suspended: %r" % rr["sync"]["message"])
        require(live_value("web") == "c" and live_value("old") is None, "resumed: web as in C, old pruned")
        resumed = [l for l in agent.lines() if l.get("reason") == "resumed"]
        require(resumed, "resumed: the agent's log gives the round's reason 'resumed'")
        table = status()
        row = [line for line in table.splitlines() if line.startswith(cluster + " ")]
        require(len(row) == 1 and "SUSPENDED" not in row[0], "resumed: gitfed status row %r" % row)
        print("suspension: %d checks passed" % live.checks)
        return 0
    finally:
        if agent:
            agent.stop()
            if sys.exc_info()[0] is not None:
                print(open(agent.log).read()[-4000:])
        subprocess.run(kubectl + ["delete", "namespace", ns, "--wait=false"], capture_output=True, env=kenv, timeout=60)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
