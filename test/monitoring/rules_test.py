#!/usr/bin/env python3
"""The PrometheusRule of manifests/components/monitoring, as kustomize builds
it: `promtool check rules` accepts its groups, `promtool test rules` passes
alerts_test.yaml on them, every alert has a case where it fires and one where
it stays silent there, and every alert has a severity, a summary, a
description and a runbook_url whose anchor is a heading of manifests/README.md;
the dashboard's queries are valid PromQL.

usage: rules_test.py [PROMTOOL]
"""
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import assets  # noqa: E402

checks = 0


def require(cond, msg):
    global checks
    if not cond:
        print("FAIL: " + msg)
        sys.exit(1)
    checks += 1
    print("ok %d - %s" % (checks, msg))


def promtool(tool, *args, cwd=None):
    r = subprocess.run([tool] + list(args), capture_output=True, text=True, cwd=cwd, timeout=120)
    return r.returncode, (r.stdout + r.stderr).strip()


def main():
    tool = sys.argv[1] if len(sys.argv) > 1 else shutil.which("promtool")
    if not tool:
        print("promtool not found (Debian's prometheus package: scripts/setup)")
        return 1
    objects = assets.built_objects()
    rule = assets.one(objects, "PrometheusRule")
    rules = assets.alerts(objects)
    names = [r["alert"] for r in rules]
    require(len(names) >= 7 and len(set(names)) == len(names), "%d alerts, named once each: %s" % (len(names), ", ".join(names)))

    anchors = assets.anchors()
    for r in rules:
        a = r["alert"]
        require(r.get("labels", {}).get("severity") in ("critical", "warning", "info"), "%s: a severity" % a)
        ann = r.get("annotations", {})
        require(ann.get("summary") and ann.get("description"), "%s: a summary and a description" % a)
        url = ann.get("runbook_url", "")
        path, _, anchor = url.partition("#")
        require(path.endswith("/manifests/README.md") and anchor in anchors,
                "%s: runbook_url %s is a section of manifests/README.md" % (a, url))

    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "rules.yaml"), "w") as f:
            yaml.safe_dump(rule["spec"], f, sort_keys=False)
        rc, out = promtool(tool, "check", "rules", "rules.yaml", cwd=tmp)
        require(rc == 0, "promtool check rules: %s" % out.replace("\n", " | "))

        tests = yaml.safe_load(open(os.path.join(assets.HERE, "alerts_test.yaml")))
        tests["rule_files"] = ["rules.yaml"]
        with open(os.path.join(tmp, "alerts_test.yaml"), "w") as f:
            yaml.safe_dump(tests, f, sort_keys=False)
        fires, silent = set(), set()
        for t in tests["tests"]:
            for case in t.get("alert_rule_test", []):
                (fires if case.get("exp_alerts") else silent).add(case["alertname"])
        for a in names:
            require(a in fires and a in silent, "%s: a case where it fires and one where it stays silent" % a)
        require(not (fires | silent) - set(names), "the tests name only alerts that exist")
        rc, out = promtool(tool, "test", "rules", "alerts_test.yaml", cwd=tmp)
        if rc != 0:
            print(out)
        require(rc == 0, "promtool test rules: every case passes")

        # The dashboard's queries parse as PromQL: promtool checks them as
        # recording rules (Grafana's $__rate_interval made a plain range).
        _, dash = assets.dashboard(objects)
        queries = [(w, e) for w, e in assets.dashboard_exprs(dash) if not e.startswith("label_values(")]
        recorded = [{"record": "dashboard:query:%d" % i, "expr": e.replace("$__rate_interval", "5m")}
                    for i, (_, e) in enumerate(queries)]
        with open(os.path.join(tmp, "dashboard.yaml"), "w") as f:
            yaml.safe_dump({"groups": [{"name": "dashboard", "rules": recorded}]}, f, sort_keys=False)
        rc, out = promtool(tool, "check", "rules", "dashboard.yaml", cwd=tmp)
        require(rc == 0, "the dashboard's %d queries are valid PromQL (promtool check rules): %s"
                % (len(queries), out.replace("\n", " | ")))
    print("rules: %d checks passed" % checks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
